package study

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"github.com/faas-benchmarker/faas-benchmarker/internal/exitcode"
	"github.com/faas-benchmarker/faas-benchmarker/internal/runowner"
	"github.com/faas-benchmarker/faas-benchmarker/results"
)

// Config configures one `fbrun study run`.
type Config struct {
	// DB holds the journal (and, through the executor, the runs). Required.
	DB *results.DB
	// Spec is the validated study. Required.
	Spec *Spec
	// Executor runs cells. Required.
	Executor Executor
	// New starts a new study run even when the latest one has cells left.
	New bool
	// Retries is how often a failed cell is tried again before it is
	// recorded as failed (0: never).
	Retries int
	// RetryDelay is the wait before a retry.
	RetryDelay time.Duration
	// LogDir receives one log file per attempt
	// (LogDir/<study run>/<seq>-<attempt>.log). Required.
	LogDir string
	// Observer is told about progress (nil: nothing).
	Observer Observer
	// Logger receives logs (default: discard).
	Logger *slog.Logger
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Owner identifies this process (default: this host and pid).
	Owner results.StudyOwner
}

// Observer follows a study run, e.g. the CLI's progress display.
type Observer interface {
	// Begin is called once with every cell of the study run, its state
	// and its expected duration (0: unknown).
	Begin(run results.StudyRun, cells []PlannedCell)
	// CellStarted is called when an attempt of a cell starts.
	CellStarted(c Cell, attempt int)
	// CellEnded is called when an attempt ends; state is the cell's new
	// state (pending when it will be tried again).
	CellEnded(c Cell, attempt int, state string, res Result, took time.Duration)
}

// PlannedCell is a cell with its journal state and expected duration.
type PlannedCell struct {
	Cell     Cell
	State    string
	Expected time.Duration
}

// Outcome is what a study run did.
type Outcome struct {
	// StudyRun is the id of the study run.
	StudyRun string
	// Resumed is true when an unfinished study run was continued.
	Resumed bool
	// Notes are things the user should know (file changed since the
	// study run began, abandoned attempts ...).
	Notes []string
	// Done, Failed and Pending count the cells by state at the end.
	Done, Failed, Pending int
	// Interrupted is true when the run stopped early (Ctrl-C, SIGTERM,
	// or a teardown failure: see Stopped).
	Interrupted bool
	// Stopped explains a stop after a cell whose stack may be left
	// behind ("" otherwise).
	Stopped string
	// Finished is true when every cell is done or failed.
	Finished bool
}

// ErrBusy is returned when another live process runs the study run.
var ErrBusy = errors.New("study run is in progress in another process")

// Self returns this process as a study run owner (runowner.Self: its
// Start is the token that tells a reused pid apart).
func Self() results.StudyOwner {
	o := runowner.Self()
	return results.StudyOwner{Host: o.Host, PID: o.PID, Token: o.Start}
}

// ownerAlive reports whether o is a live process on this host
// (runowner.Check). An owner on another host counts as gone: a results
// database is used by one machine (SQLite over a network file system is
// not supported). Where the process start cannot be compared (no token
// recorded, or not Linux), any process with o's pid counts as alive.
func ownerAlive(o results.StudyOwner) bool {
	host, _ := os.Hostname()
	if o.Host != host {
		return false
	}
	switch runowner.Check(runowner.Owner{Host: o.Host, PID: o.PID, Start: o.Token}) {
	case runowner.Alive:
		return true
	case runowner.Gone:
		return false
	default:
		return runowner.Exists(o.PID)
	}
}

