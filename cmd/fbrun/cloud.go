package main

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/faas-benchmarker/faas-benchmarker/blobstore"
	"github.com/faas-benchmarker/faas-benchmarker/cloudrun"
	"github.com/faas-benchmarker/faas-benchmarker/runner"
)

// Flags of the managed (stack-per-run) cloud workflow.
const (
	flagState          = "state"
	flagPulumi         = "pulumi"
	flagKeep           = "keep"
	flagStackSet       = "stack-set"
	flagResultsBucket  = "results-bucket"
	flagResultsEnd     = "results-endpoint"
	flagResultsRegion  = "results-region"
	flagResultsPath    = "results-path-style"
	envResultsKeyID    = "FB_RESULTS_ACCESS_KEY_ID"
	envResultsSecret   = "FB_RESULTS_SECRET_ACCESS_KEY"
	defaultDestroyWait = 30 * time.Minute
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

// isManaged reports whether --platform deploys its own stack for the run:
// always for local-stack; for aws/azure/openfaas unless --function or
// --endpoint point at an existing deployment.
func isManaged(c *cli.Context) bool {
	p := c.String(flagPlatform)
	if p == cloudrun.PlatformLocalStack {
		return true
	}
	if !slices.Contains(cloudrun.Managed, p) {
		return false
	}
	return len(c.StringSlice(flagFunction)) == 0 && c.String(flagEndpoint) == ""
}

// plainRunner builds a runner without a results shipper from the flags.
func plainRunner(c *cli.Context) (*runner.Runner, error) {
	logger, err := newLogger(c, c.App.ErrWriter)
	if err != nil {
		return nil, err
	}
	r, err := runner.New(runner.Config{PulumiPath: c.String(flagPulumi), BackendURL: c.String(flagState),
		Stdout: c.App.ErrWriter, Stderr: c.App.ErrWriter, Logger: logger, DestroyTimeout: defaultDestroyWait, HandleSignals: true})
	if err != nil {
		return nil, cli.Exit(err.Error(), 1)
	}
	return r, nil
}

// newRunner builds the runner with the results shipper: --results-bucket,
// else the permanent stack's Spaces bucket when it exists, else none.
func newRunner(c *cli.Context, logger *slog.Logger) (*runner.Runner, error) {
	cfg := runner.Config{
		PulumiPath: c.String(flagPulumi), BackendURL: c.String(flagState),
		Stdout: c.App.ErrWriter, Stderr: c.App.ErrWriter, Logger: logger, DestroyTimeout: defaultDestroyWait,
		HandleSignals: true,
	}
	r, err := runner.New(cfg)
	if err != nil {
		return nil, cli.Exit(err.Error(), 1)
	}
	store, where, err := resultsStore(c, r)
	if err != nil {
		return nil, cli.Exit(err.Error(), 1)
	}
	if store == nil {
		fmt.Fprintf(c.App.ErrWriter, "note: results will not be shipped (%s); they stay in the local database\n", where)
		return r, nil
	}
	cfg.Shipper = store
	return runner.New(cfg)
}

// resultsStore returns the blob store results are shipped to, or nil with
// the reason why there is none.
func resultsStore(c *cli.Context, r *runner.Runner) (*blobstore.Store, string, error) {
	if b := c.String(flagResultsBucket); b != "" {
		s, err := blobstore.New(c.Context, blobstore.Config{
			Bucket: b, Endpoint: c.String(flagResultsEnd), Region: c.String(flagResultsRegion),
			UsePathStyle:    c.Bool(flagResultsPath),
			AccessKeyID:     os.Getenv(envResultsKeyID),
			SecretAccessKey: os.Getenv(envResultsSecret),
		})
		return s, "", err
	}
	outs, err := r.Outputs(c.Context, "", runner.PermanentStack)
	if err != nil || len(outs) == 0 {
		return nil, "no --results-bucket and no permanent stack", nil
	}
	cfg, err := runner.SpacesStoreConfig(outs)
	if err != nil {
		return nil, "", err
	}
	s, err := blobstore.New(c.Context, cfg)
	return s, "", err
}

// runsDir is where standalone per-run result files are kept.
func runsDir(c *cli.Context) string {
	return filepath.Join(filepath.Dir(c.String(flagDB)), "runs")
}

// managedExperiment runs an experiment on a stack deployed for the run.
func managedExperiment(c *cli.Context, run experimentRun) (*runOutcome, error) {
	// The preflight of `fbrun doctor`: without credentials, plugins,
	// packages or valid stack settings nothing could be deployed, so say
	// so before any stack exists.
	if err := runDoctor(c, c.String(flagPlatform), true); err != nil {
		return nil, err
	}
	r, err := newRunner(c, run.logger)
	if err != nil {
		return nil, err
	}
	cfg := cloudrun.Config{
		Runner: r, DB: run.db, RunsDir: runsDir(c), Platform: c.String(flagPlatform),
		StackSets: c.StringSlice(flagStackSet), Experiment: run.exp, Params: run.params,
		Keep: c.Bool(flagKeep), Engine: run.engine, Logger: run.logger, Progress: c.App.ErrWriter,
	}
	if cfg.Platform == cloudrun.PlatformLocalStack && c.String(flagLocalEndpoint) != "" {
		cfg.LocalEndpoint = c.String(flagLocalEndpoint) // a running fbrun local serve
	} else if cfg.Platform == cloudrun.PlatformLocalStack {
		plat, err := startLocal(c, run.logger)
		if err != nil {
			return nil, err
		}
		defer plat.close()
		cfg.LocalEndpoint = plat.url
	}
	out, err := cloudrun.Run(c.Context, cfg)
	if out == nil {
		return nil, cli.Exit(err.Error(), 1)
	}
	ro := &runOutcome{session: out.Session, err: err}
	if out.Stack != nil {
		ro.notes = append(ro.notes, "stack: "+out.Stack.StackName)
		if out.Stack.ShippedTo != "" {
			ro.notes = append(ro.notes, "shipped to: "+out.Stack.ShippedTo)
		}
		if out.Stack.Kept {
			ro.notes = append(ro.notes, "KEPT: the stack still exists and costs money; remove it with fbrun cleanup --stack "+out.Stack.StackName)
		}
	}
	ro.notes = append(ro.notes, "run file: "+out.ResultsFile)
	var te *runner.TeardownError
	if errors.As(err, &te) {
		ro.exitCode = 3 // the runner has already printed the loud message and retry commands
	}
	return ro, nil
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
				r, err := plainRunner(c)
				if err != nil {
					return err
				}
				prog, err := cloudrun.PermanentProgram(c.Args().Slice())
				if err != nil {
					return usageError("%v", err)
				}
				outs, err := r.Up(c.Context, runner.StackSpec{StackName: runner.PermanentStack, Program: prog})
				if err != nil {
					return cli.Exit(err.Error(), 1)
				}
				for _, k := range sortedOutputKeys(outs) {
					v := outs[k]
					if v.Secret {
						fmt.Fprintf(c.App.Writer, "%s = [secret]\n", k)
						continue
					}
					fmt.Fprintf(c.App.Writer, "%s = %v\n", k, v.Value)
				}
				return nil
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
			Flags: append(runnerFlags(), &cli.BoolFlag{Name: "empty-bucket",
				Usage: "first DELETE EVERY OBJECT in the results bucket (shipped runs, state kept there): a bucket that is not empty cannot be destroyed"}),
			Action: func(c *cli.Context) error {
				r, err := plainRunner(c)
				if err != nil {
					return err
				}
				if c.Bool("empty-bucket") {
					bucket, n, err := r.EmptyPermanentBucket(c.Context)
					if err != nil {
						return cli.Exit(err.Error(), 1)
					}
					fmt.Fprintf(c.App.ErrWriter, "deleted %d objects from bucket %s\n", n, bucket)
				}
				if err := r.Down(c.Context, runner.StackSpec{StackName: runner.PermanentStack}); err != nil {
					return cli.Exit(err.Error(), 1)
				}
				fmt.Fprintln(c.App.ErrWriter, "permanent stack destroyed")
				return nil
			},
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
		Action: func(c *cli.Context) error {
			r, err := plainRunner(c)
			if err != nil {
				return err
			}
			items, err := r.Cleanup(c.Context, runner.CleanupOptions{
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
			if err != nil {
				return cli.Exit(err.Error(), 1)
			}
			return nil
		},
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
				&cli.StringFlag{Name: "prefix", Value: runner.DefaultResultsPrefix, Usage: "object key `PREFIX` of the run files"},
			),
			Action: func(c *cli.Context) error {
				db, err := openDB(c)
				if err != nil {
					return err
				}
				defer db.Close()
				var store *blobstore.Store
				if c.String(flagResultsBucket) != "" {
					store, _, err = resultsStore(c, nil)
				} else {
					var r *runner.Runner
					r, err = plainRunner(c)
					if err == nil {
						var why string
						store, why, err = resultsStore(c, r)
						if err == nil && store == nil {
							err = errors.New(why + ": pass --results-bucket")
						}
					}
				}
				if err != nil {
					return cli.Exit(err.Error(), 1)
				}
				rep, err := runner.PullResults(c.Context, store, c.String("prefix"), runsDir(c), db)
				fmt.Fprintf(c.App.Writer, "%d run files found, %d downloaded, %d new runs merged into %s\n",
					rep.Objects, rep.Downloaded, len(rep.NewRuns), db.Path())
				for _, id := range rep.NewRuns {
					fmt.Fprintln(c.App.Writer, "  new run", id)
				}
				if err != nil {
					return cli.Exit(err.Error(), 1)
				}
				return nil
			},
		}},
	}
}

func sortedOutputKeys[M ~map[string]V, V any](m M) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
