// Package cloudcli is the cloud half of the fbrun command line, linked only
// into fbrun-cloud: the Pulumi runner behind up/down/cleanup/results pull
// and managed experiments. It implements fbcli.Cloud; the commands and
// flags themselves are defined in package fbcli.
package cloudcli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"syscall"

	"github.com/urfave/cli/v2"

	"github.com/faas-benchmarker/faas-benchmarker/blobstore"
	"github.com/faas-benchmarker/faas-benchmarker/cmd/internal/cloudplan"
	"github.com/faas-benchmarker/faas-benchmarker/cmd/internal/fbcli"
	"github.com/faas-benchmarker/faas-benchmarker/cmd/internal/progress"
	"github.com/faas-benchmarker/faas-benchmarker/engine"
	"github.com/faas-benchmarker/faas-benchmarker/experiments"
	"github.com/faas-benchmarker/faas-benchmarker/internal/exitcode"
	lsprovider "github.com/faas-benchmarker/faas-benchmarker/localstack/provider"
	"github.com/faas-benchmarker/faas-benchmarker/results"
	"github.com/faas-benchmarker/faas-benchmarker/runner"
	"github.com/faas-benchmarker/faas-benchmarker/stacks/stackcfg"
)

// Cloud implements fbcli.Cloud.
type Cloud struct{}

// New returns the cloud half of the CLI.
func New() *Cloud { return &Cloud{} }

var _ fbcli.Cloud = (*Cloud)(nil)

// plainRunner builds a runner without a results shipper from the flags.
func plainRunner(c *cli.Context) (*runner.Runner, error) {
	logger, err := fbcli.NewLogger(c)
	if err != nil {
		return nil, err
	}
	r, err := runner.New(runner.Config{PulumiPath: c.String(fbcli.FlagPulumi), BackendURL: c.String(fbcli.FlagState),
		Stdout: c.App.ErrWriter, Stderr: c.App.ErrWriter, Logger: logger, DestroyTimeout: runner.DefaultDestroyTimeout, HandleSignals: true,
		PluginBinaries: selfPlugins()})
	if err != nil {
		return nil, cli.Exit(err.Error(), 1)
	}
	return r, nil
}

// newRunner builds the runner of a plan with the results shipper: the
// plan's results bucket, else the permanent stack's Spaces bucket when it
// exists, else none (said on stderr).
func newRunner(ctx context.Context, rc cloudplan.Runner, stderr io.Writer, logger *slog.Logger) (*runner.Runner, error) {
	cfg := runner.Config{
		PulumiPath: rc.Pulumi, BackendURL: rc.State,
		Stdout: stderr, Stderr: stderr, Logger: logger, DestroyTimeout: runner.DefaultDestroyTimeout,
		HandleSignals: true, PluginBinaries: selfPlugins(),
	}
	r, err := runner.New(cfg)
	if err != nil {
		return nil, err
	}
	store, where, err := resultsStore(ctx, bucketConfig(rc), r)
	if err != nil {
		return nil, err
	}
	if store == nil {
		fmt.Fprintf(stderr, "note: results will not be shipped (%s); they stay in the local database\n", where)
		return r, nil
	}
	cfg.Shipper = store
	return runner.New(cfg)
}

// bucketConfig is the --results-bucket configuration (Bucket empty: none).
func bucketConfig(rc cloudplan.Runner) blobstore.Config {
	return blobstore.Config{
		Bucket: rc.ResultsBucket, Endpoint: rc.ResultsEndpoint, Region: rc.ResultsRegion, UsePathStyle: rc.ResultsPathStyle,
		AccessKeyID: os.Getenv(fbcli.EnvResultsKeyID), SecretAccessKey: os.Getenv(fbcli.EnvResultsSecret),
	}
}

// bucketFlags is the --results-bucket configuration of a command line.
func bucketFlags(c *cli.Context) blobstore.Config {
	return bucketConfig(cloudplan.Runner{ResultsBucket: c.String(fbcli.FlagResultsBucket), ResultsEndpoint: c.String(fbcli.FlagResultsEnd),
		ResultsRegion: c.String(fbcli.FlagResultsRegion), ResultsPathStyle: c.Bool(fbcli.FlagResultsPath)})
}

// selfPlugins returns the resource plugins this binary serves itself:
// fblocal (see cmd/fbrun-cloud), for local-stack runs and their cleanup.
func selfPlugins() map[string]string {
	self, err := os.Executable()
	if err != nil {
		return nil
	}
	return map[string]string{lsprovider.Name: self}
}

