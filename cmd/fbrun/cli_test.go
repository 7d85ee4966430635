package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/faas-benchmarker/faas-benchmarker/internal/testtools"
	"github.com/faas-benchmarker/faas-benchmarker/results"
)

// fbrunBin is the fbrun binary built once for these tests: the CLI is
// tested as users run it, as a separate process.
var fbrunBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "fbrun-cli-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fbrunBin = filepath.Join(dir, "fbrun")
	if err := buildCLI(dir); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// buildCLI builds fbrun and fbrun-cloud (fbcli.CloudBinary, which managed
// runs, the local-stack platform and studies of it delegate to) into dir.
// Both must carry the same revision: fbrun refuses a fbrun-cloud of another
// build, and a working tree that changes between two builds makes them
// differ ("+dirty" — a stress run saw it). So fbrun, which builds in
// seconds, goes first and fbrun-cloud right after it.
//
// fbrun-cloud links the Pulumi and cloud SDKs. Under go test -race it is
// built with -race too, from the package archives the race build of the
// tests already compiled: a plain build compiled every SDK a second time,
// most of cmd/fbrun's 24 minutes on a fresh machine. fbrun stays a plain
// build: its lab-runtime re-executions are the local platform's instances,
// whose cold starts the tests measure.
//
// -buildvcs=auto: record the revision even where GOFLAGS turns it off, so
// that the build check between fbrun and fbrun-cloud is tested.
func buildCLI(dir string) error {
	out := dir + string(os.PathSeparator)
	cloudFlags := []string{"build", "-buildvcs=auto"}
	if testtools.RaceEnabled {
		cloudFlags = append(cloudFlags, "-race")
	}
	for _, args := range [][]string{
		{"build", "-buildvcs=auto", "-o", out, "."},
		append(cloudFlags, "-o", out, "../fbrun-cloud"),
	} {
		build := exec.Command("go", args...)
		build.Stdout, build.Stderr = os.Stderr, os.Stderr
		if err := build.Run(); err != nil {
			return fmt.Errorf("building fbrun and fbrun-cloud (go %s): %w", strings.Join(args, " "), err)
		}
	}
	return nil
}

type cliResult struct {
	code           int
	stdout, stderr string
}

// fbrun runs the binary with a clean environment: no real AWS credentials
// or profiles, and no instance-metadata lookups (nothing leaves loopback).
func fbrun(t *testing.T, args ...string) cliResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, fbrunBin, args...)
	cmd.Env = testEnv(t)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("running fbrun %v: %v", args, err)
	}
	return cliResult{code, out.String(), errb.String()}
}

func testEnv(t *testing.T) []string {
	home := t.TempDir()
	return []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + home, "XDG_DATA_HOME=" + filepath.Join(home, "data"),
		"AWS_EC2_METADATA_DISABLED=true", "AWS_CONFIG_FILE=" + filepath.Join(home, "none"),
		"AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(home, "none"), "AWS_REGION=us-east-1",
	}
}

func noStackTrace(t *testing.T, r cliResult) {
	t.Helper()
	for _, s := range []string{"goroutine ", "panic:", ".go:"} {
		if strings.Contains(r.stderr, s) || strings.Contains(r.stdout, s) {
			t.Errorf("output contains %q (a stack trace?):\n%s%s", s, r.stdout, r.stderr)
		}
	}
}

