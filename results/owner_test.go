package results

import (
	"context"
	"database/sql"
	"fmt"
	"maps"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/faas-benchmarker/faas-benchmarker/internal/runowner"
)

// TestCrashedRun: a run whose owner process was killed reads as crashed;
// closing it stores that and changes nothing else; a run whose owner is
// alive, or unknown, keeps reading as running.
func TestCrashedRun(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("owners are checked on Linux only")
	}
	ctx := context.Background()
	db := openTemp(t)
	dead, kill := childOwner(t)
	for id, o := range map[string]runowner.Owner{"dead": dead, "alive": runowner.Self(), "unknown": {}} {
		if err := db.CreateRun(ctx, Run{ID: id, Experiment: "smoke", Platform: "local", StartedAt: time.Unix(100, 0), Owner: o}); err != nil {
			t.Fatal(err)
		}
	}
	w := db.NewWriter(WriterConfig{})
	for seq := int64(1); seq <= 3; seq++ {
		if err := w.Add(Invocation{RunID: "dead", Seq: seq, Function: "function1", Status: InvOK, ScheduledNS: -1}); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	statuses := func() map[string]string {
		runs, err := db.Runs(ctx, RunFilter{})
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]string{}
		for _, r := range runs {
			m[r.ID] = r.Status
		}
		return m
	}
	want := map[string]string{"dead": StatusRunning, "alive": StatusRunning, "unknown": StatusRunning}
	if got := statuses(); !maps.Equal(got, want) {
		t.Fatalf("before the kill: statuses %v, want %v", got, want)
	}
	kill()
	want["dead"] = StatusCrashed
	if got := statuses(); !maps.Equal(got, want) {
		t.Fatalf("after the kill: statuses %v, want %v", got, want)
	}
	before, _ := db.GetRun(ctx, "dead")
	if err := db.CloseCrashed(ctx, "dead", "owner gone"); err != nil {
		t.Fatal(err)
	}
	after, err := db.GetRun(ctx, "dead")
	if err != nil {
		t.Fatal(err)
	}
	if after.Status != StatusCrashed || after.Error != "owner gone" || !after.EndedAt.IsZero() || after.Owner != before.Owner ||
		!after.StartedAt.Equal(before.StartedAt) || after.Experiment != before.Experiment {
		t.Errorf("closed run = %+v, before %+v", after, before)
	}
	if n, _ := db.CountInvocations(ctx, "dead"); n != 3 {
		t.Errorf("%d invocations after closing, want 3", n)
	}
	if err := db.CloseCrashed(ctx, "dead", "again"); err == nil || !strings.Contains(err.Error(), "not stored as running") {
		t.Errorf("closing twice: %v", err)
	}
	if err := db.CloseCrashed(ctx, "nope", "x"); err == nil || !strings.Contains(err.Error(), "no such run") {
		t.Errorf("closing a missing run: %v", err)
	}
}

// TestOldDatabaseReadable: a database written before owners were recorded
// opens, its running run reads as running (owner unknown), not crashed.
func TestOldDatabaseReadable(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "old.db")
	raw, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at_ns INTEGER NOT NULL)`,
		migrations[0],
		`INSERT INTO schema_migrations VALUES (1, 0)`,
		`INSERT INTO runs (id, experiment, platform, started_at_ns, status) VALUES ('old', 'smoke', 'local', 100, 'running')`,
	} {
		if _, err := raw.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	raw.Close()
	db, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	r, err := db.GetRun(ctx, "old")
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != StatusRunning || r.Owner != (runowner.Owner{}) {
		t.Errorf("old run = %+v", r)
	}
	var v int
	if err := db.sql.QueryRowContext(ctx, `SELECT MAX(version) FROM schema_migrations`).Scan(&v); err != nil || v != SchemaVersion {
		t.Errorf("schema version %d (%v), want %d", v, err, SchemaVersion)
	}
}

// TestConcurrentOpen: processes opening a new database at the same moment
// (a run starting while `fbrun runs` looks) each see it migrated once.
func TestConcurrentOpen(t *testing.T) {
	for round := range 5 {
		path := filepath.Join(t.TempDir(), fmt.Sprintf("r%d.db", round))
		errs := make(chan error, 8)
		for range 8 {
			go func() {
				db, err := Open(context.Background(), path)
				if err == nil {
					err = db.Close()
				}
				errs <- err
			}()
		}
		for range 8 {
			if err := <-errs; err != nil {
				t.Fatalf("round %d: %v", round, err)
			}
		}
	}
}

// childOwner starts a child process and returns its owner identity and a
// kill that ends it and waits for it (also run at the end of the test).
func childOwner(t *testing.T) (runowner.Owner, func()) {
	t.Helper()
	child := exec.Command("sleep", "60")
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	kill := sync.OnceFunc(func() {
		_ = child.Process.Kill()
		_ = child.Wait()
	})
	t.Cleanup(kill)
	o, err := runowner.Of(child.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	return o, kill
}