// Run executes (or continues) a study run: every pending cell in plan
// order, each attempt recorded in the journal before and after it runs.
// A cancelled ctx stops after the current cell has stopped (its child got
// the interrupt); the study run stays resumable.
func Run(ctx context.Context, cfg Config) (*Outcome, error) {
	if cfg.DB == nil || cfg.Spec == nil || cfg.Executor == nil || cfg.LogDir == "" {
		return nil, errors.New("study: DB, Spec, Executor and LogDir are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Owner == (results.StudyOwner{}) {
		cfg.Owner = Self()
	}
	out := &Outcome{}
	sr, err := openStudyRun(ctx, cfg, out)
	if err != nil {
		return nil, err
	}
	out.StudyRun = sr.ID
	rows, cells, failures, err := planCells(ctx, cfg, sr)
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(cfg.LogDir, sr.ID)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("study: log directory: %w", err)
	}
cells:
	for i, r := range rows {
		if r.State != results.CellPending {
			continue
		}
		c := cells[i]
		for attempt := r.Attempts + 1; ; attempt++ {
			if ctx.Err() != nil {
				out.Interrupted = true
				break cells
			}
			state, res, stop, err := runAttempt(ctx, cfg, sr.ID, dir, c, attempt, failures[c.Seq])
			if err != nil {
				return nil, err
			}
			if state == results.CellPending && res.ExitCode != exitcode.Interrupted && ctx.Err() == nil {
				failures[c.Seq]++
			}
			if stop != "" {
				out.Interrupted, out.Stopped = true, stop
				break cells
			}
			if state != results.CellPending {
				break
			}
			if ctx.Err() != nil || res.ExitCode == exitcode.Interrupted {
				out.Interrupted = true
				break cells
			}
			if cfg.RetryDelay > 0 {
				t := time.NewTimer(cfg.RetryDelay)
				select {
				case <-ctx.Done():
					t.Stop()
				case <-t.C:
				}
			}
		}
	}
	if err := finish(context.WithoutCancel(ctx), cfg, sr.ID, out); err != nil {
		return nil, err
	}
	return out, nil
}

// planCells reads the study run's cells from the journal, with each cell's
// failed attempts so far, and tells the observer the plan.
func planCells(ctx context.Context, cfg Config, sr results.StudyRun) ([]results.StudyCell, []Cell, map[int]int, error) {
	rows, err := cfg.DB.StudyCells(ctx, sr.ID)
	if err != nil {
		return nil, nil, nil, err
	}
	attempts, err := cfg.DB.StudyAttempts(ctx, sr.ID)
	if err != nil {
		return nil, nil, nil, err
	}
	failures := map[int]int{}
	for _, a := range attempts {
		if a.Outcome == results.CellFailed {
			failures[a.Seq]++
		}
	}
	expected, err := expectedDurations(ctx, cfg.DB, cfg.Spec.Name)
	if err != nil {
		return nil, nil, nil, err
	}
	cells := make([]Cell, len(rows))
	planned := make([]PlannedCell, len(rows))
	for i, r := range rows {
		c, err := decodeCell(r.Spec)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("study run %s cell %d: %w", sr.ID, r.Seq, err)
		}
		cells[i] = c
		planned[i] = PlannedCell{Cell: c, State: r.State, Expected: expected[cellKey{c.Platform.Name, c.Experiment}]}
	}
	if cfg.Observer != nil {
		cfg.Observer.Begin(sr, planned)
	}
	return rows, cells, failures, nil
}

// finish counts the cells by state into out and marks the study run
// finished when no cell is left.
func finish(ctx context.Context, cfg Config, srID string, out *Outcome) error {
	final, err := cfg.DB.StudyCells(ctx, srID)
	if err != nil {
		return err
	}
	for _, c := range final {
		switch c.State {
		case results.CellDone:
			out.Done++
		case results.CellFailed:
			out.Failed++
		default:
			out.Pending++
		}
	}
	if out.Pending > 0 {
		return nil
	}
	out.Finished = true
	return cfg.DB.FinishStudyRun(ctx, srID, results.StudyFinished, cfg.Now())
}

// runAttempt runs one attempt of c and records it: it chooses the run id
// and journals it before the cell starts, and reads the run the cell
// stored back from the database by that id. It returns the cell's new
// state, the result and, when the study must stop because a stack may be
// left behind, why.
func runAttempt(ctx context.Context, cfg Config, srID, dir string, c Cell, attempt, failed int) (string, Result, string, error) {
	jctx := context.WithoutCancel(ctx) // the journal is written even after Ctrl-C
	logPath := filepath.Join(dir, strconv.Itoa(c.Seq)+"-"+strconv.Itoa(attempt)+".log")
	start := cfg.Now()
	runID := results.NewRunID(start)
	if err := cfg.DB.StartStudyCell(jctx, srID, c.Seq, attempt, runID, logPath, start); err != nil {
		return "", Result{}, "", err
	}
	if cfg.Observer != nil {
		cfg.Observer.CellStarted(c, attempt)
	}
	cfg.Logger.Info("cell started", "study_run", srID, "cell", c.Label(), "attempt", attempt, "run", runID)
	logf, err := os.Create(logPath)
	var log io.Writer = io.Discard
	if err == nil {
		defer logf.Close()
		log = logf
	} else {
		cfg.Logger.Warn("cannot write the cell log", "path", logPath, "err", err)
	}
	res, runErr := cfg.Executor.Run(ctx, c, runID, log)
	if runErr != nil {
		res = Result{ExitCode: -1, Err: runErr.Error()}
	}
	if err := readRun(jctx, cfg.DB, runID, &res); err != nil {
		return "", res, "", err
	}
	end := cfg.Now()
	state, outcome, stop := cellOutcome(cfg, c, res, runErr, ctx.Err() != nil, failed, logPath)
	if err := cfg.DB.EndStudyAttempt(jctx, srID, c.Seq, outcome, state, res.RunID, res.Err, end); err != nil {
		return "", res, "", err
	}
	cfg.Logger.Info("cell ended", "study_run", srID, "cell", c.Label(), "attempt", attempt, "state", state, "run", res.RunID, "err", res.Err)
	if cfg.Observer != nil {
		cfg.Observer.CellEnded(c, attempt, state, res, end.Sub(start))
	}
	return state, res, stop, nil
}