func TestSmokeJSON(t *testing.T) {
	db := filepath.Join(t.TempDir(), "r.db")
	// The run is stored under the id given (a study chooses it first).
	const id = "20261206-020000-abcdef"
	r := fbrun(t, "--db", db, "experiment", "smoke", "--json", "--run-id", id)
	if r.code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	var s jsonSummary
	if err := json.Unmarshal([]byte(r.stdout), &s); err != nil {
		t.Fatalf("stdout is not one JSON object: %v\n%s", err, r.stdout)
	}
	if s.Status != "ok" || s.Experiment != "smoke" || s.Platform != "local" || s.RunID != id || s.Params["sequential"] == "" {
		t.Errorf("summary = %+v", s)
	}
	// 5 sequential + 8 concurrent + 1 nested + 2 monolith + 4 error paths.
	if s.Counts.Invocations != 20 || s.Counts.Nested != 2 || s.Estimates["checks_failed"] != 0 {
		t.Errorf("counts = %+v estimates = %v", s.Counts, s.Estimates)
	}
	if s.ErrorsByKind["not_found"] != 1 {
		t.Errorf("errors by kind = %v", s.ErrorsByKind)
	}
	runs := fbrun(t, "--db", db, "runs")
	if runs.code != 0 || !strings.Contains(runs.stdout, s.RunID) || !strings.Contains(runs.stdout, "smoke") {
		t.Errorf("runs:\n%s%s", runs.stdout, runs.stderr)
	}
}

func TestSmokeTable(t *testing.T) {
	db := filepath.Join(t.TempDir(), "r.db")
	r := fbrun(t, "--db", db, "experiment", "smoke")
	if r.code != 0 {
		t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	for _, want := range []string{"status ok", "p50", "fbrun report", "Results database: " + db} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("summary lacks %q:\n%s", want, r.stdout)
		}
	}
	if !strings.Contains(r.stderr, "idle-timeout") {
		t.Errorf("the local platform's knobs were not printed:\n%s", r.stderr)
	}
}

// TestExperimentHelp: `fbrun experiment NAME --help` shows that
// experiment's parameters and the run flags; an unknown NAME is refused.
func TestExperimentHelp(t *testing.T) {
	for _, help := range []string{"--help", "-h"} {
		r := fbrun(t, "experiment", "cold-start", help)
		if r.code != 0 {
			t.Fatalf("%s: exit %d\n%s%s", help, r.code, r.stdout, r.stderr)
		}
		for _, want := range []string{"cold-start: cold vs warm latency", "--set samples=10", "--set nested=false", "fbrun experiment [command options] NAME", "--platform", "--local-idle-timeout"} {
			if !strings.Contains(r.stdout, want) {
				t.Errorf("%s: help lacks %q:\n%s", help, want, r.stdout)
			}
		}
	}
	r := fbrun(t, "experiment", "cold-strat", "--help")
	if r.code != 2 || !strings.Contains(r.stderr, `unknown experiment "cold-strat"`) {
		t.Errorf("unknown experiment: exit %d\n%s", r.code, r.stderr)
	}
}

func TestExperimentsList(t *testing.T) {
	r := fbrun(t, "experiments", "--params")
	if r.code != 0 || !strings.Contains(r.stdout, "smoke") || !strings.Contains(r.stdout, "--set sequential=5") {
		t.Fatalf("exit %d:\n%s%s", r.code, r.stdout, r.stderr)
	}
}

