package study

import (
	"context"
	"io"
	"runtime"
	"testing"

	"github.com/faas-benchmarker/faas-benchmarker/results"
)

// diesAfter stands in for a study process killed (SIGKILL) at the worst
// moment: the cell's child has stored its run ok, and the study dies
// before it journals the attempt's end. runtime.Goexit stops the study's
// goroutine there, so no later journal write happens — deterministically,
// without a real signal or a sleep.
type diesAfter struct {
	inner Executor
	seq   int
}

func (d diesAfter) Run(ctx context.Context, c Cell, runID string, log io.Writer) (Result, error) {
	res, err := d.inner.Run(ctx, c, runID, log)
	if c.Seq == d.seq {
		runtime.Goexit()
	}
	return res, err
}

// TestKilledAfterTheRunWasStored: the study is killed after cell 3's run
// was stored ok but before the journal recorded it; the study run again
// finishes with every cell run exactly once (8 ok runs for 8 cells).
func TestKilledAfterTheRunWasStored(t *testing.T) {
	db, s := testDB(t), testSpec(t)
	ctx := context.Background()
	f := newFake(db)
	cfg := cfgFor(t, db, s, diesAfter{inner: f, seq: 3})
	exited := make(chan struct{})
	go func() {
		defer close(exited)
		_, _ = Run(ctx, cfg)
		t.Error("the study survived its kill")
	}()
	<-exited
	if f.calls[3] != 1 || f.ok[3] != 1 {
		t.Fatalf("before the kill: cell 3 ran %d times (%d ok)", f.calls[3], f.ok[3])
	}

	out, err := Run(ctx, cfgFor(t, db, s, f))
	if err != nil {
		t.Fatal(err)
	}
	if !out.Finished || out.Done != 8 {
		t.Fatalf("outcome = %+v", out)
	}
	for seq := 1; seq <= 8; seq++ {
		if f.calls[seq] != 1 {
			t.Errorf("cell %d ran %d times", seq, f.calls[seq])
		}
	}
	runs, err := db.Runs(ctx, results.RunFilter{})
	if err != nil {
		t.Fatal(err)
	}
	ok := 0
	for _, r := range runs {
		if r.Status == results.StatusOK {
			ok++
		}
	}
	if ok != 8 {
		t.Errorf("%d ok runs for 8 cells", ok)
	}
	cells, err := db.StudyCells(ctx, out.StudyRun)
	if err != nil {
		t.Fatal(err)
	}
	if c := cells[2]; c.State != results.CellDone || c.RunID == "" || c.Attempts != 1 {
		t.Errorf("cell 3 after resuming: %+v", c)
	}
}