// readRun fills res with the run stored under runID: its id and status,
// and, for a failed attempt, the run's own error (except after a failed
// teardown, whose message is the process's last line). No stored run
// leaves res without one.
func readRun(ctx context.Context, db *results.DB, runID string, res *Result) error {
	res.RunID, res.Status = "", ""
	run, err := db.GetRun(ctx, runID)
	if errors.Is(err, results.ErrNoRun) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("study: reading the cell's run back: %w", err)
	}
	res.RunID, res.Status = run.ID, run.Status
	if res.ExitCode != 0 && res.ExitCode != exitcode.Teardown && run.Error != "" {
		res.Err = run.Error
	}
	return nil
}

// cellOutcome decides a cell's new state and the attempt's outcome from
// its result, and whether the study must stop.
func cellOutcome(cfg Config, c Cell, res Result, runErr error, interrupted bool, failed int, logPath string) (state, outcome, stop string) {
	// A run stored as ok is kept even when something after it failed
	// (shipping, the merge, the teardown): running the cell again would
	// measure it twice.
	okRun := res.RunID != "" && res.Status == results.StatusOK
	state, outcome = results.CellDone, results.CellDone
	switch {
	case res.ExitCode == 0 && runErr == nil:
	case res.ExitCode == exitcode.Interrupted || interrupted && !okRun:
		state, outcome = results.CellPending, results.AttemptInterrupted
	case res.ExitCode == exitcode.Teardown:
		if !okRun {
			state, outcome = results.CellFailed, results.CellFailed
		}
		stop = fmt.Sprintf("%s: the stack's teardown failed (%s): the study stops so that no further stacks are deployed; see the cell log %s and fbrun cleanup", c.Label(), res.Err, logPath)
	case okRun:
	case res.ExitCode == exitcode.Usage || failed >= cfg.Retries:
		state, outcome = results.CellFailed, results.CellFailed
	default:
		state, outcome = results.CellPending, results.CellFailed
	}
	return state, outcome, stop
}

// openStudyRun continues the latest study run of the study when it has
// cells left and its owner is gone, or creates a new one.
func openStudyRun(ctx context.Context, cfg Config, out *Outcome) (results.StudyRun, error) {
	runs, err := cfg.DB.StudyRuns(ctx, cfg.Spec.Name)
	if err != nil {
		return results.StudyRun{}, err
	}
	if len(runs) > 0 {
		latest := runs[len(runs)-1]
		if latest.Status == results.StudyRunning {
			if ownerAlive(latest.Owner) && latest.Owner != cfg.Owner {
				return results.StudyRun{}, fmt.Errorf("%w: %s is being run by pid %d on %s (wait for it, or stop it)",
					ErrBusy, latest.ID, latest.Owner.PID, latest.Owner.Host)
			}
			if !cfg.New {
				return resume(ctx, cfg, latest, out)
			}
			out.Notes = append(out.Notes, fmt.Sprintf("study run %s is left unfinished (--new)", latest.ID))
		}
	}
	now := cfg.Now()
	id := cfg.Spec.Name + "-" + now.UTC().Format("20060102-150405")
	for i := 2; slices.ContainsFunc(runs, func(r results.StudyRun) bool { return r.ID == id }); i++ {
		id = cfg.Spec.Name + "-" + now.UTC().Format("20060102-150405") + "-" + strconv.Itoa(i)
	}
	sr := results.StudyRun{ID: id, Study: cfg.Spec.Name, File: cfg.Spec.Path, FileSHA256: cfg.Spec.SHA256,
		Spec: string(cfg.Spec.Source), StartedAt: now, Status: results.StudyRunning, Owner: cfg.Owner}
	var cells []results.StudyCell
	for _, c := range Plan(cfg.Spec) {
		js, err := c.specJSON()
		if err != nil {
			return sr, err
		}
		cells = append(cells, results.StudyCell{Seq: c.Seq, Platform: c.Platform.Name, Experiment: c.Experiment, Repetition: c.Repetition, Spec: js})
	}
	if err := cfg.DB.CreateStudyRun(ctx, sr, cells); err != nil {
		return sr, err
	}
	return sr, nil
}

