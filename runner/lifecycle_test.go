package runner_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/config"

	"github.com/faas-benchmarker/faas-benchmarker/functions/lab"
	"github.com/faas-benchmarker/faas-benchmarker/internal/testtools"
	"github.com/faas-benchmarker/faas-benchmarker/localfaas"
	"github.com/faas-benchmarker/faas-benchmarker/localfaas/localfaastest"
	"github.com/faas-benchmarker/faas-benchmarker/results"
	"github.com/faas-benchmarker/faas-benchmarker/results/blobstore"
	"github.com/faas-benchmarker/faas-benchmarker/results/blobstore/miniotest"
	"github.com/faas-benchmarker/faas-benchmarker/runner"
	"github.com/faas-benchmarker/faas-benchmarker/runner/testprovider/fblocal"
	"github.com/faas-benchmarker/faas-benchmarker/stacks/stackcfg"
)

// pluginDir holds the fblocal provider plugin, built once per test binary.
var (
	pluginOnce sync.Once
	pluginDir  string
	pluginErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if pluginDir != "" && os.Getenv(envChildPluginDir) == "" {
		os.RemoveAll(pluginDir)
	}
	os.Exit(code)
}

// buildPlugin builds pulumi-resource-fblocal with the Go toolchain.
func buildPlugin(t *testing.T) string {
	t.Helper()
	pluginOnce.Do(func() {
		if d := os.Getenv(envChildPluginDir); d != "" { // a child of TestSignalsLikeATerminal
			pluginDir = d
			return
		}
		pluginDir, pluginErr = os.MkdirTemp("", "fblocal-plugin-")
		if pluginErr != nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, "go", "build", "-o", filepath.Join(pluginDir, "pulumi-resource-fblocal"),
			"./testprovider/pulumi-resource-fblocal")
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Run(); err != nil {
			pluginErr = fmt.Errorf("go build pulumi-resource-fblocal: %w\n%s", err, out.String())
		}
	})
	if pluginErr != nil {
		t.Fatal(pluginErr)
	}
	return pluginDir
}

// harness is a runner with a file backend, the fblocal plugin on PATH and a
// local platform to deploy to.
type harness struct {
	t          *testing.T
	r          *runner.Runner
	p          *localfaas.Platform
	backendDir string
	stdout     *testtools.Buffer
	stderr     *testtools.Buffer
	baseline   map[string]bool // functions the platform had before the test
}

func newHarness(t *testing.T, shipper runner.Shipper) *harness {
	t.Helper()
	return newHarnessWith(t, shipper, nil)
}

// newHarnessWith lets tweak change the runner configuration.
func newHarnessWith(t *testing.T, shipper runner.Shipper, tweak func(*runner.Config)) *harness {
	t.Helper()
	pulumiBin := testtools.Require(t, "pulumi", "FB_PULUMI")
	dir := buildPlugin(t)
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	h := &harness{t: t, backendDir: filepath.Join(t.TempDir(), "state"), stdout: &testtools.Buffer{}, stderr: &testtools.Buffer{}}
	h.p = localfaastest.Start(t, localfaas.Config{})
	cfg := runner.Config{
		PulumiPath: pulumiBin,
		BackendURL: runner.FileBackendURL(h.backendDir),
		LogDir:     filepath.Join(t.TempDir(), "logs"),
		PulumiHome: filepath.Join(t.TempDir(), "pulumi-home"),
		Env: map[string]string{
			runner.EnvPassphrase:                          "runner-test-passphrase",
			"PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
		},
		Stdout:         h.stdout,
		Stderr:         h.stderr,
		DestroyTimeout: 5 * time.Minute,
		Shipper:        shipper,
	}
	if tweak != nil {
		tweak(&cfg)
	}
	r, err := runner.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	h.r = r
	h.baseline = map[string]bool{}
	for _, f := range h.functions() {
		h.baseline[f] = true
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("runner stdout:\n%s\nrunner stderr:\n%s", h.stdout, h.stderr)
		}
	})
	return h
}

func (h *harness) lambda() *lambda.Client {
	return lambda.New(lambda.Options{
		Region:           "us-east-1",
		BaseEndpoint:     aws.String(h.p.URL()),
		Credentials:      credentials.NewStaticCredentialsProvider("test", "test", ""),
		RetryMaxAttempts: 1,
	})
}

// functions lists the platform's functions through its Lambda API.
func (h *harness) functions() []string {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := h.lambda().ListFunctions(ctx, &lambda.ListFunctionsInput{})
	if err != nil {
		h.t.Fatalf("ListFunctions: %v", err)
	}
	var names []string
	for _, f := range out.Functions {
		names = append(names, aws.ToString(f.FunctionName))
	}
	return names
}

