package results

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"
)

func TestStudyJournal(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "j.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	owner := StudyOwner{Host: "h", PID: 1, Token: "a"}
	now := time.Unix(1_800_000_000, 0)
	sr := StudyRun{ID: "s-1", Study: "s", StartedAt: now, Owner: owner, Spec: "name: s"}
	cells := []StudyCell{{Seq: 1, Platform: "a", Experiment: "smoke", Repetition: 1, Spec: "{}"},
		{Seq: 2, Platform: "b", Experiment: "smoke", Repetition: 1, Spec: "{}"}}
	if err := db.CreateStudyRun(ctx, sr, cells); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateStudyRun(ctx, sr, cells); err == nil {
		t.Error("a study run id was created twice")
	}
	// Claiming is compare-and-swap on the owner.
	next := StudyOwner{Host: "h", PID: 2, Token: "b"}
	if ok, err := db.ClaimStudyRun(ctx, "s-1", owner, next); err != nil || !ok {
		t.Fatalf("claim: %v %v", ok, err)
	}
	if ok, _ := db.ClaimStudyRun(ctx, "s-1", owner, StudyOwner{Host: "h", PID: 3}); ok {
		t.Error("a stale owner claimed the study run")
	}
	if err := db.StartStudyCell(ctx, "s-1", 1, 1, "r-1", "/l", now); err != nil {
		t.Fatal(err)
	}
	// The run id is journaled before the attempt runs.
	if as, err := db.StudyAttempts(ctx, "s-1"); err != nil || len(as) != 1 || as[0].RunID != "r-1" || as[0].Outcome != CellRunning {
		t.Fatalf("attempts after the start: %+v, %v", as, err)
	}
	if err := db.StartStudyCell(ctx, "s-1", 1, 2, "r-2", "/l", now); err == nil {
		t.Error("a running cell was started again")
	}
	if err := db.EndStudyAttempt(ctx, "s-1", 2, CellDone, CellDone, "r", "", now); err == nil {
		t.Error("a pending cell was ended")
	}
	if err := db.EndStudyAttempt(ctx, "s-1", 1, CellDone, CellDone, "run-1", "", now.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	if err := db.StartStudyCell(ctx, "s-1", 1, 2, "r-2", "/l", now); err == nil {
		t.Error("a done cell was started again")
	}
	got, err := db.StudyCells(ctx, "s-1")
	if err != nil {
		t.Fatal(err)
	}
	if c := got[0]; c.State != CellDone || c.RunID != "run-1" || c.Attempts != 1 || c.EndedAt.Sub(c.StartedAt) != time.Second {
		t.Errorf("cell = %+v", c)
	}
	if got[1].State != CellPending {
		t.Errorf("cell 2 = %+v", got[1])
	}
	r, err := db.GetStudyRun(ctx, "s-1")
	if err != nil || r.Owner != next || r.Spec != "name: s" || r.Status != StudyRunning {
		t.Errorf("study run = %+v, %v", r, err)
	}
	if _, err := db.GetStudyRun(ctx, "nope"); !errors.Is(err, ErrNoStudyRun) {
		t.Errorf("missing study run: %v", err)
	}
	if err := db.FinishStudyRun(ctx, "s-1", StudyFinished, now); err != nil {
		t.Fatal(err)
	}
	if list, _ := db.StudyRuns(ctx, ""); len(list) != 1 || list[0].Status != StudyFinished || list[0].EndedAt.IsZero() {
		t.Errorf("study runs = %+v", list)
	}
}

// TestEndStudyAttemptWaitsForAnotherWriter: another process holds the write
// lock and commits while a cell is being ended. A transaction that began
// with a read could not upgrade after that commit and failed at once with
// SQLITE_BUSY (a counted run of cmd/fbrun TestStudyKillResume saw "end
// study cell …: database is locked"); it must wait for the lock instead.
func TestEndStudyAttemptWaitsForAnotherWriter(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "j.db")
	db, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	now := time.Unix(1_800_000_000, 0)
	sr := StudyRun{ID: "s-1", Study: "s", StartedAt: now, Owner: StudyOwner{Host: "h", PID: 1, Token: "a"}, Spec: "name: s"}
	if err := db.CreateStudyRun(ctx, sr, []StudyCell{{Seq: 1, Platform: "a", Experiment: "smoke", Repetition: 1, Spec: "{}"}}); err != nil {
		t.Fatal(err)
	}
	if err := db.StartStudyCell(ctx, "s-1", 1, 1, "r-1", "/l", now); err != nil {
		t.Fatal(err)
	}
	// The other writer: a second handle on the file, as another process has.
	other, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	conn, err := other.sql.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `BEGIN IMMEDIATE`); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(ctx, `UPDATE study_runs SET status = status WHERE id = 's-1'`); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		done <- db.EndStudyAttempt(ctx, "s-1", 1, CellDone, CellDone, "r-1", "", now.Add(time.Second))
	}()
	// Commit while EndStudyAttempt waits (well inside busy_timeout). Had it
	// not started by then, it simply runs after the commit and passes.
	time.Sleep(500 * time.Millisecond)
	if _, err := conn.ExecContext(ctx, `COMMIT`); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("ending a cell while another connection wrote: %v", err)
	}
}
