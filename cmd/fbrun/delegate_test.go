package main

import (
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/faas-benchmarker/faas-benchmarker/cmd/internal/fbcli"
)

// TestNoPulumiInFbrun: the light binary must not link the Pulumi SDKs (they
// made the first `go run ./cmd/fbrun` take six minutes); they belong to
// fbrun-cloud.
func TestNoPulumiInFbrun(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	var bad []string
	for _, p := range strings.Fields(string(out)) {
		if strings.HasPrefix(p, "github.com/pulumi/") || strings.Contains(p, "/faas-benchmarker/stacks/program") ||
			strings.HasSuffix(p, "/faas-benchmarker/runner") {
			bad = append(bad, p)
		}
	}
	if len(bad) > 0 {
		t.Errorf("cmd/fbrun links %d cloud packages, e.g. %v", len(bad), bad[:min(5, len(bad))])
	}
}

// fakeCloud installs fbrun (hard-linked or copied) next to a shell script
// standing in for fbrun-cloud, in a fresh directory, and returns the fbrun
// path. The script records its arguments, writes to both streams, marks
// "started", and on SIGINT/SIGTERM/SIGHUP records the signal, takes a
// while to "tear down", marks "done" and exits 5; otherwise it exits 7.
func fakeCloud(t *testing.T) (bin, dir string) {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("the fake fbrun-cloud is a shell script")
	}
	dir = t.TempDir()
	bin = filepath.Join(dir, "fbrun")
	if err := os.Link(fbrunBin, bin); err != nil {
		copyFile(t, fbrunBin, bin)
	}
	script := `#!/bin/sh
d=$(dirname "$0")
printf '%s\n' "$@" > "$d/args"
printf '%s' "$FBRUN_PARENT_BUILD" > "$d/parent"
on() { echo "$1" > "$d/signal"; sleep 1; touch "$d/done"; exit 5; }
trap 'on INT' INT
trap 'on TERM' TERM
trap 'on HUP' HUP
echo "to stdout"
echo "to stderr" >&2
read line && echo "stdin: $line"
touch "$d/started"
if [ "$FAKE_WAIT" = 1 ]; then i=0; while [ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); done; fi
exit 7
`
	if err := os.WriteFile(filepath.Join(dir, "fbrun-cloud"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return bin, dir
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	in, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestDelegation: the cloud commands run fbrun-cloud with the same
// arguments, stdio and exit code (a managed experiment hands over a plan
// instead: TestManagedRunHandsOverAPlan); local experiments do not.
func TestDelegation(t *testing.T) {
	bin, dir := fakeCloud(t)
	tests := []struct {
		name string
		args []string
	}{
		{"up permanent", []string{"up", "permanent", "region=nyc3", "--state", "file:///x"}},
		{"down permanent", []string{"--log-level", "debug", "down", "permanent"}},
		{"cleanup", []string{"cleanup", "--dry-run"}},
		{"results pull", []string{"results", "pull", "--results-bucket", "b"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			os.Remove(filepath.Join(dir, "args"))
			cmd := exec.Command(bin, tc.args...)
			cmd.Env = testEnv(t)
			cmd.Stdin = strings.NewReader("hello\n")
			var out, errb bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &errb
			err := cmd.Run()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != 7 {
				t.Fatalf("exit %v, want the child's 7\nstdout:\n%s\nstderr:\n%s", err, out.String(), errb.String())
			}
			if out.String() != "to stdout\nstdin: hello\n" || errb.String() != "to stderr\n" {
				t.Errorf("stdio not passed through: stdout %q stderr %q", out.String(), errb.String())
			}
			got, err := os.ReadFile(filepath.Join(dir, "args"))
			if err != nil {
				t.Fatal(err)
			}
			if want := strings.Join(tc.args, "\n") + "\n"; string(got) != want {
				t.Errorf("child args %q, want %q", got, want)
			}
			// fbrun tells the child its build, so that a stale
			// fbrun-cloud can refuse (TestStaleCloudBinaryRefused).
			if rev := vcsRevision(t, bin); rev != "" {
				parent, _ := os.ReadFile(filepath.Join(dir, "parent"))
				if !strings.Contains(string(parent), rev) {
					t.Errorf("child got %s=%q, want fbrun's build (revision %s)", fbcli.EnvParentBuild, parent, rev)
				}
			}
		})
	}
	// Not delegated: bad input is refused by fbrun itself, before anything
	// starts.
	os.Remove(filepath.Join(dir, "args"))
	r := fbrunAt(t, bin, "experiment", "smoke", "--platform", "aws", "--set", "bogus=1")
	if r.code != 2 || !strings.Contains(r.stderr, "bogus") {
		t.Errorf("bad parameter of a managed run: exit %d, stderr %q", r.code, r.stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "args")); err == nil {
		t.Errorf("fbrun-cloud was run for a command line fbrun refuses")
	}
}

// TestDelegationSignals: fbrun passes SIGINT, SIGTERM and SIGHUP on to
// fbrun-cloud and exits only after the child has finished tearing down,
// with the child's exit code.
func TestDelegationSignals(t *testing.T) {
	bin, dir := fakeCloud(t)
	for _, tc := range []struct {
		sig  syscall.Signal
		name string
	}{{syscall.SIGINT, "INT"}, {syscall.SIGTERM, "TERM"}, {syscall.SIGHUP, "HUP"}} {
		t.Run(tc.name, func(t *testing.T) {
			for _, f := range []string{"started", "signal", "done"} {
				os.Remove(filepath.Join(dir, f))
			}
			cmd := exec.Command(bin, "cleanup")
			cmd.Env = append(testEnv(t), "FAKE_WAIT=1")
			cmd.Stdin = strings.NewReader("x\n")
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			waitFile(t, filepath.Join(dir, "started"))
			if err := cmd.Process.Signal(tc.sig); err != nil { // fbrun only, not its group
				t.Fatal(err)
			}
			var err error
			select {
			case err = <-done:
			case <-time.After(30 * time.Second):
				cmd.Process.Kill()
				t.Fatal("fbrun did not exit within 30 s of the signal")
			}
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != 5 {
				t.Errorf("exit %v, want the child's 5", err)
			}
			if got, _ := os.ReadFile(filepath.Join(dir, "signal")); strings.TrimSpace(string(got)) != tc.name {
				t.Errorf("child saw signal %q, want %s", got, tc.name)
			}
			if _, err := os.Stat(filepath.Join(dir, "done")); err != nil {
				t.Errorf("fbrun exited before the child finished its teardown")
			}
		})
	}
}

func waitFile(t *testing.T, path string) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if _, err := os.Stat(path); err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s never appeared", path)
		}
	}
}

