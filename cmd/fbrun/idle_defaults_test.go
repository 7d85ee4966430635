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
