package study

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/faas-benchmarker/faas-benchmarker/internal/exitcode"
	"github.com/faas-benchmarker/faas-benchmarker/results"
)

// fakeExec stores a run per attempt under the run id the study chose, like
// `fbrun experiment --run-id` does, and fails attempts as scripted.
type fakeExec struct {
	db *results.DB
	mu sync.Mutex
	// fail returns the exit code of an attempt (0: success).
	fail func(c Cell, attempt int) int
	// estimates returns the run's estimates.
	estimates func(c Cell) map[string]float64
	// calls counts attempts and ok counts successes per cell seq.
	calls, ok map[int]int
	// okStatus makes a failing attempt's run ok (a failure after the
	// measurement, e.g. shipping).
	okStatus func(c Cell) bool
	// hook runs before each attempt.
	hook func(ctx context.Context, c Cell) int
	// platformConfig is the run's stored platform config (nil: none).
	platformConfig func(c Cell) map[string]any
}

func newFake(db *results.DB) *fakeExec {
	return &fakeExec{db: db, calls: map[int]int{}, ok: map[int]int{}}
}

func (f *fakeExec) Run(ctx context.Context, c Cell, id string, log io.Writer) (Result, error) {
	f.mu.Lock()
	f.calls[c.Seq]++
	attempt := f.calls[c.Seq]
	f.mu.Unlock()
	fmt.Fprintln(log, "fake", c.Label())
	if f.hook != nil {
		if code := f.hook(ctx, c); code != 0 {
			return Result{ExitCode: code, Err: "hooked"}, nil
		}
	}
	code := 0
	if f.fail != nil {
		code = f.fail(c, attempt)
	}
	est := map[string]float64{"x": 1}
	if f.estimates != nil {
		est = f.estimates(c)
	}
	status := results.StatusOK
	if code != 0 && (f.okStatus == nil || !f.okStatus(c)) {
		status = results.StatusFailed
	}
	var pcfg map[string]any
	if f.platformConfig != nil {
		pcfg = f.platformConfig(c)
	}
	if err := f.db.CreateRun(ctx, results.Run{ID: id, Experiment: c.Experiment, Platform: c.Platform.Platform, PlatformConfig: pcfg, StartedAt: time.Now()}); err != nil {
		return Result{}, err
	}
	sum, _ := json.Marshal(map[string]any{"estimates": est})
	if err := f.db.FinishRun(ctx, id, status, time.Now(), sum, ""); err != nil {
		return Result{}, err
	}
	if code != 0 {
		return Result{ExitCode: code, Err: "scripted failure"}, nil
	}
	f.mu.Lock()
	f.ok[c.Seq]++
	f.mu.Unlock()
	return Result{}, nil
}

