package main

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"github.com/faas-benchmarker/faas-benchmarker/cmd/internal/fbcli"
)

// TestIdleDefaultsFromPlatform: `fbrun experiment idle-timeout --platform
// aws --endpoint URL` takes idle-timeout's defaults from the aws
// descriptor's idle range (min_gap 1 min, not the declared local-scale
// 1 s), on the CLI path and before anything is contacted: a max_gap below
// that start is refused naming it, with exit 2.
func TestIdleDefaultsFromPlatform(t *testing.T) {
	db := filepath.Join(t.TempDir(), "results.db")
	var out, errb bytes.Buffer
	code := fbcli.Run([]string{"fbrun", "--db", db, "experiment", "idle-timeout", "--platform", "aws",
		"--endpoint", "http://127.0.0.1:9", "--set", "max_gap=30s"}, fbcli.Options{Stdout: &out, Stderr: &errb})
	if code != 2 || !strings.Contains(errb.String(), "min_gap 1m0s is longer than max_gap 30s") {
		t.Errorf("exit %d, want 2 and aws's min_gap 1m0s in the refusal:\n%s", code, errb.String())
	}
}

// TestIdleSpreadFitsTimeout: a release spread that the run's function
// timeout (a stack's, the embedded platform's) or the client's --timeout
// would cut is refused (exit 2, one line) before anything starts.
func TestIdleSpreadFitsTimeout(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"existing deployment: the client's 5 min timeout", []string{"--endpoint", "http://127.0.0.1:9", "--set", "max_stagger=10m"},
			"an invocation on this run may take at most 5m0s"},
		{"800 s stack (idle-timeout's default on aws), a 5 min client", []string{"--timeout", "5m", "--set", "max_stagger=10m"},
			"an invocation on this run may take at most 5m0s"},
		{"800 s stack, the client's default follows it", []string{"--set", "max_stagger=13m"},
			"an invocation on this run may take at most 13m20s"},
		{"800 s stack, 15 min client, 14 min spread", []string{"--stack-set", "timeout=800", "--timeout", "15m", "--set", "max_stagger=14m"},
			"an invocation on this run may take at most 13m20s"},
		{"stack with a 30 s timeout", []string{"--stack-set", "timeout=30", "--set", "max_stagger=45s"},
			"probe_sleep + max_stagger = 45.1s: a probe may sleep that long, but an invocation on this run may take at most 30s"},
		{"embedded platform with a 15 min timeout: its invoker's 2 min", []string{"--local-timeout", "900s", "--set", "max_stagger=13m", "--set", "max_time=20s", "--set", "max_probes=10"},
			"an invocation on this run may take at most 2m0s"},
		// (max_time and max_probes bound the run should the check fail.)
		{"embedded platform with a 5 s timeout", []string{"--local-timeout", "5s", "--set", "max_stagger=10s", "--set", "max_time=20s", "--set", "max_probes=10"},
			"an invocation on this run may take at most 5s"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db := filepath.Join(t.TempDir(), "results.db")
			var out, errb bytes.Buffer
			platform := "aws"
			if strings.HasPrefix(tc.args[0], "--local-") {
				platform = "local"
			}
			args := append([]string{"fbrun", "--db", db, "experiment", "idle-timeout", "--platform", platform}, tc.args...)
			code := fbcli.Run(args, fbcli.Options{Stdout: &out, Stderr: &errb})
			if code != 2 || !strings.Contains(errb.String(), tc.want) || strings.Count(strings.TrimSpace(errb.String()), "\n") > 0 {
				t.Errorf("exit %d, want 2 and one line with %q:\n%s", code, tc.want, errb.String())
			}
		})
	}
}
