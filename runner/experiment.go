package runner

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/faas-benchmarker/faas-benchmarker/engine"
	"github.com/faas-benchmarker/faas-benchmarker/experiments"
	"github.com/faas-benchmarker/faas-benchmarker/platforms"
	"github.com/faas-benchmarker/faas-benchmarker/platforms/builtin"
	"github.com/faas-benchmarker/faas-benchmarker/results"
	"github.com/faas-benchmarker/faas-benchmarker/runner/session"
	"github.com/faas-benchmarker/faas-benchmarker/stacks/program"
	"github.com/faas-benchmarker/faas-benchmarker/stacks/stackcfg"
)

// ExperimentRun describes one managed run: an experiment on a platform
// whose functions a throwaway stack deploys for the run.
type ExperimentRun struct {
	// DB is the user's results database; the run is merged into it.
	DB *results.DB
	// RunsDir receives the standalone per-run results file
	// (<run id>.sqlite), which is what gets shipped. Required.
	RunsDir string
	// Platform names a platform of platforms/builtin that has a stack.
	Platform string
	// StackSets are "key=value" stack settings overrides (fb: keys,
	// see docs/infrastructure.md), applied after the defaults.
	StackSets []string
	// LocalEndpoint is the local platform URL (platform local-stack only).
	LocalEndpoint string
	// Experiment and Params to run.
	Experiment experiments.Experiment
	Params     experiments.Params
	// Keep keeps the stack after the run (it keeps costing money).
	Keep bool
	// Engine tunes the Benchmarker.
	Engine engine.Config
	// Logger receives the experiment's logs (default: discard).
	Logger *slog.Logger
	// RunID is the run's id (default: results.NewRunID at Now); a study
	// chooses it before the run starts.
	RunID string
	// Now is the clock for the run id (default time.Now).
	Now func() time.Time
	// Readiness bounds the wait, after up, until every deployed function
	// answers correctly; its Out defaults to Progress.
	Readiness Readiness
	// Progress receives progress lines (default: discard).
	Progress io.Writer
}

// Outcome is what a managed run produced.
type Outcome struct {
	// Session is the experiment's outcome (nil when the stack never came up).
	Session *session.Outcome
	// Stack tells what happened to the stack and the shipped file.
	Stack *Result
	// ResultsFile is the standalone per-run results file.
	ResultsFile string
	// Imported is true when the run was merged into ExperimentRun.DB.
	Imported bool
}

