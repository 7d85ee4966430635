package fbcli

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/faas-benchmarker/faas-benchmarker/cmd/internal/progress"
	"github.com/faas-benchmarker/faas-benchmarker/engine"
	"github.com/faas-benchmarker/faas-benchmarker/experiments"
	"github.com/faas-benchmarker/faas-benchmarker/internal/exitcode"
	"github.com/faas-benchmarker/faas-benchmarker/platforms/builtin"
	"github.com/faas-benchmarker/faas-benchmarker/results"
	"github.com/faas-benchmarker/faas-benchmarker/runner/session"
	"github.com/faas-benchmarker/faas-benchmarker/study"
)

// experimentCommandName is the command that runs one experiment.
const experimentCommandName = "experiment"

const (
	flagPlatform   = "platform"
	flagSet        = "set"
	flagNoProgress = "no-progress"
	flagTimeout    = "timeout"
)

func experimentCommand() *cli.Command {
	flags := []cli.Flag{
		&cli.StringFlag{Name: flagPlatform, Aliases: []string{"p"}, Value: "local", Usage: "platform: " + strings.Join(builtin.Names(), ", ") + " (aws/azure/openfaas without --function or --endpoint: a stack is deployed for the run and destroyed after it)"},
		&cli.StringSliceFlag{Name: flagSet, Usage: "set an experiment parameter (`KEY=VALUE`, repeatable; see fbrun experiments)"},
		&cli.BoolFlag{Name: flagJSON, Usage: "print one machine-readable summary object on stdout instead of the table"},
		&cli.BoolFlag{Name: flagNoProgress, Usage: "no progress display (it is off anyway when stderr is not a terminal)"},
		&cli.DurationFlag{Name: flagTimeout, Value: engine.DefaultTimeout, Usage: "client timeout of one invocation (unset: this, or 30s more than the function timeout of a stack deployed for the run where that is longer)"},
		&cli.StringFlag{Name: study.FlagRunID, Usage: "store the run under this `ID` (the form fbrun runs shows; default: a new one). fbrun study chooses it before a cell starts, so that a cell whose run finished is never run again"},
	}
	flags = append(flags, platformFlags()...)
	flags = append(flags, localFlags()...)
	flags = append(flags, experimentCloudFlags()...)
	return &cli.Command{
		Name:      experimentCommandName,
		Usage:     "run an experiment and store every invocation",
		ArgsUsage: "NAME",
		Description: "Runs the named experiment (see fbrun experiments) on --platform (default: the embedded local\n" +
			"platform, started for the run), stores the run in the results database and prints a summary.",
		Flags:  flags,
		Action: experimentAction,
	}
}

func experimentAction(c *cli.Context) error {
	plan, in, err := resolveRun(c)
	if err != nil {
		return err
	}
	logger, err := newLogger(c, c.App.ErrWriter)
	if err != nil {
		return err
	}
	db, err := openDB(c)
	if err != nil {
		return err
	}
	defer db.Close()

	run := in.run(plan)
	run.logger, run.db = logger, db
	show := !c.Bool(flagNoProgress) && !c.Bool(flagJSON) && isTerminal(os.Stderr)
	var ro *runOutcome
	if plan.managed() {
		// The cloud half runs the engine and draws its progress.
		ro, err = managedExperiment(c, run, show)
	} else {
		bar := progress.New(c.App.ErrWriter, show)
		run.engine.Progress = bar
		ro, err = directExperiment(c, run)
		bar.Close()
	}
	if err != nil {
		return err
	}
	out := ro.session
	if out == nil { // the stack never came up: nothing ran
		return cli.Exit(fmt.Sprintf("no run: %v", ro.err), 1)
	}
	// Read back and summarise even after Ctrl-C: that is when it matters.
	rctx := context.WithoutCancel(c.Context)
	counts, err := session.CountRun(rctx, db, out.RunID)
	if err != nil {
		return cli.Exit(fmt.Sprintf("reading run %s back: %v", out.RunID, err), 1)
	}
	if c.Bool(flagJSON) {
		if err := writeJSONSummary(rctx, c, db, out, counts); err != nil {
			return err
		}
	} else {
		if err := writeSummaryTable(rctx, c, db, out); err != nil {
			return err
		}
	}
	for _, n := range ro.notes {
		fmt.Fprintln(c.App.ErrWriter, n)
	}
	if ro.exitCode != 0 {
		return cli.Exit(fmt.Sprintf("run %s: %v", out.RunID, ro.err), ro.exitCode)
	}
	if ro.err != nil && out.Status == results.StatusOK {
		return cli.Exit(fmt.Sprintf("run %s finished, but: %v", out.RunID, ro.err), 1)
	}
	switch out.Status {
	case results.StatusOK:
		return nil
	case results.StatusInterrupted:
		return cli.Exit(fmt.Sprintf("run %s interrupted; everything measured so far is stored", out.RunID), exitcode.Interrupted)
	default:
		return cli.Exit(fmt.Sprintf("run %s failed: %v", out.RunID, out.Err), 1)
	}
}

// experimentOf looks the experiment NAME up.
func experimentOf(c *cli.Context) (experiments.Experiment, error) {
	if c.NArg() != 1 {
		return nil, usageError("experiment needs exactly one NAME (see fbrun experiments)")
	}
	exp, err := experiments.Lookup(c.Args().First())
	if err != nil {
		return nil, usageError("%v", err)
	}
	return exp, nil
}

// runInput is what the command line asks of a run, resolved.
type runInput struct {
	exp    experiments.Experiment
	params experiments.Params
	runID  string // --run-id ("": a new one)
	client time.Duration
}