// resume claims an unfinished study run whose owner is gone and puts the
// cells its owner left running back to pending (their attempts are
// recorded as abandoned and do not count as failures).
func resume(ctx context.Context, cfg Config, sr results.StudyRun, out *Outcome) (results.StudyRun, error) {
	if sr.Owner != cfg.Owner {
		ok, err := cfg.DB.ClaimStudyRun(ctx, sr.ID, sr.Owner, cfg.Owner)
		if err != nil {
			return sr, err
		}
		if !ok {
			return sr, fmt.Errorf("%w: %s was claimed by another process just now", ErrBusy, sr.ID)
		}
		sr.Owner = cfg.Owner
	}
	out.Resumed = true
	if sr.FileSHA256 != cfg.Spec.SHA256 {
		out.Notes = append(out.Notes, fmt.Sprintf("%s changed since study run %s began: it is finished with the plan it began with (use --new to start one with the new file)", cfg.Spec.Path, sr.ID))
	}
	cells, err := cfg.DB.StudyCells(ctx, sr.ID)
	if err != nil {
		return sr, err
	}
	attempts, err := cfg.DB.StudyAttempts(ctx, sr.ID)
	if err != nil {
		return sr, err
	}
	for _, c := range cells {
		if c.State != results.CellRunning {
			continue
		}
		if err := settleAbandoned(ctx, cfg, sr.ID, c, attempts, out); err != nil {
			return sr, err
		}
	}
	return sr, nil
}

// settleAbandoned ends the attempt of a cell that was running when the
// study process stopped. The attempt's run id was journaled before it
// started: when that run is stored ok, it finished before the study
// stopped and the cell is done (running it again would measure it twice);
// otherwise the cell goes back to pending and runs again.
func settleAbandoned(ctx context.Context, cfg Config, srID string, c results.StudyCell, attempts []results.StudyAttempt, out *Outcome) error {
	var runID string
	for _, a := range attempts {
		if a.Seq == c.Seq && a.Attempt == c.Attempts {
			runID = a.RunID
		}
	}
	res := Result{}
	if runID != "" {
		if err := readRun(ctx, cfg.DB, runID, &res); err != nil {
			return err
		}
	}
	label := fmt.Sprintf("cell %d (%s on %s #%d)", c.Seq, c.Experiment, c.Platform, c.Repetition)
	if res.Status == results.StatusOK {
		out.Notes = append(out.Notes, fmt.Sprintf("%s: its run %s had finished before the study process stopped: it is kept", label, res.RunID))
		return cfg.DB.EndStudyAttempt(ctx, srID, c.Seq, results.CellDone, results.CellDone, res.RunID, "", cfg.Now())
	}
	out.Notes = append(out.Notes, label+" was running when the study process stopped: it runs again")
	return cfg.DB.EndStudyAttempt(ctx, srID, c.Seq, results.AttemptAbandoned, results.CellPending, res.RunID,
		"the study process stopped while this attempt ran", cfg.Now())
}

type cellKey struct{ platform, experiment string }

// expectedDurations returns, per platform label and experiment, the median
// duration of the cells of this study that finished done before — the
// ETA's basis. Cells never run before are unknown (absent).
func expectedDurations(ctx context.Context, db *results.DB, study string) (map[cellKey]time.Duration, error) {
	runs, err := db.StudyRuns(ctx, study)
	if err != nil {
		return nil, err
	}
	took := map[cellKey][]time.Duration{}
	for _, r := range runs {
		cells, err := db.StudyCells(ctx, r.ID)
		if err != nil {
			return nil, err
		}
		for _, c := range cells {
			if c.State == results.CellDone && !c.StartedAt.IsZero() && !c.EndedAt.IsZero() {
				k := cellKey{c.Platform, c.Experiment}
				took[k] = append(took[k], c.EndedAt.Sub(c.StartedAt))
			}
		}
	}
	out := map[cellKey]time.Duration{}
	for k, ds := range took {
		slices.Sort(ds)
		out[k] = ds[len(ds)/2]
	}
	return out, nil
}