// leftovers lists functions the test deployed that still exist.
func (h *harness) leftovers() []string {
	var left []string
	for _, f := range h.functions() {
		if !h.baseline[f] {
			left = append(left, f)
		}
	}
	return left
}

// stackNames lists the stacks in the backend.
func (h *harness) stackNames() []string {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	list, err := h.r.ListStacks(ctx, "")
	if err != nil {
		h.t.Fatal(err)
	}
	var names []string
	for _, s := range list {
		names = append(names, s.Name)
	}
	return names
}

// assertGone checks that the stack was destroyed and removed, and that the
// platform has no function the test deployed.
func (h *harness) assertGone(stack string) {
	h.t.Helper()
	if left := h.leftovers(); len(left) > 0 {
		h.t.Errorf("functions left on the platform: %v", left)
	}
	for _, n := range h.stackNames() {
		if strings.HasSuffix(n, stack) {
			h.t.Errorf("stack %s still in the backend", n)
		}
	}
	matches, _ := filepath.Glob(filepath.Join(h.backendDir, ".pulumi", "stacks", "*", stack+".json"))
	if len(matches) > 0 {
		h.t.Errorf("state file still present: %v", matches)
	}
}

func newStackName(t *testing.T, experiment string) (name, runID string) {
	t.Helper()
	runID = results.NewRunID(time.Now())
	name, err := runner.StackName(experiment, "fblocal", runID)
	if err != nil {
		t.Fatal(err)
	}
	return name, runID
}

// labStack is the inline program: one fblocal Function per name, deployed
// to the endpoint from the stack config, exported by name.
func labStack(fns []string, tweak func(name string, a *fblocal.FunctionArgs)) pulumi.RunFunc {
	return func(ctx *pulumi.Context) error {
		endpoint := config.Require(ctx, "endpoint")
		prefix := config.Require(ctx, "prefix")
		for _, n := range fns {
			args := &fblocal.FunctionArgs{
				Endpoint:     pulumi.String(endpoint),
				FunctionName: pulumi.String(prefix + "-" + n),
				MemorySize:   pulumi.IntPtr(128),
				Timeout:      pulumi.IntPtr(30),
			}
			if tweak != nil {
				tweak(n, args)
			}
			f, err := fblocal.NewFunction(ctx, n, args)
			if err != nil {
				return err
			}
			ctx.Export(n, f.FunctionName)
		}
		ctx.Export("endpoint", pulumi.String(endpoint))
		return nil
	}
}

func (h *harness) spec(stack, runID string, fns []string, tweak func(string, *fblocal.FunctionArgs)) runner.Spec {
	return runner.Spec{
		StackSpec: runner.StackSpec{
			StackName: stack,
			Program:   labStack(fns, tweak),
			Config:    map[string]string{"endpoint": h.p.URL(), "prefix": "t" + runID[len(runID)-6:]},
		},
		RunGrace: 2 * time.Minute,
	}
}

func outputString(t *testing.T, out auto.OutputMap, key string) string {
	t.Helper()
	v, ok := out[key].Value.(string)
	if !ok || v == "" {
		t.Fatalf("output %q missing in %v", key, out)
	}
	return v
}