// resolveRun plans the platform and resolves the run's input, refusing
// bad input before anything starts.
func resolveRun(c *cli.Context) (*platformPlan, runInput, error) {
	plan, err := planPlatform(c)
	if err != nil {
		return nil, runInput{}, err
	}
	in, err := experimentInput(c, plan)
	return plan, in, err
}

// run is the run of in on plan (its logger and database still to set).
func (in runInput) run(plan *platformPlan) experimentRun {
	return experimentRun{exp: in.exp, params: in.params, runID: in.runID, plan: plan, engine: engine.Config{Timeout: in.client}}
}

// experimentInput resolves the experiment NAME, the run's stack settings
// (the experiment's under --stack-set), the client timeout, the --set
// parameters (over the defaults on a platform that declares idle,
// experiments.ResolveOn, on the deployment the run will use) and
// --run-id, refusing bad input before anything starts.
func experimentInput(c *cli.Context, plan *platformPlan) (runInput, error) {
	exp, err := experimentOf(c)
	if err != nil {
		return runInput{}, err
	}
	plan.withExperiment(exp, c.StringSlice(flagStackSet))
	if err := plan.platform.CheckStackSets(plan.target, plan.stackSets); err != nil {
		return runInput{}, usageError("%v (%s's stack settings under --stack-set: %s)", err, exp.Name(), strings.Join(plan.stackSets, " "))
	}
	deployment, err := plan.deploymentRange()
	if err != nil {
		return runInput{}, usageError("%v", err)
	}
	in := runInput{exp: exp, client: clientTimeout(c, deployment), runID: c.String(study.FlagRunID)}
	idle := deployment
	if !idle.IsZero() {
		idle = idle.Within(in.client)
	}
	sets, err := parseSets(c.StringSlice(flagSet))
	if err != nil {
		return runInput{}, usageError("%v", err)
	}
	if in.params, err = experiments.ResolveOn(exp, sets, idle); err != nil {
		return runInput{}, usageError("%v", err)
	}
	if _, ok := results.ParseRunID(in.runID); in.runID != "" && !ok {
		return runInput{}, usageError("bad --%s %q: want the form of results.NewRunID, e.g. 20261206-020000-3fa2c1", study.FlagRunID, in.runID)
	}
	return in, nil
}

// jsonSummary is the --json output: the run's stored summary
// (results.Summary, the one description of it) with its counts and where
// it is stored.
type jsonSummary struct {
	results.Summary
	DurationS    float64          `json:"duration_s"`
	Counts       session.Counts   `json:"counts"`
	ErrorsByKind map[string]int64 `json:"errors_by_kind"`
	DB           string           `json:"db"`
}

// writeJSONSummary prints the summary stored with the run, read back by
// its id, so that what is printed is what the report and studies read.
func writeJSONSummary(ctx context.Context, c *cli.Context, db *results.DB, out *session.Outcome, counts session.Counts) error {
	run, err := db.GetRun(ctx, out.RunID)
	if err != nil {
		return cli.Exit(fmt.Sprintf("reading run %s back: %v", out.RunID, err), exitcode.Failed)
	}
	sum, err := results.ParseSummary(run.Summary)
	if err != nil {
		return cli.Exit(fmt.Sprintf("reading run %s back: %v", out.RunID, err), exitcode.Failed)
	}
	s := jsonSummary{Summary: sum, DurationS: out.Ended.Sub(out.Started).Seconds(), Counts: counts,
		ErrorsByKind: counts.ErrorsByKind, DB: c.String(flagDB)}
	enc := json.NewEncoder(c.App.Writer)
	enc.SetIndent("", "  ")
	return enc.Encode(s)
}

// parseSets turns KEY=VALUE strings into a map.
func parseSets(sets []string) (map[string]string, error) {
	out := map[string]string{}
	for _, s := range sets {
		k, v, ok := strings.Cut(s, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" {
			return nil, fmt.Errorf("bad --set %q: want KEY=VALUE", s)
		}
		if _, dup := out[k]; dup {
			return nil, fmt.Errorf("--set %s given twice", k)
		}
		out[k] = v
	}
	return out, nil
}

// experimentRun is what both the direct and the managed path need.
type experimentRun struct {
	exp    experiments.Experiment
	params experiments.Params
	// runID is --run-id ("": a new one).
	runID  string
	plan   *platformPlan
	logger *slog.Logger
	db     *results.DB
	engine engine.Config
}

// runOutcome is what a run path produced.
type runOutcome struct {
	session *session.Outcome
	// err is a failure besides the experiment's own (stack, shipping ...).
	err      error
	notes    []string
	exitCode int
}

// directExperiment runs on an existing deployment (or the embedded local
// platform) and stores straight into the results database.
func directExperiment(c *cli.Context, run experimentRun) (*runOutcome, error) {
	plat, err := openPlatform(c, run.plan, run.logger)
	if err != nil {
		return nil, err
	}
	defer closePlatform(c, plat)
	// The engine offers what the platform declares.
	ecfg := run.engine
	ecfg.Capabilities, ecfg.Pricing = run.plan.platform.Caps(), run.plan.platform.Pricing
	out, err := session.Run(c.Context, session.Config{
		DB: run.db, Experiment: run.exp, Params: run.params, RunID: run.runID, Invoker: plat.Invoker, Platform: run.plan.platform.Name,
		PlatformConfig: plat.Config, Logger: run.logger, Engine: ecfg,
	})
	if err != nil {
		return nil, cli.Exit(fmt.Sprintf("run could not be stored: %v", err), 1)
	}
	return &runOutcome{session: out}, nil
}

// isTerminal reports whether f is a terminal.
func isTerminal(f *os.File) bool { return progress.IsTerminal(f) }