// TestStaleCloudBinaryRefused: an fbrun-cloud of another build than the
// fbrun that runs it refuses with one line, exit 2, before doing anything.
func TestStaleCloudBinaryRefused(t *testing.T) {
	cloud := filepath.Join(filepath.Dir(fbrunBin), fbcli.CloudBinary)
	if vcsRevision(t, cloud) == "" {
		t.Skip("fbrun-cloud was built without VCS information: no build to compare")
	}
	db := filepath.Join(t.TempDir(), "r.db")
	r := fbrunAt(t, cloud, fbcli.EnvParentBuild+"=v0.0.0 0123456789abcdef", "--db", db, "cleanup", "--dry-run")
	if r.code != 2 || !strings.Contains(r.stderr, "go install ./cmd/...") || !strings.Contains(r.stderr, "0123456789abcdef") ||
		strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 {
		t.Errorf("exit %d, stderr %q; want 2 and one line naming both builds and go install ./cmd/...", r.code, r.stderr)
	}
	if _, err := os.Stat(db); err == nil {
		t.Error("the refused fbrun-cloud created the results database")
	}
}

// vcsRevision is the VCS revision recorded in the binary at bin ("" when
// none), read with go version -m.
func vcsRevision(t *testing.T, bin string) string {
	t.Helper()
	out, err := exec.Command("go", "version", "-m", bin).Output()
	if err != nil {
		t.Fatalf("go version -m %s: %v", bin, err)
	}
	for _, line := range strings.Split(string(out), "\n") {
		if f := strings.Fields(line); len(f) == 2 && f[0] == "build" && strings.HasPrefix(f[1], "vcs.revision=") {
			return strings.TrimPrefix(f[1], "vcs.revision=")
		}
	}
	return ""
}

// TestNoCloudBinary: without fbrun-cloud next to fbrun or on PATH, a cloud
// command fails with one line that says how to install it.
func TestNoCloudBinary(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "fbrun")
	if err := os.Link(fbrunBin, bin); err != nil {
		copyFile(t, fbrunBin, bin)
	}
	for _, args := range [][]string{{"up", "permanent"}, {"experiment", "smoke", "--platform", "azure"}} {
		r := fbrunAt(t, bin, append([]string{"PATH=/usr/bin:/bin"}, args...)...)
		if r.code != 1 || !strings.Contains(r.stderr, "go install ./cmd/...") || strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 {
			t.Errorf("%v: exit %d, stderr %q; want 1 and one line naming go install ./cmd/...", args, r.code, r.stderr)
		}
	}
}

// fbrunAt runs the fbrun binary at bin like fbrun does; leading
// KEY=VALUE arguments override the test environment.
func fbrunAt(t *testing.T, bin string, args ...string) cliResult {
	t.Helper()
	env := testEnv(t)
	for len(args) > 0 && strings.Contains(args[0], "=") && !strings.HasPrefix(args[0], "-") {
		env, args = append(env, args[0]), args[1:]
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return cliResult{code, out.String(), errb.String()}
}
