package main

import (
	"bytes"
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

// TestLabBinaryNextToFbrun: with fbrun-lab installed next to fbrun, the
// local platform's instances are fbrun-lab processes, not fbrun
// re-executed (the fallback every other test here exercises).
func TestLabBinaryNextToFbrun(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "fbrun")
	if err := os.Link(fbrunBin, bin); err != nil {
		copyFile(t, fbrunBin, bin)
	}
	lab := filepath.Join(dir, fbcli.LabBinary)
	if out, err := exec.Command("go", "build", "-o", lab, "../fbrun-lab").CombinedOutput(); err != nil {
		t.Fatalf("building fbrun-lab: %v\n%s", err, out)
	}
	db := filepath.Join(dir, "r.db")
	cmd := exec.Command(bin, "--db", db, "experiment", "smoke", "--set", "sequential=1000000")
	cmd.Env = testEnv(t)
	var errb bytes.Buffer
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	for deadline := time.Now().Add(60 * time.Second); rowsIn(t, db) < 5; time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no rows after 60 s; stderr:\n%s", errb.String())
		}
	}
	labs, reexecs := processesRunning(lab), 0
	for _, pid := range processesRunning(bin) {
		if cmdline, _ := os.ReadFile(filepath.Join("/proc", pid, "cmdline")); strings.Contains(string(cmdline), "\x00lab-runtime\x00") {
			reexecs++
		}
	}
	if len(labs) == 0 || reexecs > 0 {
		t.Errorf("%d fbrun-lab instances and %d fbrun re-executions; want fbrun-lab only", len(labs), reexecs)
	}
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err == nil || !strings.Contains(err.Error(), "130") {
		t.Errorf("exit after SIGINT: %v, want 130", err)
	}
	if left := processesRunning(lab); len(left) > 0 {
		t.Errorf("fbrun-lab instances outlived fbrun: %v", left)
	}
}