// resultsStore returns the blob store results are shipped to (bucket,
// else the permanent stack's), or nil with the reason why there is none.
func resultsStore(ctx context.Context, bucket blobstore.Config, r *runner.Runner) (*blobstore.Store, string, error) {
	if bucket.Bucket != "" {
		s, err := blobstore.New(ctx, bucket)
		return s, "", err
	}
	outs, err := r.Outputs(ctx, "", runner.PermanentStack)
	if err != nil || len(outs) == 0 {
		return nil, "no --results-bucket and no permanent stack", nil
	}
	cfg, err := runner.SpacesStoreConfig(outs)
	if err != nil {
		return nil, "", err
	}
	s, err := blobstore.New(ctx, cfg)
	return s, "", err
}

// runsDir is where standalone per-run result files are kept.
func runsDir(c *cli.Context) string {
	return filepath.Join(filepath.Dir(c.String(fbcli.FlagDB)), "runs")
}

// RunPlan runs the plan's experiment on a stack deployed for the run. It
// reads no command line: everything was resolved by fbrun (the preflight
// ran there too, and the embedded local platform of local-stack runs
// there); the parameters are decoded from their resolved values.
func (*Cloud) RunPlan(ctx context.Context, p cloudplan.Plan, stderr io.Writer) cloudplan.Outcome {
	out := cloudplan.Outcome{Version: cloudplan.Version}
	fail := func(code int, err error) cloudplan.Outcome {
		out.Error, out.ExitCode = err.Error(), code
		return out
	}
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(p.LogLevel)); err != nil {
		return fail(2, fmt.Errorf("bad log level %q", p.LogLevel))
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: lvl}))
	exp, err := experiments.Lookup(p.Experiment)
	if err != nil {
		return fail(2, err)
	}
	params, err := experiments.Resolve(exp, p.Params)
	if err != nil {
		return fail(2, err)
	}
	db, err := results.Open(ctx, p.DB)
	if err != nil {
		return fail(1, fmt.Errorf("cannot use results database %s: %w", p.DB, err))
	}
	defer db.Close()
	r, err := newRunner(ctx, p.Runner, stderr, logger)
	if err != nil {
		return fail(1, err)
	}
	bar := progress.New(stderr, p.Progress)
	res, err := r.RunExperiment(ctx, runner.ExperimentRun{
		DB: db, RunsDir: p.RunsDir, Platform: p.Platform, StackSets: p.StackSets, LocalEndpoint: p.LocalEndpoint,
		Experiment: exp, Params: params, RunID: p.RunID, Keep: p.Keep, Logger: logger, Progress: stderr,
		Engine: engine.Config{Timeout: p.TimeoutNS, Progress: bar},
	})
	bar.Close()
	if res == nil {
		return fail(1, err)
	}
	out.FromSession(res.Session)
	if err != nil {
		out.Error = err.Error()
	}
	if res.Stack != nil {
		out.Notes = append(out.Notes, "stack: "+res.Stack.StackName)
		if res.Stack.ShippedTo != "" {
			out.Notes = append(out.Notes, "shipped to: "+res.Stack.ShippedTo)
		}
		if res.Stack.Kept {
			out.Notes = append(out.Notes, "KEPT: the stack still exists and costs money; remove it with fbrun cleanup --stack "+res.Stack.StackName)
		}
	}
	out.Notes = append(out.Notes, "run file: "+res.ResultsFile)
	var te *runner.TeardownError
	if errors.As(err, &te) {
		out.ExitCode = exitcode.Teardown // the runner has already printed the loud message and retry commands
	}
	return out
}

// RunPlanMain is fbrun-cloud run-plan: the plan on stdin, the outcome on
// stdout, progress and logs on stderr. SIGINT, SIGTERM and SIGHUP cancel
// the run, which stores what it has and tears its stack down. It returns
// the process exit code: 0 once an outcome was written (the outcome
// carries the run's), 2 for a plan it refuses.
func RunPlanMain(stdin io.Reader, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer stop()
	p, err := cloudplan.ReadPlan(stdin, cloudplan.BuildID())
	if err != nil {
		fmt.Fprintln(stderr, "fbrun-cloud: "+err.Error())
		return 2
	}
	out := New().RunPlan(ctx, p, stderr)
	if err := json.NewEncoder(stdout).Encode(out); err != nil {
		fmt.Fprintln(stderr, "fbrun-cloud: writing the outcome: "+err.Error())
		return 1
	}
	return 0
}