// RunExperiment is the whole managed run: it stands the run's stack up
// (named by StackName from the experiment, platform and run id), waits
// until every deployed function answers, runs the experiment against the
// stack's outputs into a standalone per-run results file (package session,
// the one place an experiment is run into a database), tears the stack
// down — always, see RunStack — ships that file and merges it into
// ExperimentRun.DB. The returned error joins every failure (experiment,
// stack, teardown — check for *TeardownError — shipping, merge); Outcome
// says how far the run got.
func (r *Runner) RunExperiment(ctx context.Context, cfg ExperimentRun) (*Outcome, error) {
	if cfg.Experiment == nil || cfg.RunsDir == "" {
		return nil, errors.New("runner: Experiment and RunsDir are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	runID := cfg.RunID
	if runID == "" {
		runID = results.NewRunID(cfg.Now())
	}
	stackName, err := StackName(cfg.Experiment.Name(), strings.ReplaceAll(cfg.Platform, "-", ""), runID)
	if err != nil {
		return nil, err
	}
	prog, stackConfig, invokerFor, desc, err := plan(cfg, runID, stackName)
	if err != nil {
		return nil, err
	}
	// The engine offers what the platform declares.
	cfg.Engine.Capabilities, cfg.Engine.Pricing = desc.Caps(), desc.Pricing
	if err := os.MkdirAll(cfg.RunsDir, 0o755); err != nil {
		return nil, fmt.Errorf("runner: runs directory: %w", err)
	}
	out := &Outcome{ResultsFile: filepath.Join(cfg.RunsDir, runID+".sqlite")}
	spec := Spec{
		StackSpec:   StackSpec{StackName: stackName, Program: prog, Config: stackConfig},
		Keep:        cfg.Keep,
		ResultsPath: out.ResultsFile,
		Run: func(ctx context.Context, outputs auto.OutputMap) error {
			setup, err := invokerFor(ctx, outputs)
			if err != nil {
				return err
			}
			inv, pcfg, eng := setup.Invoker, setup.Config, cfg.Engine
			// The deployment's own price (the Azure plan) wins over the
			// platform's.
			eng.Pricing = desc.PricingFor(setup)
			// Probe every function before the experiment starts; a
			// deployment that never becomes ready fails the run, and the
			// stack is torn down.
			names, err := platforms.OutMap(plainOutputs(outputs), stackcfg.OutFunctionNames)
			if err != nil {
				return err
			}
			rc := cfg.Readiness
			if rc.Out == nil {
				rc.Out = cfg.Progress
			}
			if err := WaitReady(ctx, inv, platforms.SortedKeys(names), rc); err != nil {
				return err
			}
			rdb, err := results.Open(ctx, out.ResultsFile)
			if err != nil {
				return err
			}
			defer rdb.Close()
			pcfg["stack"] = stackName
			// The settings the stack was deployed with (the experiment's
			// defaults, then the user's): what a report needs to tell two
			// runs' deployments apart.
			pcfg["stack_settings"] = cfg.StackSets
			so, err := session.Run(ctx, session.Config{
				DB: rdb, Experiment: cfg.Experiment, Params: cfg.Params, Invoker: inv, Platform: cfg.Platform,
				PlatformConfig: pcfg, RunID: runID, Engine: eng, Logger: cfg.Logger,
			})
			out.Session = so
			if err != nil {
				return err
			}
			return so.Err
		},
	}
	res, runErr := r.RunStack(ctx, spec)
	out.Stack = res
	// Merge whatever was measured, even after a failure or Ctrl-C.
	var mergeErr error
	if cfg.DB != nil {
		if _, err := os.Stat(out.ResultsFile); err == nil {
			if _, err := cfg.DB.Import(context.WithoutCancel(ctx), out.ResultsFile); err != nil {
				mergeErr = fmt.Errorf("runner: merging %s into %s (the file is kept): %w", out.ResultsFile, cfg.DB.Path(), err)
			} else {
				out.Imported = true
			}
		}
	}
	return out, errors.Join(runErr, mergeErr)
}

// invokerFactory deploys what the platform deploys after the stack
// (platforms.Stack.Deploy), then builds the invoker from the stack's
// outputs, with the platform description stored with the run.
type invokerFactory func(context.Context, auto.OutputMap) (*platforms.Setup, error)

// plan returns the program, stack config and invoker factory for the
// platform, and its descriptor, looked up in the platform registry.
func plan(cfg ExperimentRun, runID, stackName string) (pulumi.RunFunc, map[string]string, invokerFactory, platforms.Platform, error) {
	reg, err := builtin.Registry()
	if err != nil {
		return nil, nil, nil, platforms.Platform{}, err
	}
	desc, err := reg.Lookup(cfg.Platform)
	if err != nil {
		return nil, nil, nil, platforms.Platform{}, fmt.Errorf("runner: %w", err)
	}
	st := desc.Stack
	if st == nil {
		return nil, nil, nil, platforms.Platform{}, fmt.Errorf("runner: platform %s deploys no stack", desc.Name)
	}
	invokerFor := func(ctx context.Context, outs auto.OutputMap) (*platforms.Setup, error) {
		return setupOnStack(ctx, st, plainOutputs(outs), cfg.Logger)
	}
	var stackConfig map[string]string
	if st.Config != nil {
		if stackConfig, err = st.Config(platforms.Target{LocalEndpoint: cfg.LocalEndpoint}); err != nil {
			return nil, nil, nil, platforms.Platform{}, fmt.Errorf("runner: %w", err)
		}
	}
	if !st.Settings {
		for _, o := range cfg.StackSets {
			return nil, nil, nil, platforms.Platform{}, fmt.Errorf("runner: %s takes no stack settings (got %q)", desc.Name, o)
		}
	}
	var settings stackcfg.Settings
	if st.Settings {
		if settings, err = Settings(st.Program, cfg.Experiment.Name(), runID, cfg.StackSets); err != nil {
			return nil, nil, nil, platforms.Platform{}, err
		}
		if err := checkArtifacts(settings); err != nil {
			return nil, nil, nil, platforms.Platform{}, err
		}
	}
	prog, err := program.Named(st.Program, settings)
	if err != nil {
		return nil, nil, nil, platforms.Platform{}, err
	}
	return prog, stackConfig, invokerFor, desc, nil
}

// setupOnStack runs on a stack that is up: it publishes what the stack
// does not deploy itself (st.Deploy), and only then builds the invoker,
// which the caller probes before the experiment starts.
func setupOnStack(ctx context.Context, st *platforms.Stack, outs map[string]any, logger *slog.Logger) (*platforms.Setup, error) {
	if st.Deploy != nil {
		if err := st.Deploy(ctx, outs, logger); err != nil {
			return nil, fmt.Errorf("runner: %w", err)
		}
	}
	s, err := st.FromOutputs(outs, logger)
	if err != nil {
		return nil, fmt.Errorf("runner: %w", err)
	}
	return s, nil
}

// Settings returns the validated stack settings of a per-experiment stack:
// the platform's defaults, the experiment and run ids, then overrides.
func Settings(platform, experiment, runID string, overrides []string) (stackcfg.Settings, error) {
	p := stackcfg.Platform(platform)
	if p == stackcfg.PlatformPermanent {
		return nil, errors.New("runner: the permanent stack is managed with fbrun up/down permanent")
	}
	s, err := stackcfg.New(p)
	if err != nil {
		return nil, err
	}
	if err := s.Set("experiment", stackID(experiment, stackcfg.MaxExperimentLen)); err != nil {
		return nil, err
	}
	if err := s.Set("run", stackID(runID, stackcfg.MaxRunLen)); err != nil {
		return nil, err
	}
	if err := setSecrets(s, os.Getenv); err != nil {
		return nil, err
	}
	if err := stackcfg.ApplyOverrides(s, overrides); err != nil {
		return nil, err
	}
	// The inline program does not run in the user's directory: package
	// paths must be absolute.
	if r, ok := s.(stackcfg.PathResolver); ok {
		wd, err := os.Getwd()
		if err != nil {
			return nil, fmt.Errorf("runner: %w", err)
		}
		r.ResolvePaths(wd)
	}
	return s, nil
}

// setSecrets sets the platform's secret stack settings (see
// stackcfg.SecretEnv) from their environment variables; the OpenFaaS
// gateway password, when not given, is a new random one for this run (the
// stack is thrown away after it). An explicit --stack-set still wins.
func setSecrets(s stackcfg.Settings, getenv func(string) string) error {
	for _, k := range stackcfg.SecretKeys() {
		env, _ := stackcfg.SecretEnv(k)
		if v := getenv(env); v != "" {
			if err := s.Set(k, v); err != nil {
				return fmt.Errorf("runner: %s: %w", env, err)
			}
		}
	}
	if g, ok := s.(stackcfg.RunSecrets); ok {
		return g.FillRunSecrets(stackcfg.NewPassword)
	}
	return nil
}

// stackID shortens an id to the stack naming limits, keeping its end (the
// random part of a run id) when it must cut.
func stackID(s string, max int) string {
	if len(s) <= max {
		return s
	}
	return s[len(s)-max:]
}

// checkArtifacts fails with the command to run when the lab function
// packages a stack deploys were not built.
func checkArtifacts(s stackcfg.Settings) error {
	type artifacted interface{ Artifact(lab string) string }
	a, ok := s.(artifacted)
	if !ok {
		return nil
	}
	for _, lab := range stackcfg.LabFunctions() {
		p := a.Artifact(lab)
		if p == "" {
			continue
		}
		if _, err := os.Stat(p); err != nil {
			return fmt.Errorf("runner: the lab function package %s is missing: build the artifacts with scripts/build-functions (in a source checkout), or point the stack at them with --stack-set", p)
		}
	}
	return nil
}

// PermanentProgram returns the permanent stack's program with KEY=VALUE
// overrides applied to its defaults.
func PermanentProgram(overrides []string) (pulumi.RunFunc, error) {
	s, err := stackcfg.New(stackcfg.PlatformPermanent)
	if err != nil {
		return nil, err
	}
	if err := stackcfg.ApplyOverrides(s, overrides); err != nil {
		return nil, err
	}
	return program.For(s)
}
