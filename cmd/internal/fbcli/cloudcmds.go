package fbcli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"

	"github.com/urfave/cli/v2"

	"github.com/faas-benchmarker/faas-benchmarker/cmd/internal/cloudplan"
	"github.com/faas-benchmarker/faas-benchmarker/experiments"
	"github.com/faas-benchmarker/faas-benchmarker/platforms"
	"github.com/faas-benchmarker/faas-benchmarker/results"
)

// The cloud commands (up, down, cleanup, results pull) and managed
// experiments need the Pulumi SDKs. Their command-line definitions live
// here, in the light CLI, so that `fbrun --help` lists them and their flags
// parse the same in both binaries; their actions go through Cloud. The light
// fbrun has no Cloud and runs fbrun-cloud with the same arguments instead
// (see delegate.go); fbrun-cloud links package cloudcli as its Cloud.

// Cloud runs what needs the Pulumi SDKs. Package cloudcli implements it.
// Each method gets what the command line said, parsed here, and returns
// what this package prints.
type Cloud interface {
	// UpPermanent is `fbrun up permanent [KEY=VALUE...]`.
	UpPermanent(ctx context.Context, req cloudplan.Request, settings []string) ([]cloudplan.StackOutput, error)
	// DownPermanent is `fbrun down permanent [--empty-bucket]`.
	DownPermanent(ctx context.Context, req cloudplan.Request, emptyBucket bool) error
	// Cleanup is `fbrun cleanup`.
	Cleanup(ctx context.Context, req cloudplan.Request, opts cloudplan.CleanupOptions) ([]cloudplan.CleanupItem, error)
	// PullResults is `fbrun results pull [--prefix P]`.
	// The report is nil when the pull could not start.
	PullResults(ctx context.Context, req cloudplan.Request, prefix string) (*cloudplan.PullReport, error)
	// RunPlan runs an experiment on a stack deployed for the run, as the
	// plan fbrun resolved says; progress and logs go to stderr.
	RunPlan(ctx context.Context, p cloudplan.Plan, stderr io.Writer) cloudplan.Outcome
}

// Flags of the managed (stack-per-run) cloud workflow.
const (
	flagState         = "state"
	flagPulumi        = "pulumi"
	flagKeep          = "keep"
	flagStackSet      = "stack-set"
	flagResultsBucket = "results-bucket"
	flagResultsEnd    = "results-endpoint"
	flagResultsRegion = "results-region"
	flagResultsPath   = "results-path-style"
	// flagEmptyBucket makes `down permanent` delete every object in the
	// results bucket first.
	flagEmptyBucket = "empty-bucket"
	// flagPrefix is the object key prefix flag of `results pull`.
	flagPrefix = "prefix"
)

// runnerFlags configure the runner and results shipping.
func runnerFlags() []cli.Flag {
	cat := "cloud stacks"
	return []cli.Flag{
		&cli.StringFlag{Name: flagState, Usage: "Pulumi state backend `URL` (file://DIR or s3://BUCKET?...; default: a file backend under the data directory)", EnvVars: []string{"PULUMI_BACKEND_URL"}, Category: cat},
		&cli.StringFlag{Name: flagPulumi, Usage: "the Pulumi CLI `PATH` (default: $FB_PULUMI, pulumi on PATH, or the pinned build of scripts/install-tools)", Category: cat},
		&cli.StringFlag{Name: flagResultsBucket, Usage: "ship results to this S3-compatible `BUCKET` (default: the permanent stack's Spaces bucket, when it exists)", Category: cat},
		&cli.StringFlag{Name: flagResultsEnd, Usage: "S3 endpoint `URL` of --results-bucket (empty: AWS S3)", Category: cat},
		&cli.StringFlag{Name: flagResultsRegion, Value: "us-east-1", Usage: "signing region of --results-bucket", Category: cat},
		&cli.BoolFlag{Name: flagResultsPath, Usage: "path-style bucket addressing (MinIO)", Category: cat},
	}
}

// experimentCloudFlags are the managed-run flags of `experiment`.
func experimentCloudFlags() []cli.Flag {
	cat := "cloud stacks"
	return append(runnerFlags(),
		&cli.BoolFlag{Name: flagKeep, Usage: "keep the stack after the run, for debugging (it keeps COSTING MONEY until fbrun cleanup)", Category: cat},
		&cli.StringSliceFlag{Name: flagStackSet, Usage: "stack setting `KEY=VALUE` (fb: keys, e.g. memory=512, region=eu-west-1; see docs/infrastructure.md)", Category: cat},
	)
}

