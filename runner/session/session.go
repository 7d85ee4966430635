// Package session runs one experiment against one platform and stores it:
// it resolves parameters, creates the run row, streams every invocation to
// the results database while the experiment runs, and marks the run ok,
// failed or interrupted at the end — also after a panic or Ctrl-C. It is the
// one place an experiment is run into a database: the fbrun CLI uses it for
// local and direct platforms, and runner.RunExperiment inside the stack a
// managed run stands up.
package session

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"runtime/debug"
	"time"

	"github.com/faas-benchmarker/faas-benchmarker/engine"
	"github.com/faas-benchmarker/faas-benchmarker/experiments"
	"github.com/faas-benchmarker/faas-benchmarker/internal/runowner"
	"github.com/faas-benchmarker/faas-benchmarker/providers"
	"github.com/faas-benchmarker/faas-benchmarker/results"
)

// Config describes one run.
type Config struct {
	// DB stores the run. Required.
	DB *results.DB
	// Experiment to run. Required.
	Experiment experiments.Experiment
	// Params are already-resolved parameters (experiments.Resolve).
	Params experiments.Params
	// Invoker reaches the platform. Required.
	Invoker providers.Invoker
	// Platform is the platform name stored with the run (default
	// Invoker.Platform()).
	Platform string
	// PlatformConfig describes the platform as configured (stored).
	PlatformConfig map[string]any
	// RunID overrides the generated run id (results.NewRunID); the runner
	// names a managed run's stack after it before the run starts.
	RunID string
	// Engine tunes the Benchmarker (Invoker, Sink and RunID are set here).
	Engine engine.Config
	// Logger receives progress logs (default: discard).
	Logger *slog.Logger
}

// Outcome is what a run produced.
type Outcome struct {
	RunID     string
	Status    string
	Estimates experiments.Estimates
	Rows      int64
	Started   time.Time
	Ended     time.Time
	// Err is the experiment's error (nil when Status is ok).
	Err error
}

