// Package cloudcli is the cloud half of the fbrun command line, linked only
// into fbrun-cloud: the Pulumi runner behind up/down/cleanup/results pull
// and managed experiments. It implements fbcli.Cloud: the commands and
// flags are defined and parsed in package fbcli, which hands this package
// typed requests (package cloudplan) and prints what comes back; nothing
// here reads a command line.
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
	"strings"
	"syscall"

	"github.com/faas-benchmarker/faas-benchmarker/cmd/internal/cloudplan"
	"github.com/faas-benchmarker/faas-benchmarker/cmd/internal/progress"
	"github.com/faas-benchmarker/faas-benchmarker/engine"
	"github.com/faas-benchmarker/faas-benchmarker/experiments"
	"github.com/faas-benchmarker/faas-benchmarker/internal/exitcode"
	"github.com/faas-benchmarker/faas-benchmarker/results"
	"github.com/faas-benchmarker/faas-benchmarker/results/blobstore"
	"github.com/faas-benchmarker/faas-benchmarker/runner"
	lsprovider "github.com/faas-benchmarker/faas-benchmarker/stacks/fblocal/provider"
	"github.com/faas-benchmarker/faas-benchmarker/stacks/stackcfg"
)

// Cloud is the cloud half of the CLI (it implements fbcli.Cloud).
type Cloud struct{}

// New returns the cloud half of the CLI.
func New() *Cloud { return &Cloud{} }

// plainRunner builds a runner without a results shipper for req.
func plainRunner(req cloudplan.Request) (*runner.Runner, error) {
	return runner.New(runner.Config{PulumiPath: req.Runner.Pulumi, BackendURL: req.Runner.State,
		Stdout: req.Progress, Stderr: req.Progress, Logger: req.Logger, DestroyTimeout: runner.DefaultDestroyTimeout, HandleSignals: true,
		PluginBinaries: selfPlugins()})
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
		AccessKeyID: os.Getenv(cloudplan.EnvResultsKeyID), SecretAccessKey: os.Getenv(cloudplan.EnvResultsSecret),
	}
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

// runsDir is where standalone per-run result files are kept: next to the
// results database db.
func runsDir(db string) string {
	return filepath.Join(filepath.Dir(db), "runs")
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

// UpPermanent creates or updates the permanent stack with settings
// ("key=value"), provisions its orchestrator droplet and returns the
// stack's outputs, sorted by key.
func (*Cloud) UpPermanent(ctx context.Context, req cloudplan.Request, settings []string) ([]cloudplan.StackOutput, error) {
	prog, err := runner.PermanentProgram(settings)
	if err != nil {
		return nil, &cloudplan.UsageError{Err: err}
	}
	bins, err := orchestratorBinaries()
	if err != nil {
		return nil, &cloudplan.UsageError{Err: err}
	}
	r, err := plainRunner(req)
	if err != nil {
		return nil, err
	}
	outs, err := r.Up(ctx, runner.StackSpec{StackName: runner.PermanentStack, Program: prog})
	if err != nil {
		return nil, err
	}
	ip, _ := outs[stackcfg.OutDropletIP].Value.(string)
	id, _ := outs[stackcfg.OutDropletID].Value.(string)
	study, _ := outs[stackcfg.OutStudyFile].Value.(string)
	known, err := runner.OrchestratorKnownHosts(id)
	if err != nil {
		return nil, err
	}
	if err := runner.ProvisionOrchestrator(ctx, runner.Orchestrator{Host: ip, KnownHosts: known, Binaries: bins,
		Study: study, Out: req.Progress}); err != nil {
		return nil, err
	}
	var list []cloudplan.StackOutput
	for _, k := range sortedOutputKeys(outs) {
		list = append(list, cloudplan.StackOutput{Key: k, Value: outs[k].Value, Secret: outs[k].Secret})
	}
	return list, nil
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

// DownPermanent destroys the permanent stack; with emptyBucket it
// empties the results bucket first, once the checks of
// runner.DownPermanent have passed.
func (*Cloud) DownPermanent(ctx context.Context, req cloudplan.Request, emptyBucket bool) error {
	r, err := plainRunner(req)
	if err != nil {
		return err
	}
	return r.DownPermanent(ctx, emptyBucket)
}

// Cleanup lists and destroys leftover experiment stacks; it returns what
// it did with each, also when it fails part way.
func (*Cloud) Cleanup(ctx context.Context, req cloudplan.Request, opts cloudplan.CleanupOptions) ([]cloudplan.CleanupItem, error) {
	r, err := plainRunner(req)
	if err != nil {
		return nil, err
	}
	items, err := r.Cleanup(ctx, runner.CleanupOptions{Stacks: opts.Stacks, OlderThan: opts.OlderThan, DryRun: opts.DryRun})
	out := make([]cloudplan.CleanupItem, len(items))
	for i, it := range items {
		out[i] = cloudplan.CleanupItem{Stack: it.Stack, Resources: it.Resources, Action: it.Action, Reason: it.Reason}
	}
	return out, err
}

// PullResults downloads the run files under prefix from the results
// bucket (the request's, else the permanent stack's) and merges them
// into the results database. Once the pull has started it returns what
// it did, also when it fails part way; before, no report.
func (*Cloud) PullResults(ctx context.Context, req cloudplan.Request, prefix string) (*cloudplan.PullReport, error) {
	db, err := results.Open(ctx, req.DB)
	if err != nil {
		return nil, fmt.Errorf("cannot use results database %s: %s (set --db to a writable path)", req.DB, strings.TrimPrefix(err.Error(), "results: "))
	}
	defer db.Close()
	store, err := pullStore(ctx, req)
	if err != nil {
		return nil, err
	}
	rep, err := runner.PullResults(ctx, store, prefix, runsDir(req.DB), db)
	return &cloudplan.PullReport{Objects: rep.Objects, Downloaded: rep.Downloaded, NewRuns: rep.NewRuns}, err
}

// pullStore is the bucket `results pull` reads: the request's, else the
// permanent stack's.
func pullStore(ctx context.Context, req cloudplan.Request) (*blobstore.Store, error) {
	if req.Runner.ResultsBucket != "" {
		store, _, err := resultsStore(ctx, bucketConfig(req.Runner), nil)
		return store, err
	}
	r, err := plainRunner(req)
	if err != nil {
		return nil, err
	}
	store, why, err := resultsStore(ctx, bucketConfig(req.Runner), r)
	if err == nil && store == nil {
		err = errors.New(why + ": pass --results-bucket")
	}
	return store, err
}

func sortedOutputKeys[M ~map[string]V, V any](m M) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