func TestBadInput(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "r.db")
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no experiment", []string{"experiment"}, 2, "exactly one NAME"},
		{"unknown experiment", []string{"experiment", "nope"}, 2, `unknown experiment "nope"`},
		{"unknown platform", []string{"experiment", "smoke", "--platform", "gcp"}, 2, `unknown platform "gcp"`},
		{"bad --set", []string{"experiment", "smoke", "--set", "sequential"}, 2, "want KEY=VALUE"},
		{"unknown parameter", []string{"experiment", "smoke", "--set", "bogus=1"}, 2, "has no parameter bogus"},
		{"bad parameter value", []string{"experiment", "smoke", "--set", "sequential=many"}, 2, "want an integer"},
		{"unwritable db", []string{"--db", "/proc/self/nope/r.db", "experiment", "smoke"}, 1, "cannot use results database"},
		{"bad log level", []string{"--log-level", "loud", "experiment", "smoke"}, 2, "bad --log-level"},
		{"bad local knob", []string{"experiment", "smoke", "--local-max-instances", "-1"}, 2, "local platform"},
		{"unreachable platform", []string{"--db", db, "experiment", "smoke", "--local-endpoint", "http://127.0.0.1:1"}, 1, "failed"},
		{"unknown command", []string{"frobnicate"}, 2, "unknown command"},
		{"bad run id", []string{"experiment", "smoke", "--run-id", "mine"}, 2, `bad --run-id "mine"`},
		{"bad probing precision", []string{"experiment", "idle-timeout", "--set", "precision=2"}, 2, `parameter precision="2": want a number > 0 and < 1`},
		{"bad probing gaps", []string{"experiment", "idle-timeout", "--set", "min_gap=10s", "--set", "max_gap=1s"}, 2, "min_gap 10s is longer than max_gap 1s: want min_gap <= max_gap"},
		{"zero probing budget", []string{"experiment", "idle-timeout", "--set", "max_time=0s"}, 2, `parameter max_time="0s": want a duration > 0s`},
		{"bad lifetime budget", []string{"experiment", "instance-lifetime", "--set", "max_recycles=0"}, 2, "max_recycles"},
		// A list value arrives whole: the step list is accepted (were it
		// split at the comma, "40" would be refused as not KEY=VALUE) and
		// the next, bad, parameter is the one refused; a bad item names
		// the whole list.
		{"list value kept whole", []string{"experiment", "scaling", "--set", "steps=20,40", "--set", "step_duration=0s"}, 2, `parameter step_duration="0s"`},
		{"bad list item", []string{"experiment", "scaling", "--set", "steps=20,x"}, 2, `parameter steps="20,x"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := fbrun(t, tc.args...)
			if r.code != tc.code {
				t.Errorf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, tc.code, r.stdout, r.stderr)
			}
			if !strings.Contains(r.stderr, tc.want) {
				t.Errorf("stderr lacks %q:\n%s", tc.want, r.stderr)
			}
			noStackTrace(t, r)
		})
	}
}

// TestRefusedBeforeAnythingStarts: invalid parameters, platform flags and
// knobs are refused with exit code 2 and one line naming the valid range,
// before the local platform starts or the results database (let alone a
// run row) exists.
func TestRefusedBeforeAnythingStarts(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"negative gap", []string{"experiment", "idle-timeout", "--set", "min_gap=-1s"}, `parameter min_gap="-1s": want a duration > 0s`},
		{"negative rate", []string{"experiment", "load", "--set", "rate=-5"}, `parameter rate="-5": want a number > 0 (requests/s)`},
		{"gaps crossed", []string{"experiment", "idle-timeout", "--set", "min_gap=30s"}, "want min_gap <= max_gap"},
		{"bad choice", []string{"experiment", "load", "--set", "arrivals=bursty"}, "want one of uniform, poisson"},
		{"bad knob", []string{"experiment", "smoke", "--local-scale-rate", "-1"}, "ScaleRate -1 must be >= 0"},
		{"knob without embedded platform", []string{"experiment", "smoke", "--platform", "http", "--endpoint", "http://127.0.0.1:1/{name}", "--local-max-instances", "5"}, "--local-max-instances sets a knob of the embedded local platform"},
		{"bad endpoint", []string{"experiment", "smoke", "--platform", "aws", "--endpoint", "localhost:4566"}, `--endpoint "localhost:4566": want an http:// or https:// URL`},
		{"foreign platform flag", []string{"experiment", "smoke", "--region", "eu-west-1"}, "--region does not apply to platform local"},
		{"bad function mapping", []string{"experiment", "smoke", "--platform", "azure", "--function", "function1=fb-x-function1"}, "--function function1"},
		{"bad local endpoint", []string{"experiment", "smoke", "--local-endpoint", "127.0.0.1:9000"}, "--local-endpoint"},
		{"bad stack setting", []string{"experiment", "smoke", "--platform", "aws", "--stack-set", "memory=64"}, "memory"},
		{"stack setting without a stack", []string{"experiment", "smoke", "--stack-set", "memory=512"}, "--stack-set applies to a stack deployed for the run"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			db := filepath.Join(t.TempDir(), "r.db")
			r := fbrun(t, append([]string{"--db", db}, tc.args...)...)
			if r.code != 2 {
				t.Errorf("exit %d, want 2\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
			}
			if !strings.Contains(r.stderr, tc.want) {
				t.Errorf("stderr lacks %q:\n%s", tc.want, r.stderr)
			}
			if n := strings.Count(strings.TrimSpace(r.stderr), "\n"); n != 0 {
				t.Errorf("stderr has %d lines, want one:\n%s", n+1, r.stderr)
			}
			if strings.Contains(r.stderr, "embedded local platform at") {
				t.Errorf("the local platform was started:\n%s", r.stderr)
			}
			if _, err := os.Stat(db); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("the results database exists after a refused run (stat: %v)", err)
			}
			noStackTrace(t, r)
		})
	}
}