// managedExperiment runs an experiment on a stack deployed for the run:
// it runs the preflight, starts the embedded local platform when the
// platform deploys to it, and hands the resolved plan to the cloud half —
// the linked Cloud (fbrun-cloud), or the fbrun-cloud binary, which gets
// the plan on stdin and answers with the outcome on stdout. Nothing is
// parsed twice and the cloud half calls nothing back.
func managedExperiment(c *cli.Context, run experimentRun, showProgress bool) (*runOutcome, error) {
	cl, bin := cloudOf(c), ""
	if cl == nil {
		var err error
		if bin, err = findCloudBinary(); err != nil {
			return nil, cli.Exit(err.Error(), 1)
		}
	}
	// The preflight of `fbrun doctor`: without credentials, plugins,
	// packages or valid stack settings nothing could be deployed, so say
	// so before any stack exists. The account's concurrency is checked
	// against what the experiment needs with its parameters.
	need := 0
	if cn, ok := run.exp.(experiments.ConcurrencyNeeder); ok {
		need = cn.MaxConcurrency(run.params)
	}
	if err := runDoctor(c, run.plan.platform.Name, true, need, run.plan.stackSets); err != nil {
		return nil, err
	}
	p := cloudPlan(c, run, showProgress)
	if run.plan.local != nil {
		lp, err := platforms.StartLocal(c.Context, *run.plan.local, run.logger)
		if err != nil {
			return nil, cli.Exit(err.Error(), 1)
		}
		defer lp.Close()
		p.LocalEndpoint = lp.URL
	}
	var out cloudplan.Outcome
	if cl != nil {
		out = cl.RunPlan(c.Context, p, c.App.ErrWriter)
	} else {
		var err error
		if out, err = execPlan(c, bin, p); err != nil {
			return nil, err
		}
	}
	if out.RunID == "" && out.ExitCode != 0 {
		return nil, cli.Exit(out.Error, out.ExitCode) // nothing could start
	}
	return &runOutcome{session: out.Session(), err: out.Err(), notes: out.Notes, exitCode: out.ExitCode}, nil
}

// execPlan runs p in the fbrun-cloud binary bin.
func execPlan(c *cli.Context, bin string, p cloudplan.Plan) (cloudplan.Outcome, error) {
	in, err := json.Marshal(p)
	if err != nil {
		return cloudplan.Outcome{}, cli.Exit(err.Error(), 1)
	}
	var stdout bytes.Buffer
	cmd := exec.Command(bin, cloudplan.Command)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = bytes.NewReader(in), &stdout, c.App.ErrWriter
	childErr := runChild(bin, cmd)
	out, err := cloudplan.ReadOutcome(&stdout)
	if err != nil {
		if childErr != nil {
			return out, childErr // it said why on stderr; end with its code
		}
		return out, cli.Exit(fmt.Sprintf("%s: %v", bin, err), 1)
	}
	return out, nil
}

// cloudAction runs f with the linked Cloud and the command's request, or
// delegates the whole command line to fbrun-cloud.
func cloudAction(f func(Cloud, *cli.Context, cloudplan.Request) error) cli.ActionFunc {
	return func(c *cli.Context) error {
		cl := cloudOf(c)
		if cl == nil {
			return delegate(c)
		}
		logger, err := newLogger(c, c.App.ErrWriter)
		if err != nil {
			return err
		}
		req := cloudplan.Request{Runner: runnerConfig(c), DB: c.String(flagDB), Logger: logger, Progress: c.App.ErrWriter}
		if err := f(cl, c, req); err != nil {
			return cloudError(err)
		}
		return nil
	}
}

// cloudPlan is the plan fbrun hands the cloud half for run: the run's
// resolved parameters, stack settings (the experiment's defaults under
// --stack-set) and client timeout, and where to store.
func cloudPlan(c *cli.Context, run experimentRun, showProgress bool) cloudplan.Plan {
	return cloudplan.Plan{
		Version: cloudplan.Version, Build: cloudplan.BuildID(),
		Experiment: run.exp.Name(), Params: run.params.Map(), RunID: run.runID,
		Platform: run.plan.platform.Name, LocalEndpoint: run.plan.target.LocalEndpoint,
		StackSets: run.plan.stackSets, Keep: c.Bool(flagKeep),
		DB: c.String(flagDB), RunsDir: filepath.Join(filepath.Dir(c.String(flagDB)), "runs"),
		TimeoutNS: run.engine.Timeout, LogLevel: c.String(flagLogLevel), Progress: showProgress,
		Runner: runnerConfig(c),
	}
}

// runnerConfig is the runner's configuration from the cloud-stack flags.
func runnerConfig(c *cli.Context) cloudplan.Runner {
	return cloudplan.Runner{
		State: c.String(flagState), Pulumi: c.String(flagPulumi), ResultsBucket: c.String(flagResultsBucket),
		ResultsEndpoint: c.String(flagResultsEnd), ResultsRegion: c.String(flagResultsRegion), ResultsPathStyle: c.Bool(flagResultsPath),
	}
}

// cloudError is err with its exit code: 2 for input the cloud half
// refused before starting anything, else 1.
func cloudError(err error) error {
	if cloudplan.IsUsage(err) {
		return usageError("%v", err)
	}
	return cli.Exit(err.Error(), 1)
}