// UpPermanent creates or updates the permanent stack.
func (*Cloud) UpPermanent(c *cli.Context) error {
	r, err := plainRunner(c)
	if err != nil {
		return err
	}
	prog, err := runner.PermanentProgram(c.Args().Slice())
	if err != nil {
		return fbcli.UsageError("%v", err)
	}
	bins, err := orchestratorBinaries()
	if err != nil {
		return fbcli.UsageError("%v", err)
	}
	outs, err := r.Up(c.Context, runner.StackSpec{StackName: runner.PermanentStack, Program: prog})
	if err != nil {
		return cli.Exit(err.Error(), 1)
	}
	ip, _ := outs[stackcfg.OutDropletIP].Value.(string)
	id, _ := outs[stackcfg.OutDropletID].Value.(string)
	study, _ := outs[stackcfg.OutStudyFile].Value.(string)
	known, err := runner.OrchestratorKnownHosts(id)
	if err != nil {
		return cli.Exit(err.Error(), 1)
	}
	if err := runner.ProvisionOrchestrator(c.Context, runner.Orchestrator{Host: ip, KnownHosts: known, Binaries: bins,
		Study: study, Out: c.App.ErrWriter}); err != nil {
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
}

// EnvOrchestratorBinaries names a directory of linux/amd64 builds of
// fbrun, fbrun-cloud and fbrun-lab to copy to the orchestrator droplet,
// for `fbrun up permanent` run from another OS or architecture.
const EnvOrchestratorBinaries = "FB_ORCHESTRATOR_BINARIES"

// orchestratorBinaries returns the prebuilt binaries `fbrun up permanent`
// copies to the droplet (an Ubuntu x86-64 image): this installation's own
// when it is linux/amd64, else those in $FB_ORCHESTRATOR_BINARIES.
func orchestratorBinaries() (map[string]string, error) {
	dir := os.Getenv(EnvOrchestratorBinaries)
	if dir == "" {
		if runtime.GOOS != "linux" || runtime.GOARCH != "amd64" {
			return nil, fmt.Errorf("the orchestrator droplet runs linux/amd64 and this fbrun is %s/%s: build its binaries with "+
				"`GOOS=linux GOARCH=amd64 go build -o DIR/ ./cmd/fbrun ./cmd/fbrun-cloud ./cmd/fbrun-lab` and set %s=DIR",
				runtime.GOOS, runtime.GOARCH, EnvOrchestratorBinaries)
		}
		self, err := os.Executable()
		if err != nil {
			return nil, err
		}
		dir = filepath.Dir(self)
	}
	bins := map[string]string{}
	for _, b := range []string{"fbrun", "fbrun-cloud", "fbrun-lab"} {
		p := filepath.Join(dir, b)
		if st, err := os.Stat(p); err != nil || st.IsDir() {
			return nil, fmt.Errorf("%s is missing: the orchestrator needs fbrun, fbrun-cloud and fbrun-lab built for linux/amd64 "+
				"in one directory (`go install ./cmd/...`, or set %s)", p, EnvOrchestratorBinaries)
		}
		bins[b] = p
	}
	return bins, nil
}

// DownPermanent destroys the permanent stack; with --empty-bucket it
// empties the results bucket first, once the checks of
// runner.DownPermanent have passed.
func (*Cloud) DownPermanent(c *cli.Context) error {
	r, err := plainRunner(c)
	if err != nil {
		return err
	}
	if err := r.DownPermanent(c.Context, c.Bool(fbcli.FlagEmptyBucket)); err != nil {
		return cli.Exit(err.Error(), 1)
	}
	fmt.Fprintln(c.App.ErrWriter, "permanent stack destroyed")
	return nil
}

// Cleanup lists and destroys leftover experiment stacks.
func (*Cloud) Cleanup(c *cli.Context) error {
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
}

// PullResults downloads shipped run files and merges them into the local
// database.
func (*Cloud) PullResults(c *cli.Context) error {
	db, err := fbcli.OpenDB(c)
	if err != nil {
		return err
	}
	defer db.Close()
	var store *blobstore.Store
	if c.String(fbcli.FlagResultsBucket) != "" {
		store, _, err = resultsStore(c.Context, bucketFlags(c), nil)
	} else {
		var r *runner.Runner
		r, err = plainRunner(c)
		if err == nil {
			var why string
			store, why, err = resultsStore(c.Context, bucketFlags(c), r)
			if err == nil && store == nil {
				err = errors.New(why + ": pass --results-bucket")
			}
		}
	}
	if err != nil {
		return cli.Exit(err.Error(), 1)
	}
	rep, err := runner.PullResults(c.Context, store, c.String(fbcli.FlagPrefix), runsDir(c), db)
	fmt.Fprintf(c.App.Writer, "%d run files found, %d downloaded, %d new runs merged into %s\n",
		rep.Objects, rep.Downloaded, len(rep.NewRuns), db.Path())
	for _, id := range rep.NewRuns {
		fmt.Fprintln(c.App.Writer, "  new run", id)
	}
	if err != nil {
		return cli.Exit(err.Error(), 1)
	}
	return nil
}

func sortedOutputKeys[M ~map[string]V, V any](m M) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