func TestMissingAWSCredentials(t *testing.T) {
	for name, args := range map[string][]string{
		"existing deployment": {"--function", "function1=fb-x-function1"},
		"managed stack":       {"--state", "file://" + t.TempDir()},
	} {
		t.Run(name, func(t *testing.T) {
			r := fbrun(t, append([]string{"--db", filepath.Join(t.TempDir(), "r.db"), "experiment", "smoke", "--platform", "aws"}, args...)...)
			if r.code == 0 {
				t.Fatalf("succeeded without credentials:\n%s%s", r.stdout, r.stderr)
			}
			if !strings.Contains(r.stderr, "aws: no usable credentials") {
				t.Errorf("stderr does not say credentials are missing:\n%s", r.stderr)
			}
			noStackTrace(t, r)
		})
	}
}

// TestInterruptKeepsRows interrupts a long run with SIGINT: the process
// must exit promptly with 130, the run must be marked interrupted with its
// rows kept, and no function instance may outlive fbrun.
func TestInterruptKeepsRows(t *testing.T) {
	db := filepath.Join(t.TempDir(), "r.db")
	cmd := exec.Command(fbrunBin, "--db", db, "experiment", "smoke", "--set", "sequential=1000000")
	cmd.Env = testEnv(t)
	var errb bytes.Buffer
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	// Wait until rows are on disk.
	deadline := time.Now().Add(60 * time.Second)
	for rowsIn(t, db) < 20 {
		select {
		case err := <-done:
			t.Fatalf("fbrun exited early: %v; stderr:\n%s", err, errb.String())
		default:
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("no rows after 60 s; stderr:\n%s", errb.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 130 {
			t.Errorf("exit: %v, want code 130; stderr:\n%s", err, errb.String())
		}
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		t.Fatal("fbrun did not stop within 30 s of SIGINT")
	}
	rdb, err := results.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer rdb.Close()
	runs, err := rdb.Runs(context.Background(), results.RunFilter{})
	if err != nil || len(runs) != 1 {
		t.Fatalf("runs = %v, %v", runs, err)
	}
	if runs[0].Status != results.StatusInterrupted {
		t.Errorf("status = %q, want interrupted", runs[0].Status)
	}
	if n, _ := rdb.CountInvocations(context.Background(), runs[0].ID); n < 20 {
		t.Errorf("%d rows kept", n)
	}
	if pids := processesRunning(fbrunBin); len(pids) > 0 {
		t.Errorf("function instances outlived fbrun: pids %v", pids)
	}
}

func rowsIn(t *testing.T, db string) int64 {
	if _, err := os.Stat(db); err != nil {
		return 0
	}
	rdb, err := results.Open(context.Background(), db)
	if err != nil {
		return 0
	}
	defer rdb.Close()
	runs, err := rdb.Runs(context.Background(), results.RunFilter{})
	if err != nil || len(runs) == 0 {
		return 0
	}
	n, _ := rdb.CountInvocations(context.Background(), runs[0].ID)
	return n
}

// processesRunning lists pids whose command line starts with bin.
func processesRunning(bin string) []string {
	entries, _ := os.ReadDir("/proc")
	var pids []string
	for _, e := range entries {
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue
		}
		if strings.HasPrefix(string(cmdline), bin+"\x00") {
			stat, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
			if strings.Contains(string(stat), ") Z ") { // zombies are already dead
				continue
			}
			pids = append(pids, e.Name())
		}
	}
	return pids
}