// upPermanent prints the permanent stack's outputs (secrets masked).
func upPermanent(cl Cloud, c *cli.Context, req cloudplan.Request) error {
	outs, err := cl.UpPermanent(c.Context, req, c.Args().Slice())
	if err != nil {
		return err
	}
	for _, o := range outs {
		if o.Secret {
			fmt.Fprintf(c.App.Writer, "%s = [secret]\n", o.Key)
			continue
		}
		fmt.Fprintf(c.App.Writer, "%s = %v\n", o.Key, o.Value)
	}
	return nil
}

func downPermanent(cl Cloud, c *cli.Context, req cloudplan.Request) error {
	if err := cl.DownPermanent(c.Context, req, c.Bool(flagEmptyBucket)); err != nil {
		return err
	}
	fmt.Fprintln(c.App.ErrWriter, "permanent stack destroyed")
	return nil
}

// cleanup prints one line per stack: what was (or would be) done with it.
func cleanup(cl Cloud, c *cli.Context, req cloudplan.Request) error {
	items, err := cl.Cleanup(c.Context, req, cloudplan.CleanupOptions{
		Stacks: c.StringSlice("stack"), OlderThan: c.Duration("older-than"), DryRun: c.Bool("dry-run"),
	})
	for _, it := range items {
		line := fmt.Sprintf("%-14s %s", it.Action, it.Stack)
		if it.Resources >= 0 {
			line += fmt.Sprintf(" (%d resources)", it.Resources)
		}
		if it.Reason != "" {
			line += ": " + it.Reason
		}
		fmt.Fprintln(c.App.Writer, line)
	}
	if len(items) == 0 && err == nil {
		fmt.Fprintln(c.App.ErrWriter, "no experiment stacks found")
	}
	return err
}

// pullResults prints what `results pull` found, downloaded and merged.
func pullResults(cl Cloud, c *cli.Context, req cloudplan.Request) error {
	rep, err := cl.PullResults(c.Context, req, c.String(flagPrefix))
	if rep == nil {
		return err
	}
	fmt.Fprintf(c.App.Writer, "%d run files found, %d downloaded, %d new runs merged into %s\n",
		rep.Objects, rep.Downloaded, len(rep.NewRuns), req.DB)
	for _, id := range rep.NewRuns {
		fmt.Fprintln(c.App.Writer, "  new run", id)
	}
	return err
}

func upCommand() *cli.Command {
	return &cli.Command{
		Name:  "up",
		Usage: "create or update the permanent stack (results bucket and orchestrator droplet on DigitalOcean)",
		Subcommands: []*cli.Command{{
			Name:      "permanent",
			Usage:     "stand up the permanent stack; settings as KEY=VALUE arguments (see docs/infrastructure.md)",
			ArgsUsage: "[KEY=VALUE...]",
			Flags:     runnerFlags(),
			Action: func(c *cli.Context) error {
				// A study= setting is checked here, before any hand-off or
				// stack: the orchestrator will run it on its schedule.
				if err := checkPermanentStudy(c.Args().Slice()); err != nil {
					return err
				}
				return cloudAction(upPermanent)(c)
			},
		}},
	}
}

func downCommand() *cli.Command {
	return &cli.Command{
		Name:  "down",
		Usage: "destroy the permanent stack",
		Subcommands: []*cli.Command{{
			Name:  "permanent",
			Usage: "destroy the permanent stack (the results bucket is protected unless protectBucket=false was set)",
			Flags: append(runnerFlags(), &cli.BoolFlag{Name: flagEmptyBucket,
				Usage: "first DELETE EVERY OBJECT in the results bucket (shipped runs, state kept there): a bucket that is not empty cannot be destroyed"}),
			Action: cloudAction(downPermanent),
		}},
	}
}

func cleanupCommand() *cli.Command {
	return &cli.Command{
		Name:  "cleanup",
		Usage: "list and destroy leftover experiment stacks (never the permanent stack)",
		Flags: append(runnerFlags(),
			&cli.StringSliceFlag{Name: "stack", Usage: "only this stack `NAME` (repeatable)"},
			&cli.DurationFlag{Name: "older-than", Usage: "only stacks whose run started longer ago than this (skip runs that may still be going)"},
			&cli.BoolFlag{Name: "dry-run", Usage: "only list what would be destroyed"},
		),
		Action: cloudAction(cleanup),
	}
}

func resultsCommand() *cli.Command {
	return &cli.Command{
		Name:  "results",
		Usage: "shipped results",
		Subcommands: []*cli.Command{{
			Name:  "pull",
			Usage: "download shipped run files and merge them into the local database (idempotent)",
			Flags: append(runnerFlags(),
				&cli.StringFlag{Name: flagPrefix, Value: results.RunFilePrefix, Usage: "object key `PREFIX` of the run files"},
			),
			Action: cloudAction(pullResults),
		}},
	}
}
