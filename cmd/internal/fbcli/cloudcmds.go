package fbcli

import (
	"log/slog"

	"github.com/urfave/cli/v2"

	"github.com/faas-benchmarker/faas-benchmarker/engine"
	"github.com/faas-benchmarker/faas-benchmarker/experiments"
	"github.com/faas-benchmarker/faas-benchmarker/results"
	"github.com/faas-benchmarker/faas-benchmarker/session"
)

// The cloud commands (up, down, cleanup, results pull) and managed
// experiments need the Pulumi SDKs. Their command-line definitions live
// here, in the light CLI, so that `fbrun --help` lists them and their flags
// parse the same in both binaries; their actions go through Cloud. The light
// fbrun has no Cloud and runs fbrun-cloud with the same arguments instead
// (see delegate.go); fbrun-cloud links package cloudcli as its Cloud.

// Cloud runs what needs the Pulumi SDKs. Package cloudcli implements it.
type Cloud interface {
	// UpPermanent is `fbrun up permanent [KEY=VALUE...]`.
	UpPermanent(c *cli.Context) error
	// DownPermanent is `fbrun down permanent`.
	DownPermanent(c *cli.Context) error
	// Cleanup is `fbrun cleanup`.
	Cleanup(c *cli.Context) error
	// PullResults is `fbrun results pull`.
	PullResults(c *cli.Context) error
	// ManagedExperiment runs an experiment on a stack deployed for the run
	// (see IsManaged). A nil outcome with a nil error never happens.
	ManagedExperiment(c *cli.Context, run ManagedRun) (*ManagedOutcome, error)
}

// ManagedRun is what a managed experiment gets from the command line,
// parsed and validated.
type ManagedRun struct {
	// Experiment and Params to run.
	Experiment experiments.Experiment
	Params     experiments.Params
	// Logger receives logs.
	Logger *slog.Logger
	// DB is the user's results database.
	DB *results.DB
	// Engine tunes the Benchmarker (timeout, progress).
	Engine engine.Config
}

// ManagedOutcome is what a managed experiment produced.
type ManagedOutcome struct {
	// Session is the experiment's outcome; nil when nothing ran.
	Session *session.Outcome
	// Err is a failure besides the experiment's own (stack, shipping ...).
	Err error
	// Notes are printed on stderr after the summary.
	Notes []string
	// ExitCode overrides the exit code derived from the run's status
	// when not 0.
	ExitCode int
}

// Flags and environment variables of the managed (stack-per-run) cloud
// workflow.
const (
	FlagState         = "state"
	FlagPulumi        = "pulumi"
	FlagKeep          = "keep"
	FlagStackSet      = "stack-set"
	FlagResultsBucket = "results-bucket"
	FlagResultsEnd    = "results-endpoint"
	FlagResultsRegion = "results-region"
	FlagResultsPath   = "results-path-style"
	// FlagEmptyBucket makes `down permanent` delete every object in the
	// results bucket first.
	FlagEmptyBucket = "empty-bucket"
	// FlagPrefix is the object key prefix flag of `results pull`.
	FlagPrefix = "prefix"
	// EnvResultsKeyID and EnvResultsSecret hold the credentials of
	// --results-bucket.
	EnvResultsKeyID  = "FB_RESULTS_ACCESS_KEY_ID"
	EnvResultsSecret = "FB_RESULTS_SECRET_ACCESS_KEY"
	// DefaultResultsPrefix is the object key prefix shipped run files are
	// stored under; it must equal runner.DefaultResultsPrefix (a cloudcli
	// test checks).
	DefaultResultsPrefix = "runs/"
)

// Names of the experiment flags the cloud half reads.
const (
	FlagPlatform      = flagPlatform
	FlagFunction      = flagFunction
	FlagEndpoint      = flagEndpoint
	FlagLocalEndpoint = flagLocalEndpoint
	FlagDB            = flagDB
)

