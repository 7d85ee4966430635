// Package cloudcli is the cloud half of the fbrun command line, linked only
// into fbrun-cloud: the Pulumi runner behind up/down/cleanup/results pull
// and managed experiments. It implements fbcli.Cloud; the commands and
// flags themselves are defined in package fbcli.
package cloudcli

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"slices"

	"github.com/urfave/cli/v2"

	"github.com/faas-benchmarker/faas-benchmarker/blobstore"
	"github.com/faas-benchmarker/faas-benchmarker/cmd/internal/fbcli"
	lsprovider "github.com/faas-benchmarker/faas-benchmarker/localstack/provider"
	"github.com/faas-benchmarker/faas-benchmarker/platforms/localstack"
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

// newRunner builds the runner with the results shipper: --results-bucket,
// else the permanent stack's Spaces bucket when it exists, else none.
func newRunner(c *cli.Context, logger *slog.Logger) (*runner.Runner, error) {
	cfg := runner.Config{
		PulumiPath: c.String(fbcli.FlagPulumi), BackendURL: c.String(fbcli.FlagState),
		Stdout: c.App.ErrWriter, Stderr: c.App.ErrWriter, Logger: logger, DestroyTimeout: runner.DefaultDestroyTimeout,
		HandleSignals: true, PluginBinaries: selfPlugins(),
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

// selfPlugins returns the resource plugins this binary serves itself:
// fblocal (see cmd/fbrun-cloud), for local-stack runs and their cleanup.
func selfPlugins() map[string]string {
	self, err := os.Executable()
	if err != nil {
		return nil
	}
	return map[string]string{lsprovider.Name: self}
}

// resultsStore returns the blob store results are shipped to, or nil with
// the reason why there is none.
func resultsStore(c *cli.Context, r *runner.Runner) (*blobstore.Store, string, error) {
	if b := c.String(fbcli.FlagResultsBucket); b != "" {
		s, err := blobstore.New(c.Context, blobstore.Config{
			Bucket: b, Endpoint: c.String(fbcli.FlagResultsEnd), Region: c.String(fbcli.FlagResultsRegion),
			UsePathStyle:    c.Bool(fbcli.FlagResultsPath),
			AccessKeyID:     os.Getenv(fbcli.EnvResultsKeyID),
			SecretAccessKey: os.Getenv(fbcli.EnvResultsSecret),
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
	return filepath.Join(filepath.Dir(c.String(fbcli.FlagDB)), "runs")
}

// ManagedExperiment runs an experiment on a stack deployed for the run.
func (*Cloud) ManagedExperiment(c *cli.Context, run fbcli.ManagedRun) (*fbcli.ManagedOutcome, error) {
	// The preflight of `fbrun doctor`: without credentials, plugins,
	// packages or valid stack settings nothing could be deployed, so say
	// so before any stack exists.
	if err := fbcli.RunDoctor(c, c.String(fbcli.FlagPlatform), true, run.Experiment, run.Params); err != nil {
		return nil, err
	}
	r, err := newRunner(c, run.Logger)
	if err != nil {
		return nil, err
	}
	cfg := runner.ExperimentRun{
		DB: run.DB, RunsDir: runsDir(c), Platform: c.String(fbcli.FlagPlatform),
		StackSets: c.StringSlice(fbcli.FlagStackSet), Experiment: run.Experiment, Params: run.Params,
		Keep: c.Bool(fbcli.FlagKeep), Engine: run.Engine, Logger: run.Logger, Progress: c.App.ErrWriter,
	}
	if cfg.Platform == localstack.Name && c.String(fbcli.FlagLocalEndpoint) != "" {
		cfg.LocalEndpoint = c.String(fbcli.FlagLocalEndpoint) // a running fbrun local serve
	} else if cfg.Platform == localstack.Name {
		url, stop, err := fbcli.StartLocal(c, run.Logger)
		if err != nil {
			return nil, err
		}
		defer stop()
		cfg.LocalEndpoint = url
	}
	out, err := r.RunExperiment(c.Context, cfg)
	if out == nil {
		return nil, cli.Exit(err.Error(), 1)
	}
	ro := &fbcli.ManagedOutcome{Session: out.Session, Err: err}
	if out.Stack != nil {
		ro.Notes = append(ro.Notes, "stack: "+out.Stack.StackName)
		if out.Stack.ShippedTo != "" {
			ro.Notes = append(ro.Notes, "shipped to: "+out.Stack.ShippedTo)
		}
		if out.Stack.Kept {
			ro.Notes = append(ro.Notes, "KEPT: the stack still exists and costs money; remove it with fbrun cleanup --stack "+out.Stack.StackName)
		}
	}
	ro.Notes = append(ro.Notes, "run file: "+out.ResultsFile)
	var te *runner.TeardownError
	if errors.As(err, &te) {
		ro.ExitCode = 3 // the runner has already printed the loud message and retry commands
	}
	return ro, nil
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
	if err := runner.ProvisionOrchestrator(c.Context, runner.Orchestrator{Host: ip, Binaries: bins, Out: c.App.ErrWriter}); err != nil {
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