// invokeAndStore is the test experiment: it invokes each deployed function
// calls times through the platform's Lambda invoke API, stores one row per
// invocation in the local results DB and exports the run to resultsPath.
func invokeAndStore(h *harness, db *results.DB, runID string, fns []string, calls int, resultsPath string) func(context.Context, auto.OutputMap) error {
	return func(ctx context.Context, out auto.OutputMap) error {
		endpoint := outputString(h.t, out, "endpoint")
		c := lambda.New(lambda.Options{
			Region: "us-east-1", BaseEndpoint: aws.String(endpoint),
			Credentials:      credentials.NewStaticCredentialsProvider("test", "test", ""),
			RetryMaxAttempts: 1,
		})
		if err := db.CreateRun(ctx, results.Run{ID: runID, Experiment: "lifecycle", Platform: "fblocal", StartedAt: time.Now()}); err != nil {
			return err
		}
		w := db.NewWriter(results.WriterConfig{})
		seq := int64(0)
		for _, fn := range fns {
			name := outputString(h.t, out, fn)
			for i := 0; i < calls; i++ {
				start := time.Now()
				res, err := c.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String(name), Payload: []byte(`{}`)})
				if err != nil {
					w.Close()
					return fmt.Errorf("invoke %s: %w", name, err)
				}
				var resp lab.Response
				if err := json.Unmarshal(res.Payload, &resp); err != nil {
					w.Close()
					return fmt.Errorf("decode %s: %w: %s", name, err, res.Payload)
				}
				seq++
				cold := resp.Instance.Cold
				if err := w.Add(results.Invocation{
					RunID: runID, Seq: seq, Function: name, Status: results.InvOK,
					LatencyNS: time.Since(start).Nanoseconds(), RequestID: resp.RequestID,
					InstanceID: resp.Instance.ID, Cold: &cold, Raw: res.Payload,
				}); err != nil {
					w.Close()
					return err
				}
			}
		}
		if err := w.Close(); err != nil {
			return err
		}
		if err := db.FinishRun(ctx, runID, results.StatusOK, time.Now(), nil, ""); err != nil {
			return err
		}
		return db.ExportRun(ctx, runID, resultsPath)
	}
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// TestExperimentLifecycle runs the whole lifecycle for real: up (the fblocal
// plugin deploys two functions on the local platform) → run (invoke them,
// store rows in SQLite, export the run) → destroy → ship the run file to
// MinIO; then `results pull` merges it into another DB, twice, idempotently.
func TestExperimentLifecycle(t *testing.T) {
	m := miniotest.Start(t)
	ctx := testCtx(t)
	store, err := blobstore.New(ctx, blobstore.Config{
		Bucket: "fb-results", Endpoint: m.Endpoint, UsePathStyle: true,
		AccessKeyID: m.AccessKey, SecretAccessKey: m.SecretKey,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := store.EnsureBucket(ctx); err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, store)
	stack, runID := newStackName(t, "lifecycle")
	fns := []string{"fn1", "fn2"}
	const calls = 3

	db, err := results.Open(ctx, filepath.Join(t.TempDir(), "local.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	spec := h.spec(stack, runID, fns, nil)
	spec.ResultsPath = filepath.Join(t.TempDir(), runID+".sqlite")
	var deployed []string
	run := invokeAndStore(h, db, runID, fns, calls, spec.ResultsPath)
	spec.Run = func(ctx context.Context, out auto.OutputMap) error {
		deployed = h.leftovers() // the stack's functions, while it is up
		return run(ctx, out)
	}

	res, err := h.r.RunStack(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	if len(deployed) != len(fns) {
		t.Fatalf("functions deployed during the run: %v, want %d", deployed, len(fns))
	}
	if !res.Destroyed || res.Kept || res.ShippedTo == "" {
		t.Fatalf("result %+v", res)
	}
	h.assertGone(stack)
	logText, err := os.ReadFile(res.LogPath)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"==> up " + stack, "==> destroy " + stack, "no resources left", "fblocal:index:Function"} {
		if !strings.Contains(string(logText), want) {
			t.Errorf("run log lacks %q", want)
		}
	}
	if _, err := os.Stat(spec.ResultsPath); err != nil {
		t.Fatalf("local results file gone after shipping: %v", err)
	}

	// Another machine pulls the shipped run and merges it, twice.
	other, err := results.Open(ctx, filepath.Join(t.TempDir(), "other.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	pullDir := t.TempDir()
	for i, want := range []struct {
		downloaded int
		newRuns    int
	}{{1, 1}, {0, 0}} {
		rep, err := runner.PullResults(ctx, store, results.RunFilePrefix, pullDir, other)
		if err != nil {
			t.Fatal(err)
		}
		if rep.Objects != 1 || rep.Downloaded != want.downloaded || len(rep.NewRuns) != want.newRuns {
			t.Fatalf("pull %d: %+v, want %+v", i, rep, want)
		}
		n, err := other.CountInvocations(ctx, runID)
		if err != nil {
			t.Fatal(err)
		}
		if n != int64(len(fns)*calls) {
			t.Fatalf("pull %d: %d invocations merged, want %d", i, n, len(fns)*calls)
		}
	}
	// Pulling the same file again into the DB that produced it adds nothing.
	if added, err := db.Import(ctx, filepath.Join(pullDir, stack+".sqlite")); err != nil || len(added) != 0 {
		t.Fatalf("re-import into the source DB: %v, %v", added, err)
	}
}

// errBoom is the experiment failure of the fault tests.
var errBoom = errors.New("experiment failed on purpose")

// TestTeardownOnFaults: whatever ends the run — an error, a panic, a SIGINT
// during the run — the stack is destroyed and removed, and nothing is left
// on the platform.
func TestTeardownOnFaults(t *testing.T) {
	for _, tc := range []struct {
		name  string
		run   func(ctx context.Context, out auto.OutputMap) error
		check func(t *testing.T, err error)
	}{
		{
			name: "experiment error",
			run:  func(context.Context, auto.OutputMap) error { return errBoom },
			check: func(t *testing.T, err error) {
				if !errors.Is(err, errBoom) {
					t.Fatalf("want errBoom, got %v", err)
				}
			},
		},
		{
			name: "panic",
			run:  func(context.Context, auto.OutputMap) error { panic("experiment panicked on purpose") },
			check: func(t *testing.T, err error) {
				var pe *runner.PanicError
				if !errors.As(err, &pe) || pe.Value != "experiment panicked on purpose" {
					t.Fatalf("want a PanicError, got %v", err)
				}
			},
		},
		{
			name: "SIGINT during the run",
			run: func(ctx context.Context, out auto.OutputMap) error {
				if err := syscall.Kill(os.Getpid(), syscall.SIGINT); err != nil {
					return err
				}
				<-ctx.Done() // the experiment stops when its context is cancelled
				return ctx.Err()
			},
			check: func(t *testing.T, err error) {
				if !errors.Is(err, context.Canceled) {
					t.Fatalf("want context.Canceled, got %v", err)
				}
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, nil)
			ctx, stop := signal.NotifyContext(testCtx(t), os.Interrupt, syscall.SIGTERM)
			defer stop()
			stack, runID := newStackName(t, "faults")
			spec := h.spec(stack, runID, []string{"fn1", "fn2"}, nil)
			var up int
			spec.Run = func(ctx context.Context, out auto.OutputMap) error {
				up = len(h.leftovers())
				return tc.run(ctx, out)
			}
			res, err := h.r.RunStack(ctx, spec)
			tc.check(t, err)
			if up != 2 {
				t.Fatalf("%d functions were up during the run, want 2", up)
			}
			var te *runner.TeardownError
			if errors.As(err, &te) || !res.Destroyed {
				t.Fatalf("teardown failed: %v", err)
			}
			h.assertGone(stack)
		})
	}
}

// TestSIGINTDuringUp interrupts `up` half-way: one function exists and the
// provider is still busy creating when SIGINT arrives. The stack must
// still be destroyed, including the function created before the interrupt.
func TestSIGINTDuringUp(t *testing.T) {
	h := newHarness(t, nil)
	ctx, stop := signal.NotifyContext(testCtx(t), os.Interrupt)
	defer stop()
	stack, runID := newStackName(t, "sigint-up")
	hold := filepath.Join(t.TempDir(), "created")
	spec := h.spec(stack, runID, []string{"fn1"}, func(_ string, a *fblocal.FunctionArgs) {
		a.HoldAfterCreate = pulumi.StringPtr(hold)
	})
	ran := false
	spec.Run = func(context.Context, auto.OutputMap) error { ran = true; return nil }
	go func() {
		// Wait (bounded) until the provider has created the function and
		// is holding the create open, then interrupt like Ctrl-C.
		for i := 0; i < 6000; i++ {
			if _, err := os.Stat(hold); err == nil {
				_ = syscall.Kill(os.Getpid(), syscall.SIGINT)
				return
			}
			if ctx.Err() != nil {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
	}()
	res, err := h.r.RunStack(ctx, spec)
	if err == nil {
		t.Fatal("an interrupted up succeeded")
	}
	if ran {
		t.Fatal("the experiment ran although up was interrupted")
	}
	if _, serr := os.Stat(hold); serr != nil {
		t.Fatalf("the provider never started creating: %v (run error: %v)", serr, err)
	}
	var te *runner.TeardownError
	if errors.As(err, &te) || !res.Destroyed {
		t.Fatalf("teardown after interrupted up failed: %v", err)
	}
	h.assertGone(stack)
}

// TestFailedTeardownIsLoudAndCleanupFixesIt: a destroy that fails is
// reported with the stack name and the retry command; the resources stay
// until `fbrun cleanup` (Runner.Cleanup) destroys them. Cleanup leaves the
// permanent stack alone, and a --keep run is cleaned up too.
func TestFailedTeardownIsLoudAndCleanupFixesIt(t *testing.T) {
	h := newHarness(t, nil)
	ctx := testCtx(t)
	fault := filepath.Join(t.TempDir(), "refuse-delete")
	if err := os.WriteFile(fault, nil, 0o600); err != nil {
		t.Fatal(err)
	}

	// The permanent stack, which Cleanup must never touch.
	permOut, err := h.r.Up(ctx, runner.StackSpec{
		StackName: runner.PermanentStack,
		Program:   labStack([]string{"bucket"}, nil),
		Config:    map[string]string{"endpoint": h.p.URL(), "prefix": "perm"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if outputString(t, permOut, "bucket") != "perm-bucket" {
		t.Fatalf("permanent outputs %v", permOut)
	}
	h.baseline["perm-bucket"] = true // checked separately below

	stack, runID := newStackName(t, "teardown-fails")
	spec := h.spec(stack, runID, []string{"fn1"}, func(_ string, a *fblocal.FunctionArgs) {
		a.FailDeleteWhile = pulumi.StringPtr(fault)
	})
	spec.Run = func(context.Context, auto.OutputMap) error { return nil }
	res, err := h.r.RunStack(ctx, spec)
	var te *runner.TeardownError
	if !errors.As(err, &te) || te.Stack != stack || res.Destroyed {
		t.Fatalf("want a TeardownError for %s, got %v (result %+v)", stack, err, res)
	}
	msg := h.stderr.String()
	for _, want := range []string{"TEARDOWN FAILED", stack, "fbrun cleanup --stack " + stack, "pulumi destroy --yes --remove --stack organization/faas-benchmarker/" + stack} {
		if !strings.Contains(msg, want) {
			t.Errorf("stderr lacks %q:\n%s", want, msg)
		}
	}
	if len(h.leftovers()) != 1 { // the experiment's fn1
		t.Fatalf("functions after the failed teardown: %v", h.leftovers())
	}

	// A second run kept on purpose.
	kept, keptID := newStackName(t, "kept")
	kspec := h.spec(kept, keptID, []string{"fn1"}, nil)
	kspec.Run = func(context.Context, auto.OutputMap) error { return nil }
	kspec.Keep = true
	kres, err := h.r.RunStack(ctx, kspec)
	if err != nil || !kres.Kept || kres.Destroyed {
		t.Fatalf("kept run: %+v, %v", kres, err)
	}
	if !strings.Contains(h.stderr.String(), "WARNING: --keep: stack "+kept) {
		t.Errorf("no cost warning for --keep")
	}

	// While the fault persists, cleanup fails for that stack but still
	// destroys the kept one.
	items, err := h.r.Cleanup(ctx, runner.CleanupOptions{})
	if !errors.As(err, &te) || len(items) != 2 {
		t.Fatalf("cleanup with the fault: %+v, %v", items, err)
	}
	// Dry run lists without destroying.
	items, err = h.r.Cleanup(ctx, runner.CleanupOptions{DryRun: true})
	if err != nil || len(items) != 1 || items[0].Stack != stack || items[0].Action != "would destroy" {
		t.Fatalf("dry run: %+v, %v", items, err)
	}
	if err := os.Remove(fault); err != nil {
		t.Fatal(err)
	}
	items, err = h.r.Cleanup(ctx, runner.CleanupOptions{})
	if err != nil || len(items) != 1 || items[0].Action != "destroyed" {
		t.Fatalf("cleanup: %+v, %v", items, err)
	}
	h.assertGone(stack)
	h.assertGone(kept)
	if !slices.Contains(h.functions(), "perm-bucket") || !slices.ContainsFunc(h.stackNames(), func(n string) bool {
		return strings.HasSuffix(n, runner.PermanentStack)
	}) {
		t.Fatal("cleanup touched the permanent stack")
	}
	if err := h.r.Down(ctx, runner.StackSpec{StackName: runner.PermanentStack}); err != nil {
		t.Fatal(err)
	}
	delete(h.baseline, "perm-bucket")
	h.assertGone(runner.PermanentStack)
}

// TestConcurrentUpdateIsReportedClearly: a second update of a stack that is
// being updated fails with ErrConcurrentUpdate (the backend's lock), not
// with a corrupted state.
func TestConcurrentUpdateIsReportedClearly(t *testing.T) {
	h := newHarness(t, nil)
	ctx := testCtx(t)
	hold := filepath.Join(t.TempDir(), "created")
	spec := runner.StackSpec{
		StackName: "shared",
		Program: labStack([]string{"fn1"}, func(_ string, a *fblocal.FunctionArgs) {
			a.HoldAfterCreate = pulumi.StringPtr(hold)
		}),
		Config: map[string]string{"endpoint": h.p.URL(), "prefix": "shared"},
	}
	firstCtx, cancelFirst := context.WithCancel(ctx)
	defer cancelFirst()
	firstErr := make(chan error, 1)
	go func() {
		_, err := h.r.Up(firstCtx, spec)
		firstErr <- err
	}()
	for i := 0; ; i++ {
		if _, err := os.Stat(hold); err == nil {
			break
		}
		if i > 6000 {
			t.Fatal("first update never reached the provider")
		}
		time.Sleep(100 * time.Millisecond)
	}
	second := spec
	second.Program = labStack([]string{"fn1"}, nil)
	_, err := h.r.Up(ctx, second)
	if !errors.Is(err, runner.ErrConcurrentUpdate) {
		t.Fatalf("want ErrConcurrentUpdate, got %v", err)
	}
	cancelFirst()
	if err := <-firstErr; err == nil {
		t.Fatal("the interrupted first update succeeded")
	}
	if err := h.r.Down(ctx, runner.StackSpec{StackName: "shared"}); err != nil {
		t.Fatal(err)
	}
	h.assertGone("shared")
}

// TestPrintedPulumiRetryCommandWorks runs the plain-Pulumi retry command
// that a failed teardown prints, exactly as printed, from a directory
// without any Pulumi project: it must destroy and remove the stack.
func TestPrintedPulumiRetryCommandWorks(t *testing.T) {
	h := newHarness(t, nil)
	ctx := testCtx(t)
	fault := filepath.Join(t.TempDir(), "refuse-delete")
	if err := os.WriteFile(fault, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	stack, runID := newStackName(t, "retry")
	spec := h.spec(stack, runID, []string{"fn1"}, func(_ string, a *fblocal.FunctionArgs) {
		a.FailDeleteWhile = pulumi.StringPtr(fault)
	})
	spec.Run = func(context.Context, auto.OutputMap) error { return nil }
	_, err := h.r.RunStack(ctx, spec)
	var te *runner.TeardownError
	if !errors.As(err, &te) {
		t.Fatalf("want a TeardownError, got %v", err)
	}
	if err := os.Remove(fault); err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(ctx, "sh", "-c", te.RetryPulumi)
	cmd.Dir = t.TempDir()
	cmd.Env = append(os.Environ(),
		runner.EnvPassphrase+"=runner-test-passphrase",
		"PULUMI_HOME="+filepath.Join(t.TempDir(), "home"),
		"PULUMI_SKIP_UPDATE_CHECK=true",
		"PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", te.RetryPulumi, err, out)
	}
	h.assertGone(stack)
}

// TestCLIKilledDuringUp: the provider ignores the interrupt, so the
// runner kills the Pulumi CLI at its interrupt limit after SIGINT, leaving the
// stack locked and the create pending. The teardown removes the stale lock
// of the dead CLI, destroys the stack, and warns loudly about the pending
// create (a resource the state does not know).
func TestCLIKilledDuringUp(t *testing.T) {
	// A short limit stands for the 30-minute one a stuck provider outlasts.
	h := newHarnessWith(t, nil, func(c *runner.Config) { c.InterruptLimit = 10 * time.Second })
	ctx, stop := signal.NotifyContext(testCtx(t), os.Interrupt)
	defer stop()
	stack, runID := newStackName(t, "killed-up")
	hold := filepath.Join(t.TempDir(), "created")
	spec := h.spec(stack, runID, []string{"fn1"}, func(_ string, a *fblocal.FunctionArgs) {
		a.HoldAfterCreate = pulumi.StringPtr(hold)
		a.IgnoreCancel = pulumi.BoolPtr(true)
	})
	spec.Run = func(context.Context, auto.OutputMap) error { return nil }
	go func() {
		for i := 0; i < 6000; i++ {
			if _, err := os.Stat(hold); err == nil {
				_ = syscall.Kill(os.Getpid(), syscall.SIGINT)
				return
			}
			if ctx.Err() != nil {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
	}()
	res, err := h.r.RunStack(ctx, spec)
	_ = os.Remove(hold) // let the orphaned provider finish
	if err == nil {
		t.Fatal("an interrupted up succeeded")
	}
	var te *runner.TeardownError
	if errors.As(err, &te) || !res.Destroyed {
		t.Fatalf("teardown after a killed CLI failed: %v", err)
	}
	stderr := h.stderr.String()
	for _, want := range []string{"removing the stale lock", "left pending by an interrupted Pulumi CLI", "fblocal:index:Function"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q", want)
		}
	}
	for _, n := range h.stackNames() {
		if strings.HasSuffix(n, stack) {
			t.Errorf("stack %s still in the backend", n)
		}
	}
	// The one function whose create was cut off is the pending resource
	// the warning names: the state never learnt about it.
	if left := h.leftovers(); len(left) != 1 || !strings.HasSuffix(left[0], "-fn1") ||
		!strings.Contains(stderr, "fblocal:index:Function::fn1") {
		t.Fatalf("leftovers %v, want exactly the pending fn1 named in the warning", left)
	}
}

// TestS3StateBackend keeps the stack state in an S3 bucket (MinIO here, the
// permanent stack's Spaces bucket in the cloud): --state s3://..., read
// with the Spaces key pair while the providers keep the AWS one.
func TestS3StateBackend(t *testing.T) {
	m := miniotest.Start(t)
	ctx := testCtx(t)
	store, err := blobstore.New(ctx, blobstore.Config{
		Bucket: "fb-state", Endpoint: m.Endpoint, UsePathStyle: true,
		AccessKeyID: m.AccessKey, SecretAccessKey: m.SecretKey,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := store.EnsureBucket(ctx); err != nil {
		t.Fatal(err)
	}
	// The exact URL shape the permanent stack outputs (stateBackendUrl),
	// with MinIO's endpoint in place of the Spaces one. Two key pairs, as
	// on an orchestrator that runs aws and openfaas cells: the Spaces pair
	// (MinIO's) in SPACES_*, and an AWS account's pair — which MinIO
	// refuses — in AWS_*, where the providers must still find it. A user
	// credentials file with another profile must survive for the
	// providers too.
	backend := stackcfg.DefaultPermanent().StateBackendURLFor("fb-state", m.Endpoint)
	own := filepath.Join(t.TempDir(), "credentials")
	if err := os.WriteFile(own, []byte("[lab]\naws_access_key_id = AKIDLABPROFILE\naws_secret_access_key = lab\n\n"+
		"[fb-spaces]\naws_access_key_id = stale\naws_secret_access_key = stale\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	const awsKey = "AKIDAWSACCOUNT0000001"
	h := newHarnessWith(t, nil, func(c *runner.Config) {
		c.BackendURL = backend
		c.Env["AWS_ACCESS_KEY_ID"] = awsKey
		c.Env["AWS_SECRET_ACCESS_KEY"] = "aws-account-secret-not-known-to-minio"
		c.Env["AWS_SHARED_CREDENTIALS_FILE"] = own
		c.Env[runner.EnvSpacesAccessKey] = m.AccessKey
		c.Env[runner.EnvSpacesSecretKey] = m.SecretKey
	})
	stack, runID := newStackName(t, "s3state")
	seen := filepath.Join(t.TempDir(), "provider-aws-key")
	spec := h.spec(stack, runID, []string{"fn1"}, func(_ string, a *fblocal.FunctionArgs) {
		a.RecordAWSKeyTo = pulumi.StringPtr(seen)
	})
	var stateObjects int
	spec.Run = func(ctx context.Context, _ auto.OutputMap) error {
		objs, err := store.List(ctx, ".pulumi/stacks/")
		stateObjects = len(objs)
		return err
	}
	res, err := h.r.RunStack(ctx, spec)
	if err != nil || !res.Destroyed {
		t.Fatalf("run with the s3 backend: %+v, %v", res, err)
	}
	if stateObjects == 0 {
		t.Fatal("no stack state in the bucket while the stack was up")
	}
	if got, err := os.ReadFile(seen); err != nil || string(got) != awsKey {
		t.Fatalf("the provider saw AWS_ACCESS_KEY_ID %q (%v), want the AWS account's %s", got, err, awsKey)
	}
	if own, _ := os.ReadFile(own); !strings.Contains(string(own), "stale") {
		t.Fatal("the user's credentials file was changed")
	}
	if left := h.leftovers(); len(left) > 0 {
		t.Fatalf("functions left: %v", left)
	}
	if names := h.stackNames(); len(names) != 0 {
		t.Fatalf("stacks left in the bucket backend: %v", names)
	}
}

// permanentStand is a stand-in of the permanent stack: its outputs name a
// results bucket (on MinIO) as the real one's do, and one resource is
// protected when protect is set, as the real bucket is by default.
func permanentStand(h *harness, m *miniotest.Server, bucket string, protect bool) runner.StackSpec {
	return runner.StackSpec{
		StackName: runner.PermanentStack,
		Program: func(ctx *pulumi.Context) error {
			f, err := fblocal.NewFunction(ctx, "bucket", &fblocal.FunctionArgs{
				Endpoint: pulumi.String(h.p.URL()), FunctionName: pulumi.String("perm-bucket"),
			}, pulumi.Protect(protect))
			if err != nil {
				return err
			}
			ctx.Export(stackcfg.OutBucketName, pulumi.String(bucket))
			ctx.Export(stackcfg.OutSpacesEndpoint, pulumi.String(m.Endpoint))
			ctx.Export("function", f.FunctionName)
			return nil
		},
	}
}

// TestDownPermanentChecksBeforeEmptying: `fbrun down permanent
// --empty-bucket` deletes nothing while the stack is protected or while
// experiment stacks exist (in the runner's backend or as state in the
// bucket), and names them; then it empties the bucket and destroys.
func TestDownPermanentChecksBeforeEmptying(t *testing.T) {
	m := miniotest.Start(t)
	ctx := testCtx(t)
	t.Setenv(runner.EnvSpacesAccessKey, m.AccessKey)
	t.Setenv(runner.EnvSpacesSecretKey, m.SecretKey)
	store, err := blobstore.New(ctx, blobstore.Config{Bucket: "fb-perm", Endpoint: m.Endpoint, UsePathStyle: true,
		AccessKeyID: m.AccessKey, SecretAccessKey: m.SecretKey})
	if err != nil {
		t.Fatal(err)
	}
	if err := store.EnsureBucket(ctx); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "run.sqlite")
	if err := os.WriteFile(file, []byte("results"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"runs/shipped.sqlite", ".pulumi/stacks/faas-benchmarker/cold-start-aws-20261126-054300-3fa9c1.json"} {
		if _, err := store.Upload(ctx, k, file); err != nil {
			t.Fatal(err)
		}
	}
	objects := func() int {
		t.Helper()
		objs, err := store.List(ctx, "")
		if err != nil {
			t.Fatal(err)
		}
		return len(objs)
	}
	h := newHarness(t, nil)
	h.baseline["perm-bucket"] = true
	if _, err := h.r.Up(ctx, permanentStand(h, m, "fb-perm", true)); err != nil {
		t.Fatal(err)
	}
	err = h.r.DownPermanent(ctx, true)
	if err == nil || !strings.Contains(err.Error(), "protected") || !strings.Contains(err.Error(), "fblocal:index:Function::bucket") {
		t.Fatalf("down of a protected stack: %v", err)
	}
	if n := objects(); n != 2 {
		t.Fatalf("%d objects left after a refused down, want 2 (the bucket was emptied before the check)", n)
	}
	if _, err := h.r.Up(ctx, permanentStand(h, m, "fb-perm", false)); err != nil {
		t.Fatal(err)
	}
	kept, keptID := newStackName(t, "kept")
	spec := h.spec(kept, keptID, []string{"fn1"}, nil)
	spec.Run = func(context.Context, auto.OutputMap) error { return nil }
	spec.Keep = true
	if _, err := h.r.RunStack(ctx, spec); err != nil {
		t.Fatal(err)
	}
	err = h.r.DownPermanent(ctx, true)
	if err == nil || !strings.Contains(err.Error(), kept) || !strings.Contains(err.Error(), "cold-start-aws-20261126-054300-3fa9c1 (state in bucket fb-perm)") {
		t.Fatalf("down while experiment stacks exist: %v", err)
	}
	if n := objects(); n != 2 {
		t.Fatalf("%d objects left after a refused down, want 2", n)
	}
	if _, err := h.r.Cleanup(ctx, runner.CleanupOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := store.DeleteAll(ctx, ".pulumi/"); err != nil {
		t.Fatal(err)
	}
	if err := h.r.DownPermanent(ctx, true); err != nil {
		t.Fatal(err)
	}
	if n := objects(); n != 0 {
		t.Fatalf("%d objects left after down --empty-bucket", n)
	}
	delete(h.baseline, "perm-bucket")
	h.assertGone(runner.PermanentStack)
	h.assertGone(kept)
}

// TestUpPermanentHandlesSignals: `fbrun up permanent` (Runner.Up with
// HandleSignals) takes SIGINT as an experiment stack's up does: the CLI is
// interrupted, finishes the create in flight and records it in the state,
// a second SIGINT is acknowledged without stopping that; the long-lived
// stack is not destroyed, and Down removes what was created.
func TestUpPermanentHandlesSignals(t *testing.T) {
	h := newHarnessWith(t, nil, func(c *runner.Config) { c.HandleSignals = true })
	// Keep the default action (exit) away from this test binary even if
	// Up does not take the signal over (then the held create times out).
	guard := make(chan os.Signal, 4)
	signal.Notify(guard, os.Interrupt)
	defer signal.Stop(guard)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	hold := filepath.Join(t.TempDir(), "created")
	spec := runner.StackSpec{
		StackName: "perm-signals",
		Program: labStack([]string{"fn1"}, func(_ string, a *fblocal.FunctionArgs) {
			a.HoldAfterCreate = pulumi.StringPtr(hold)
		}),
		Config: map[string]string{"endpoint": h.p.URL(), "prefix": "permsig"},
	}
	go func() {
		for i := 0; i < 2400; i++ {
			if _, err := os.Stat(hold); err == nil {
				_ = syscall.Kill(os.Getpid(), syscall.SIGINT)
				_ = syscall.Kill(os.Getpid(), syscall.SIGINT)
				return
			}
			if ctx.Err() != nil {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
	}()
	if _, err := h.r.Up(ctx, spec); err == nil {
		t.Fatal("an interrupted up succeeded")
	}
	if ctx.Err() != nil {
		t.Fatal("Up did not take SIGINT over: the held create ran until the test's deadline")
	}
	stderr := h.stderr.String()
	for _, want := range []string{"interrupting the up of stack perm-signals", "was NOT destroyed"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	if left := h.leftovers(); len(left) != 1 {
		t.Fatalf("functions after the interrupted up: %v, want the one created", left)
	}
	if err := h.r.Down(testCtx(t), runner.StackSpec{StackName: "perm-signals"}); err != nil {
		t.Fatal(err)
	}
	h.assertGone("perm-signals")
}