// runnerFlags configure the runner and results shipping.
func runnerFlags() []cli.Flag {
	cat := "cloud stacks"
	return []cli.Flag{
		&cli.StringFlag{Name: FlagState, Usage: "Pulumi state backend `URL` (file://DIR or s3://BUCKET?...; default: a file backend under the data directory)", EnvVars: []string{"PULUMI_BACKEND_URL"}, Category: cat},
		&cli.StringFlag{Name: FlagPulumi, Usage: "the Pulumi CLI `PATH` (default: $FB_PULUMI, pulumi on PATH, or the pinned build of scripts/install-tools)", Category: cat},
		&cli.StringFlag{Name: FlagResultsBucket, Usage: "ship results to this S3-compatible `BUCKET` (default: the permanent stack's Spaces bucket, when it exists)", Category: cat},
		&cli.StringFlag{Name: FlagResultsEnd, Usage: "S3 endpoint `URL` of --results-bucket (empty: AWS S3)", Category: cat},
		&cli.StringFlag{Name: FlagResultsRegion, Value: "us-east-1", Usage: "signing region of --results-bucket", Category: cat},
		&cli.BoolFlag{Name: FlagResultsPath, Usage: "path-style bucket addressing (MinIO)", Category: cat},
	}
}

// experimentCloudFlags are the managed-run flags of `experiment`.
func experimentCloudFlags() []cli.Flag {
	cat := "cloud stacks"
	return append(runnerFlags(),
		&cli.BoolFlag{Name: FlagKeep, Usage: "keep the stack after the run, for debugging (it keeps COSTING MONEY until fbrun cleanup)", Category: cat},
		&cli.StringSliceFlag{Name: FlagStackSet, Usage: "stack setting `KEY=VALUE` (fb: keys, e.g. memory=512, region=eu-west-1; see docs/infrastructure.md)", Category: cat},
	)
}

// managedExperiment runs an experiment on a stack deployed for the run,
// through the linked Cloud (fbrun-cloud; the light fbrun delegates before
// it gets here).
func managedExperiment(c *cli.Context, run experimentRun) (*runOutcome, error) {
	cl := cloudOf(c)
	if cl == nil {
		return nil, delegate(c)
	}
	out, err := cl.ManagedExperiment(c, ManagedRun{Experiment: run.exp, Params: run.params, Logger: run.logger, DB: run.db, Engine: run.engine})
	if err != nil || out == nil {
		return nil, err
	}
	return &runOutcome{session: out.Session, err: out.Err, notes: out.Notes, exitCode: out.ExitCode}, nil
}

// cloudAction runs f with the linked Cloud, or delegates the whole command
// line to fbrun-cloud.
func cloudAction(f func(Cloud, *cli.Context) error) cli.ActionFunc {
	return func(c *cli.Context) error {
		cl := cloudOf(c)
		if cl == nil {
			return delegate(c)
		}
		return f(cl, c)
	}
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
				return cloudAction(Cloud.UpPermanent)(c)
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
			Flags: append(runnerFlags(), &cli.BoolFlag{Name: FlagEmptyBucket,
				Usage: "first DELETE EVERY OBJECT in the results bucket (shipped runs, state kept there): a bucket that is not empty cannot be destroyed"}),
			Action: cloudAction(Cloud.DownPermanent),
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
		Action: cloudAction(Cloud.Cleanup),
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
				&cli.StringFlag{Name: FlagPrefix, Value: DefaultResultsPrefix, Usage: "object key `PREFIX` of the run files"},
			),
			Action: cloudAction(Cloud.PullResults),
		}},
	}
}

// NewLogger builds the stderr logger from --log-level.
func NewLogger(c *cli.Context) (*slog.Logger, error) { return newLogger(c, c.App.ErrWriter) }

// OpenDB opens the results database named by --db.
func OpenDB(c *cli.Context) (*results.DB, error) { return openDB(c) }

// UsageError is a command-line mistake: exit code 2.
func UsageError(format string, a ...any) error { return usageError(format, a...) }

// StartLocal starts the embedded local platform configured by the --local-*
// flags and returns its URL and how to stop it.
func StartLocal(c *cli.Context, logger *slog.Logger) (url string, stop func(), err error) {
	cfg, err := localConfig(c)
	if err != nil {
		return "", nil, usageError("%v", err)
	}
	lp, err := startLocal(c, cfg, logger)
	if err != nil {
		return "", nil, err
	}
	return lp.url, lp.close, nil
}

// RunDoctor runs the `fbrun doctor` checks of platform (managed: a stack
// would be deployed for the run), prints them and fails (exit 1) on a
// problem: the preflight of a managed run. The account's concurrency is
// checked against what exp needs with params (experiments.ConcurrencyNeeder).
func RunDoctor(c *cli.Context, platform string, managed bool, exp experiments.Experiment, params experiments.Params) error {
	need := 0
	if cn, ok := exp.(experiments.ConcurrencyNeeder); ok {
		need = cn.MaxConcurrency(params)
	}
	return runDoctor(c, platform, managed, need)
}
