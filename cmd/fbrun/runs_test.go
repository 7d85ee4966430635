package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/faas-benchmarker/faas-benchmarker/results"
)

// TestCrashedRun kills a running fbrun with SIGKILL (no chance to mark its
// run): `fbrun runs` and the report then show the run as crashed, `fbrun
// runs close --crashed` stores that, and every measured row is kept.
func TestCrashedRun(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "r.db")
	cmd := exec.Command(fbrunBin, "--db", db, "experiment", "smoke", "--set", "sequential=1000000")
	cmd.Env = testEnv(t)
	var errb bytes.Buffer
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(60 * time.Second); rowsIn(t, db) < 10; time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("no rows after 60 s; stderr:\n%s", errb.String())
		}
	}
	// While it runs, it is running and cannot be closed.
	if r := fbrun(t, "--db", db, "runs"); !strings.Contains(r.stdout, "running (pid ") {
		t.Errorf("live run not shown as running with its pid:\n%s%s", r.stdout, r.stderr)
	}
	if r := fbrun(t, "--db", db, "runs", "close", "--crashed"); r.code != 0 || strings.Contains(r.stdout, "closed") {
		t.Errorf("close --crashed closed a live run: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	rows := rowsIn(t, db)
	id := onlyRun(t, db).ID

	r := fbrun(t, "--db", db, "runs")
	if r.code != 0 || !strings.Contains(r.stdout, id) || !strings.Contains(r.stdout, "crashed") || !strings.Contains(r.stderr, "runs close --crashed") {
		t.Errorf("runs after the kill: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	html := filepath.Join(dir, "r.html")
	if r := fbrun(t, "--db", db, "report", "-o", html); r.code != 0 {
		t.Errorf("report: exit %d\n%s", r.code, r.stderr)
	} else if b, _ := os.ReadFile(html); !strings.Contains(string(b), "crashed") {
		t.Errorf("the report does not show the run as crashed")
	}

	r = fbrun(t, "--db", db, "runs", "close", "--crashed")
	if r.code != 0 || !strings.Contains(r.stdout, "closed "+id+" as crashed") {
		t.Fatalf("close --crashed: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	run := onlyRun(t, db)
	if run.StoredStatus != results.StatusCrashed || !strings.Contains(run.Error, "owner process is gone") || !run.EndedAt.IsZero() {
		t.Errorf("closed run = %+v", run)
	}
	if n := rowsIn(t, db); n != rows {
		t.Errorf("%d rows after closing, %d before", n, rows)
	}
	if r := fbrun(t, "--db", db, "runs", "close", id); r.code != 1 || !strings.Contains(r.stderr, "not running") {
		t.Errorf("closing again: exit %d\n%s", r.code, r.stderr)
	}
	if r := fbrun(t, "--db", db, "runs"); strings.Contains(r.stderr, "runs close") {
		t.Errorf("a closed run is still reported as not closed:\n%s", r.stderr)
	}
}

func onlyRun(t *testing.T, db string) results.Run {
	t.Helper()
	rdb, err := results.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer rdb.Close()
	runs, err := rdb.Runs(context.Background(), results.RunFilter{})
	if err != nil || len(runs) != 1 {
		t.Fatalf("runs = %v, %v", runs, err)
	}
	return runs[0]
}

func TestRunsCloseUsage(t *testing.T) {
	db := filepath.Join(t.TempDir(), "r.db")
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"runs", "close"}, 2, "RUN_ID arguments or --crashed"},
		{[]string{"runs", "close", "--crashed", "x"}, 2, "not both"},
		{[]string{"runs", "close", "nope"}, 1, "no such run"},
		{[]string{"runs", "nope"}, 2, "takes no arguments"},
	} {
		r := fbrun(t, append([]string{"--db", db}, tc.args...)...)
		if r.code != tc.code || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", tc.args, r.code, r.stderr, tc.code, tc.want)
		}
	}
}