func testDB(t *testing.T) *results.DB {
	t.Helper()
	db, err := results.Open(context.Background(), filepath.Join(t.TempDir(), "r.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func testSpec(t *testing.T) *Spec {
	t.Helper()
	src := `name: t
platforms:
  - {name: a, platform: local, local: {idle-timeout: 2s}}
  - {name: b, platform: local}
experiments: [smoke, cold-start]
repetitions: 2
`
	s, err := Parse("t.yaml", []byte(src), testVocab())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func cfgFor(t *testing.T, db *results.DB, s *Spec, e Executor) Config {
	return Config{DB: db, Spec: s, Executor: e, LogDir: t.TempDir(), Owner: results.StudyOwner{Host: "test", PID: 0, Token: "me"}}
}

func TestRunEveryCellOnce(t *testing.T) {
	db, s := testDB(t), testSpec(t)
	f := newFake(db)
	out, err := Run(context.Background(), cfgFor(t, db, s, f))
	if err != nil {
		t.Fatal(err)
	}
	if !out.Finished || out.Done != 8 || out.Failed != 0 || out.Pending != 0 || out.Resumed {
		t.Fatalf("outcome = %+v", out)
	}
	for seq := 1; seq <= 8; seq++ {
		if f.calls[seq] != 1 {
			t.Errorf("cell %d ran %d times", seq, f.calls[seq])
		}
	}
	cells, _ := db.StudyCells(context.Background(), out.StudyRun)
	for _, c := range cells {
		if c.State != results.CellDone || c.RunID == "" || c.Attempts != 1 {
			t.Errorf("cell %+v", c)
		}
	}
	sr, _ := db.GetStudyRun(context.Background(), out.StudyRun)
	if sr.Status != results.StudyFinished || sr.EndedAt.IsZero() || sr.Spec == "" {
		t.Errorf("study run = %+v", sr)
	}
	// The study run is finished: running the file again starts a new one.
	out2, err := Run(context.Background(), cfgFor(t, db, s, f))
	if err != nil {
		t.Fatal(err)
	}
	if out2.StudyRun == out.StudyRun || out2.Done != 8 || out2.Resumed {
		t.Errorf("second run = %+v", out2)
	}
}

func TestRetries(t *testing.T) {
	db, s := testDB(t), testSpec(t)
	f := newFake(db)
	f.fail = func(c Cell, attempt int) int {
		switch c.Seq {
		case 3: // fails twice, then succeeds
			if attempt <= 2 {
				return 1
			}
		case 5: // always fails
			return 1
		case 6: // bad input: never retried
			return exitcode.Usage
		case 7: // the run is ok, shipping failed: kept, not measured again
			return 1
		}
		return 0
	}
	f.okStatus = func(c Cell) bool { return c.Seq == 7 }
	cfg := cfgFor(t, db, s, f)
	cfg.Retries = 2
	out, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !out.Finished || out.Done != 6 || out.Failed != 2 {
		t.Fatalf("outcome = %+v", out)
	}
	if f.calls[3] != 3 || f.calls[5] != 3 || f.calls[6] != 1 || f.calls[1] != 1 || f.calls[7] != 1 {
		t.Errorf("attempts = %v", f.calls)
	}
	cells, _ := db.StudyCells(context.Background(), out.StudyRun)
	if c := cells[2]; c.State != results.CellDone || c.Attempts != 3 || c.Error != "" {
		t.Errorf("cell 3 = %+v", c)
	}
	if c := cells[6]; c.State != results.CellDone || c.RunID == "" || c.Error != "scripted failure" {
		t.Errorf("cell 7 = %+v", c)
	}
	if c := cells[4]; c.State != results.CellFailed || c.Attempts != 3 || c.Error != "scripted failure" {
		t.Errorf("cell 5 = %+v", c)
	}
	atts, _ := db.StudyAttempts(context.Background(), out.StudyRun)
	n := 0
	for _, a := range atts {
		if a.Seq == 3 {
			n++
			if want := map[int]string{1: "failed", 2: "failed", 3: "done"}[a.Attempt]; a.Outcome != want || a.RunID == "" || a.LogPath == "" {
				t.Errorf("attempt %+v, want outcome %s", a, want)
			}
		}
	}
	if n != 3 {
		t.Errorf("%d attempts of cell 3 recorded", n)
	}
}

// TestResume: a study whose process died mid-cell is continued: done
// cells are not repeated, the cell left running runs again (its attempt
// recorded as abandoned), the rest runs once.
func TestResume(t *testing.T) {
	db, s := testDB(t), testSpec(t)
	ctx := context.Background()
	f := newFake(db)
	ctx1, cancel := context.WithCancel(ctx)
	f.hook = func(_ context.Context, c Cell) int {
		if c.Seq == 4 {
			cancel() // Ctrl-C during cell 4: the child reports 130
			return exitcode.Interrupted
		}
		return 0
	}
	dead := results.StudyOwner{Host: "test", PID: 0, Token: "dead"}
	cfg := cfgFor(t, db, s, f)
	cfg.Owner = dead
	out, err := Run(ctx1, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !out.Interrupted || out.Finished || out.Done != 3 || out.Pending != 5 {
		t.Fatalf("interrupted outcome = %+v", out)
	}
	// As if the dead process had started cell 5 when it was killed, before
	// the cell stored its run.
	if err := db.StartStudyCell(ctx, out.StudyRun, 5, 1, "20261206-000000-000000", "", time.Now()); err != nil {
		t.Fatal(err)
	}
	f.hook = nil
	cfg.Owner = results.StudyOwner{Host: "test", PID: 0, Token: "new"}
	out2, err := Run(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if out2.StudyRun != out.StudyRun || !out2.Resumed || !out2.Finished || out2.Done != 8 {
		t.Fatalf("resumed outcome = %+v", out2)
	}
	if !strings.Contains(strings.Join(out2.Notes, "\n"), "cell 5") {
		t.Errorf("notes = %q", out2.Notes)
	}
	for seq := 1; seq <= 8; seq++ {
		if f.ok[seq] != 1 {
			t.Errorf("cell %d succeeded %d times", seq, f.ok[seq])
		}
	}
	atts, _ := db.StudyAttempts(ctx, out.StudyRun)
	outcomes := map[string]int{}
	for _, a := range atts {
		outcomes[fmt.Sprintf("%d %s", a.Seq, a.Outcome)]++
	}
	if outcomes["4 interrupted"] != 1 || outcomes["5 abandoned"] != 1 || outcomes["4 done"] != 1 || outcomes["5 done"] != 1 {
		t.Errorf("attempt outcomes = %v", outcomes)
	}
	sr, _ := db.GetStudyRun(ctx, out.StudyRun)
	if sr.Owner.Token != "new" || sr.Status != results.StudyFinished {
		t.Errorf("study run = %+v", sr)
	}
}

// TestBusy: a study run whose owner is alive is not taken over; --new
// leaves an unfinished one alone.
func TestBusyAndNew(t *testing.T) {
	db, s := testDB(t), testSpec(t)
	ctx := context.Background()
	f := newFake(db)
	ctx1, cancel := context.WithCancel(ctx)
	f.hook = func(context.Context, Cell) int { cancel(); return exitcode.Interrupted }
	cfg := cfgFor(t, db, s, f)
	cfg.Owner = Self() // alive: this test process
	out, err := Run(ctx1, cfg)
	if err != nil || !out.Interrupted {
		t.Fatalf("%+v %v", out, err)
	}
	f.hook = nil
	other := cfgFor(t, db, s, f)
	if _, err := Run(ctx, other); err == nil || !strings.Contains(err.Error(), "being run by pid") {
		t.Fatalf("took over a live study run: %v", err)
	}
	other.New = true
	if _, err := Run(ctx, other); err == nil {
		t.Fatal("--new ran next to a live study run")
	}
	// An unfinished study run whose owner is gone: --new leaves it alone
	// and starts another.
	db2 := testDB(t)
	f2 := newFake(db2)
	cfg2 := cfgFor(t, db2, s, f2)
	ctx2, cancel2 := context.WithCancel(ctx)
	f2.hook = func(context.Context, Cell) int { cancel2(); return exitcode.Interrupted }
	first, err := Run(ctx2, cfg2)
	if err != nil {
		t.Fatal(err)
	}
	f2.hook = nil
	cfg2.New = true
	second, err := Run(ctx, cfg2)
	if err != nil {
		t.Fatal(err)
	}
	if second.StudyRun == first.StudyRun || second.Resumed || second.Done != 8 || len(second.Notes) == 0 {
		t.Errorf("--new outcome = %+v", second)
	}
	srs, _ := db2.StudyRuns(ctx, "t")
	if len(srs) != 2 || srs[0].Status != results.StudyRunning {
		t.Errorf("study runs = %+v", srs)
	}
}

// TestTeardownStops: a cell whose stack teardown failed stops the study.
func TestTeardownStops(t *testing.T) {
	db, s := testDB(t), testSpec(t)
	f := newFake(db)
	f.fail = func(c Cell, _ int) int {
		if c.Seq == 2 {
			return exitcode.Teardown
		}
		return 0
	}
	cfg := cfgFor(t, db, s, f)
	cfg.Retries = 3
	out, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if out.Stopped == "" || out.Finished || out.Done != 1 || out.Failed != 1 || f.calls[2] != 1 || f.calls[3] != 0 {
		t.Errorf("outcome = %+v calls = %v", out, f.calls)
	}
}

func TestExecutorArgs(t *testing.T) {
	e := &ProcessExecutor{Binary: "/bin/fbrun", GlobalArgs: []string{"--db", "/d.db"}, ExtraArgs: []string{"--state=file:///s"}}
	c := Cell{Experiment: "cold-start", Params: map[string]string{"samples": "3", "function": "function2"},
		Platform: Platform{Name: "x", Platform: "aws", Stack: map[string]string{"region": "eu-west-1", "memory": "512"}, Local: map[string]string{"idle-timeout": "2s"}}}
	got := strings.Join(e.Args(c, "20261206-020000-abcdef"), " ")
	want := "--db /d.db experiment cold-start --run-id 20261206-020000-abcdef --platform aws --json --no-progress --set function=function2 --set samples=3 " +
		"--local-idle-timeout=2s --stack-set memory=512 --stack-set region=eu-west-1 --state=file:///s"
	if got != want {
		t.Errorf("args\n got %s\nwant %s", got, want)
	}
}