// Run executes the experiment. It returns an error only when the run could
// not be recorded at all (database failure, or an Invoker that is a
// providers.Describer failing to describe the running platform, before
// anything is stored); the experiment's own failure is in Outcome.Err and
// Outcome.Status. What a Describer reports is added to the stored
// PlatformConfig (over keys of the same name).
func Run(ctx context.Context, cfg Config) (*Outcome, error) {
	if cfg.DB == nil || cfg.Experiment == nil || cfg.Invoker == nil {
		return nil, errors.New("session: DB, Experiment and Invoker are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	platform := cfg.Platform
	if platform == "" {
		platform = cfg.Invoker.Platform()
	}
	pcfg, err := describe(ctx, cfg.Invoker, cfg.PlatformConfig)
	if err != nil {
		return nil, err
	}
	pcfg = withClientTimeout(pcfg, cfg.Engine.Timeout)
	started := time.Now()
	id := cfg.RunID
	if id == "" {
		id = results.NewRunID(started)
	}
	run := results.Run{
		ID: id, Experiment: cfg.Experiment.Name(), Platform: platform, Params: cfg.Params.Map(),
		PlatformConfig: pcfg, ToolVersion: ToolVersion(), GitCommit: GitCommit(),
		ClientHost: ClientHost(), StartedAt: started, Owner: runowner.Self(),
	}
	if err := cfg.DB.CreateRun(ctx, run); err != nil {
		return nil, err
	}
	w := cfg.DB.NewWriter(results.WriterConfig{})
	ecfg := cfg.Engine
	ecfg.RunID, ecfg.Invoker, ecfg.Sink = id, cfg.Invoker, w
	if ecfg.Logger == nil {
		ecfg.Logger = cfg.Logger
	}
	b, err := engine.New(ecfg)
	if err != nil {
		w.Close()
		return nil, err
	}
	cfg.Logger.Info("run started", "run", id, "experiment", run.Experiment, "platform", platform)
	est, runErr := runProtected(ctx, cfg.Experiment, b, cfg.Params)
	if err := cfg.Params.Err(); err != nil {
		runErr = errors.Join(runErr, fmt.Errorf("experiment %s: %w", cfg.Experiment.Name(), err))
	}
	// An estimate written around Estimates.Set that JSON cannot hold fails
	// the run by name; the other estimates are stored.
	if err := est.Validate(); err != nil {
		runErr = errors.Join(runErr, fmt.Errorf("experiment %s: %w", cfg.Experiment.Name(), err))
		est = validEstimates(est)
	}
	werr := w.Close()
	if runErr == nil {
		runErr = b.SinkErr()
	}
	out := &Outcome{RunID: id, Estimates: est, Rows: w.Rows(), Started: started, Ended: time.Now(), Err: runErr}
	switch {
	case ctx.Err() != nil:
		out.Status = results.StatusInterrupted
		if out.Err == nil {
			out.Err = ctx.Err()
		}
	case runErr != nil:
		out.Status = results.StatusFailed
	default:
		out.Status = results.StatusOK
	}
	// Record the end even when ctx was cancelled: that is the point.
	sum := results.Summary{RunID: id, Experiment: run.Experiment, Platform: platform, Params: run.Params}
	if err := finish(context.WithoutCancel(ctx), cfg.DB, out, sum); err != nil {
		return out, err
	}
	if werr != nil {
		return out, fmt.Errorf("session: storing invocations: %w", werr)
	}
	cfg.Logger.Info("run finished", "run", id, "status", out.Status, "rows", out.Rows)
	return out, nil
}

// finish stores the run's end: its status and summary (sum completed
// from out). A summary JSON cannot hold — not reachable with validated
// estimates — still finishes the run, as failed, with the reason; the
// returned error then says so.
func finish(ctx context.Context, db *results.DB, out *Outcome, sum results.Summary) error {
	sum.Status, sum.Estimates = out.Status, out.Estimates
	if out.Err != nil {
		sum.Error = out.Err.Error()
	}
	if sum.Estimates == nil {
		sum.Estimates = map[string]float64{}
	}
	js, encErr := json.Marshal(sum)
	if encErr != nil {
		encErr = fmt.Errorf("session: encoding the summary of run %s: %w", out.RunID, encErr)
		out.Status, out.Err = results.StatusFailed, errors.Join(out.Err, encErr)
		sum.Status, sum.Error, sum.Estimates = out.Status, out.Err.Error(), map[string]float64{}
		var err error
		if js, err = json.Marshal(sum); err != nil {
			return errors.Join(encErr, err)
		}
	}
	if err := db.FinishRun(ctx, out.RunID, out.Status, out.Ended, js, sum.Error); err != nil {
		return errors.Join(encErr, err)
	}
	return encErr
}

// validEstimates returns the estimates Set accepts.
func validEstimates(est experiments.Estimates) experiments.Estimates {
	out := experiments.Estimates{}
	for k, v := range est {
		_ = out.Set(k, v) // a refusal leaves k out; Validate named it
	}
	return out
}

// withClientTimeout returns pcfg with the client's timeout of one
// invocation (engine.Config.Timeout, its default where 0) as
// client_timeout_s: it depends on the deployment (engine.DefaultTimeoutFor)
// and decides which slow invocations count as timeouts.
func withClientTimeout(pcfg map[string]any, timeout time.Duration) map[string]any {
	if timeout <= 0 {
		timeout = engine.DefaultTimeout
	}
	out := make(map[string]any, len(pcfg)+1)
	for k, v := range pcfg {
		out[k] = v
	}
	out["client_timeout_s"] = timeout.Seconds()
	return out
}

// describe returns pcfg with what inv reads from the running platform
// when it is a providers.Describer (a copy: the caller's map is left as
// it is).
func describe(ctx context.Context, inv providers.Invoker, pcfg map[string]any) (map[string]any, error) {
	d, ok := inv.(providers.Describer)
	if !ok {
		return pcfg, nil
	}
	facts, err := d.Describe(ctx)
	if err != nil {
		return nil, fmt.Errorf("session: describe the platform: %w", err)
	}
	out := make(map[string]any, len(pcfg)+len(facts))
	for k, v := range pcfg {
		out[k] = v
	}
	for k, v := range facts {
		out[k] = v
	}
	return out, nil
}

// runProtected runs the experiment, turning a panic into an error so the
// run is still marked and everything measured stays stored.
func runProtected(ctx context.Context, e experiments.Experiment, b *engine.Benchmarker, p experiments.Params) (est experiments.Estimates, err error) {
	defer func() {
		if r := recover(); r != nil {
			b.Logger().Error("experiment panicked", "experiment", e.Name(), "panic", r, "stack", string(debug.Stack()))
			err = fmt.Errorf("experiment %s panicked: %v", e.Name(), r)
		}
	}()
	return e.Run(ctx, b, p)
}

// ToolVersion returns the fbrun module version from the build info.
func ToolVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		return bi.Main.Version
	}
	return "(devel)"
}

// GitCommit returns the VCS revision the binary was built from ("" if unknown),
// with "+dirty" when the tree had local changes.
func GitCommit() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return ""
	}
	var rev, dirty string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				dirty = "+dirty"
			}
		}
	}
	if rev == "" {
		return ""
	}
	return rev + dirty
}

// ClientHost describes the machine running the client.
func ClientHost() map[string]any {
	h, _ := os.Hostname()
	return map[string]any{
		"hostname": h, "os": runtime.GOOS, "arch": runtime.GOARCH, "cpus": runtime.NumCPU(), "go": runtime.Version(),
	}
}
