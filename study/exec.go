package study

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/faas-benchmarker/faas-benchmarker/internal/exitcode"
)

// Executor runs one cell. Implementations store the cell's run in the
// study's results database under runID, which the study chose and
// journaled before the cell started; the study reads the run back from
// the database by that id.
type Executor interface {
	// Run runs the cell; log receives its diagnostic output. The error
	// is non-nil only when the cell could not be run at all; a cell that
	// ran and failed reports it in Result's ExitCode and Err.
	Run(ctx context.Context, c Cell, runID string, log io.Writer) (Result, error)
}

// Result is what one attempt of a cell produced.
type Result struct {
	// RunID is the stored run ("" when none was stored); the study reads
	// it from the database by the id it chose.
	RunID string
	// Status is the stored run's status (results.Status*), "" without a
	// run.
	Status string
	// ExitCode is the process exit code (0: success).
	ExitCode int
	// Err describes a failure in one line ("" on success).
	Err string
}

// ProcessExecutor runs each cell as a child process of the fbrun binary:
// `fbrun [global flags] experiment NAME --run-id ID --platform P --json
// --no-progress --set ... --local-... --stack-set ... [extra flags]`; the
// child stores its run under ID. A cell that crashes cannot take the
// study down, and cloud cells take exactly the path `fbrun experiment`
// takes (stack per run, shipping, teardown always).
type ProcessExecutor struct {
	// Binary is the fbrun executable (os.Executable()).
	Binary string
	// GlobalArgs come before the command (--db PATH, --log-level L).
	GlobalArgs []string
	// ExtraArgs are appended to every cell (runner and shipping flags).
	ExtraArgs []string
	// Env is the child's environment (nil: inherited).
	Env []string
	// StopGrace is how long a child may take to stop after an interrupt
	// (its teardown) before it is killed (default 35 minutes: longer than
	// the runner's destroy timeout).
	StopGrace time.Duration
}

// Args returns the child's arguments for cell c run as runID (without the
// binary).
func (e *ProcessExecutor) Args(c Cell, runID string) []string {
	args := append([]string{}, e.GlobalArgs...)
	args = append(args, "experiment", c.Experiment, "--"+FlagRunID, runID, "--platform", c.Platform.Platform, "--json", "--no-progress")
	for _, k := range slices.Sorted(maps.Keys(c.Params)) {
		args = append(args, "--set", k+"="+c.Params[k])
	}
	for _, k := range slices.Sorted(maps.Keys(c.Platform.Local)) {
		args = append(args, "--local-"+k+"="+c.Platform.Local[k])
	}
	for _, s := range c.Platform.StackSets() {
		args = append(args, "--stack-set", s)
	}
	return append(args, e.ExtraArgs...)
}

// FlagRunID is the `fbrun experiment` flag that names the run to store.
const FlagRunID = "run-id"

// Run implements Executor.
func (e *ProcessExecutor) Run(ctx context.Context, c Cell, runID string, log io.Writer) (Result, error) {
	if e.Binary == "" {
		return Result{}, errors.New("study: executor without a binary")
	}
	args := e.Args(c, runID)
	cmd := exec.CommandContext(ctx, e.Binary, args...)
	cmd.Env = e.Env
	tail := &tailWriter{max: 4096}
	lw := &lockedWriter{w: log} // stdout and stderr are copied by two goroutines
	cmd.Stdout = lw
	cmd.Stderr = io.MultiWriter(lw, tail)
	// Ctrl-C of the study (or SIGTERM) interrupts the child the way
	// Ctrl-C interrupts `fbrun experiment`: it stores what it measured
	// and tears its stack down. Only after StopGrace is it killed.
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = e.StopGrace
	if cmd.WaitDelay <= 0 {
		cmd.WaitDelay = 35 * time.Minute
	}
	setDeathSignal(cmd)
	fmt.Fprintf(lw, "$ %s %s\n", e.Binary, strings.Join(args, " "))
	runErr := cmd.Run()
	res := Result{}
	var ee *exec.ExitError
	switch {
	case runErr == nil:
	case errors.As(runErr, &ee):
		res.ExitCode = ee.ExitCode()
		if res.ExitCode < 0 { // killed by a signal: a crash, unless we stopped it
			if ctx.Err() != nil {
				res.ExitCode = exitcode.Interrupted
			} else {
				res.Err = "the cell's process was killed (" + ee.String() + ")"
			}
		}
	default:
		return res, fmt.Errorf("study: running %s: %w", c.Label(), runErr)
	}
	if res.ExitCode > 0 && res.Err == "" {
		res.Err = lastLine(tail.String())
		if res.Err == "" {
			res.Err = fmt.Sprintf("exit status %d", res.ExitCode)
		}
	}
	return res, nil
}

// lockedWriter serialises writes to w.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// tailWriter keeps the last max bytes written.
type tailWriter struct {
	max int
	buf []byte
}

func (t *tailWriter) Write(p []byte) (int, error) {
	t.buf = append(t.buf, p...)
	if len(t.buf) > t.max {
		t.buf = t.buf[len(t.buf)-t.max:]
	}
	return len(p), nil
}

func (t *tailWriter) String() string { return string(t.buf) }

// lastLine returns the last non-empty line of s, without the "fbrun: "
// prefix of the CLI's error line.
func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if l := strings.TrimSpace(lines[i]); l != "" {
			return strings.TrimPrefix(l, "fbrun: ")
		}
	}
	return ""
}
