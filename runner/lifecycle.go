package runner

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strings"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optdestroy"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optup"

	"github.com/faas-benchmarker/faas-benchmarker/internal/runowner"
	"github.com/faas-benchmarker/faas-benchmarker/results"
)

// DefaultRunGrace is how long RunStack waits, after its context is
// cancelled, for Run to return before it tears the stack down anyway.
const DefaultRunGrace = 30 * time.Second

// Spec describes one run of a throwaway stack: its program and config, and
// the work to do while it is up (RunExperiment builds one per experiment).
type Spec struct {
	StackSpec
	// Run runs the experiment against the stack's outputs. Its context is
	// cancelled on Ctrl-C/SIGTERM (when the caller's is); it must return
	// soon after. Whatever Run returns — or if it panics — the stack is
	// torn down.
	Run func(ctx context.Context, outputs auto.OutputMap) error
	// Keep skips the teardown, for debugging. The stack keeps costing money
	// until `fbrun cleanup` or `fbrun cleanup --stack <name>` removes it.
	Keep bool
	// ResultsPath is the run's standalone results file (SQLite) that Run
	// writes. When set and the file exists after Run, it is shipped with
	// the runner's Shipper. The local file is never deleted.
	ResultsPath string
	// ResultsKey is the object key to ship to; empty means
	// "runs/<StackName>.sqlite".
	ResultsKey string
	// RunGrace overrides DefaultRunGrace.
	RunGrace time.Duration
}

// Result tells what happened to an experiment run's stack and results.
type Result struct {
	// StackName is the run's stack.
	StackName string
	// Outputs are the stack outputs Run received (nil when up failed).
	Outputs auto.OutputMap
	// LogPath is the run's log file (progress of up and destroy).
	LogPath string
	// Kept is true when the stack was kept on purpose (Spec.Keep).
	Kept bool
	// Destroyed is true when the teardown succeeded and the state shows no
	// resources left.
	Destroyed bool
	// ShippedTo is where the results file went; empty when not shipped.
	ShippedTo string
}

// PanicError is returned when Run panicked; the stack was torn down anyway.
type PanicError struct {
	// Value is the value passed to panic.
	Value any
	// Stack is the goroutine's stack trace at the panic.
	Stack []byte
}

// Error implements error.
func (e *PanicError) Error() string {
	return fmt.Sprintf("runner: experiment panicked: %v\n%s", e.Value, e.Stack)
}

// TeardownError is returned when a stack could not be destroyed: cloud
// resources may still exist and cost money. Its message names the stack and
// the exact command to retry.
type TeardownError struct {
	// Stack is the stack name.
	Stack string
	// Project is the stack's Pulumi project.
	Project string
	// Retry is the command that retries the teardown.
	Retry string
	// RetryPulumi is the same with the Pulumi CLI alone.
	RetryPulumi string
	// Err is the cause.
	Err error
}

// Error implements error.
func (e *TeardownError) Error() string {
	return fmt.Sprintf("runner: TEARDOWN FAILED for stack %s — its cloud resources may still exist and cost money; "+
		"retry with: %s (or: %s): %v", e.Stack, e.Retry, e.RetryPulumi, e.Err)
}

// Unwrap returns the cause.
func (e *TeardownError) Unwrap() error { return e.Err }

// RetryCommands returns the commands that retry the teardown of a stack:
// the fbrun one and the plain Pulumi CLI one.
func (r *Runner) RetryCommands(project, stack string) (fbrun, pulumiCLI string) {
	if project == "" {
		project = DefaultProject
	}
	fbrun = "fbrun cleanup --stack " + stack
	if r.cfg.BackendURL != "" {
		fbrun += " --state '" + r.cfg.BackendURL + "'"
	}
	pulumiCLI = fmt.Sprintf("PULUMI_BACKEND_URL='%s' pulumi destroy --yes --remove --stack organization/%s/%s",
		r.cfg.BackendURL, project, stack)
	return fbrun, pulumiCLI
}

// RunStack stands the stack up, calls spec.Run with its outputs, tears
// the stack down and ships the results file. The teardown is guaranteed: it
// runs after success, after Run's error or panic, and after ctx is
// cancelled (on a fresh context bounded by Config.DestroyTimeout). A failed
// teardown is printed loudly to Stderr and returned as a *TeardownError.
// The returned error joins every failure (up, Run, teardown, shipping); the
// Result is never nil.
func (r *Runner) RunStack(ctx context.Context, spec Spec) (res *Result, err error) {
	res = &Result{StackName: spec.StackName, LogPath: r.LogPath(spec.StackName)}
	if err := spec.validate(); err != nil {
		return res, err
	}
	if spec.Run == nil {
		return res, errors.New("runner: Spec.Run is nil")
	}
	logf, err := r.openLog(spec.StackName)
	if err != nil {
		return res, err
	}
	defer logf.Close()
	out := bestEffort{r.stdout, logf}
	errOut := bestEffort{r.stderr, logf}
	var sw *signalWatch
	if r.cfg.HandleSignals {
		var stop func()
		ctx, sw, stop = r.watchSignals(ctx, spec.StackName, errOut)
		defer stop()
	}
	r.log.Info("experiment run starting", "stack", spec.StackName, "backend", r.cfg.BackendURL, "log", res.LogPath)

	st, err := r.upsert(ctx, spec.StackSpec)
	if err != nil {
		if st.Name() == "" {
			return res, err
		}
		// The stack exists (e.g. config failed): remove it again below.
	}
	tornDown := false
	defer func() {
		if tornDown || st.Name() == "" {
			return
		}
		// Reached on early return and on a panic outside Run.
		sw.tearingDown()
		err = errors.Join(err, r.finish(ctx, st, spec, res, out, errOut))
	}()
	if err != nil {
		return res, err
	}

	fmt.Fprintf(out, "==> up %s (log: %s)\n", spec.StackName, res.LogPath)
	sw.setPhase("up")
	up, err := st.Up(ctx, optup.ProgressStreams(out), optup.ErrorProgressStreams(errOut))
	sw.setPhase("run")
	if err != nil {
		return res, r.explain(fmt.Errorf("runner: up %s: %w", spec.StackName, err), spec.StackName)
	}
	res.Outputs = up.Outputs

	fmt.Fprintf(out, "==> run %s\n", spec.StackName)
	runErr := r.run(ctx, spec, up.Outputs)
	if runErr != nil {
		fmt.Fprintf(errOut, "==> experiment failed: %v\n", runErr)
	}
	tornDown = true
	sw.tearingDown()
	tdErr := r.finish(ctx, st, spec, res, out, errOut)
	shipErr := r.ship(ctx, spec, res, out, errOut)
	return res, errors.Join(runErr, tdErr, shipErr)
}

// run calls spec.Run, turning a panic into a *PanicError. When ctx is
// cancelled it waits at most the grace period for Run to return.
func (r *Runner) run(ctx context.Context, spec Spec, outputs auto.OutputMap) error {
	done := make(chan error, 1)
	go func() {
		defer func() {
			if v := recover(); v != nil {
				done <- &PanicError{Value: v, Stack: debug.Stack()}
			}
		}()
		done <- spec.Run(ctx, outputs)
	}()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	grace := spec.RunGrace
	if grace <= 0 {
		grace = DefaultRunGrace
	}
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case err := <-done:
		if err == nil {
			err = ctx.Err()
		}
		return err
	case <-t.C:
		return fmt.Errorf("runner: experiment did not stop within %v of cancellation (%w); tearing down anyway",
			grace, context.Cause(ctx))
	}
}

// finish tears the stack down unless spec.Keep.
func (r *Runner) finish(ctx context.Context, st auto.Stack, spec Spec, res *Result, out, errOut io.Writer) error {
	if spec.Keep {
		res.Kept = true
		fb, _ := r.RetryCommands(spec.project(), spec.StackName)
		fmt.Fprintf(errOut, "WARNING: --keep: stack %s was NOT destroyed; its cloud resources keep costing money "+
			"until you run: %s\n", spec.StackName, fb)
		return nil
	}
	err := r.teardown(ctx, st, spec.project(), out, errOut)
	res.Destroyed = err == nil
	return err
}

// teardown destroys the stack on a fresh context (ctx may be cancelled),
// checks that the state holds no resources and removes the stack.
func (r *Runner) teardown(ctx context.Context, st auto.Stack, project string, out, errOut io.Writer) error {
	name := st.Name()
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), r.cfg.DestroyTimeout)
	defer cancel()
	fmt.Fprintf(out, "==> destroy %s\n", name)
	err := r.destroy(dctx, st, out, errOut)
	if err != nil {
		fb, pc := r.RetryCommands(project, name)
		te := &TeardownError{Stack: name, Project: project, Retry: fb, RetryPulumi: pc, Err: err}
		r.loud(errOut, te)
		return te
	}
	fmt.Fprintf(out, "==> destroyed %s: no resources left\n", name)
	return nil
}

// destroy destroys, verifies and removes a stack.
func (r *Runner) destroy(ctx context.Context, st auto.Stack, out, errOut io.Writer) error {
	name := st.Name()
	r.warnPending(ctx, st, errOut)
	_, err := st.Destroy(ctx, optdestroy.ProgressStreams(out), optdestroy.ErrorProgressStreams(errOut))
	if err != nil && auto.IsConcurrentUpdateError(err) && staleLocks(err.Error(), hostname(), runowner.Exists) {
		// A CLI of this machine was killed mid-operation and left its
		// lock: remove it (`pulumi cancel`) and destroy again.
		fmt.Fprintf(errOut, "==> stack %s is locked by a Pulumi process of this machine that no longer runs: "+
			"removing the stale lock and retrying the destroy\n", name)
		if cerr := st.Cancel(ctx); cerr != nil {
			return fmt.Errorf("destroy %s: remove stale lock: %w (destroy error: %w)", name, cerr, err)
		}
		_, err = st.Destroy(ctx, optdestroy.ProgressStreams(out), optdestroy.ErrorProgressStreams(errOut))
	}
	if err != nil {
		return explainStuckGatewayService(r.explain(fmt.Errorf("destroy %s: %w", name, err), name))
	}
	n, err := resourcesLeft(ctx, st)
	if err != nil {
		return err
	}
	if n > 0 {
		return fmt.Errorf("destroy %s finished but the state still lists %d resources", name, n)
	}
	if err := st.Workspace().RemoveStack(ctx, name); err != nil {
		return fmt.Errorf("remove stack %s (its resources are gone): %w", name, err)
	}
	r.log.Info("stack destroyed and removed", "stack", name)
	return nil
}

// resourcesLeft counts the resources the stack's state still lists.
func resourcesLeft(ctx context.Context, st auto.Stack) (int, error) {
	dep, err := st.Export(ctx)
	if err != nil {
		return 0, fmt.Errorf("export state of %s: %w", st.Name(), err)
	}
	return countResources(dep.Deployment)
}

// warnPending prints a loud warning for every operation that an
// interrupted CLI left pending in the state: a resource whose creation
// was under way may exist in the cloud without being in the state, so no
// destroy can see it.
func (r *Runner) warnPending(ctx context.Context, st auto.Stack, w io.Writer) {
	dep, err := st.Export(ctx)
	if err != nil {
		return
	}
	pending := pendingOperations(dep.Deployment)
	if len(pending) == 0 {
		return
	}
	bar := strings.Repeat("!", 78)
	fmt.Fprintf(w, "\n%s\n!! WARNING: stack %s has %d operation(s) left pending by an interrupted Pulumi CLI.\n"+
		"!! These resources may exist in the cloud WITHOUT being in the state, so destroy cannot remove them:\n",
		bar, st.Name(), len(pending))
	for _, p := range pending {
		fmt.Fprintf(w, "!!   %s\n", p)
	}
	fmt.Fprintf(w, "!! Check the provider's console (see docs/infrastructure.md, Finding leftovers).\n%s\n\n", bar)
	r.log.Warn("pending operations in state", "stack", st.Name(), "operations", pending)
}

// pendingOperations lists "<operation> <type> <urn>" for each pending
// operation of a deployment.
func pendingOperations(deployment json.RawMessage) []string {
	var d struct {
		Pending []struct {
			Type     string `json:"type"`
			Resource struct {
				URN  string `json:"urn"`
				Type string `json:"type"`
			} `json:"resource"`
		} `json:"pending_operations"`
	}
	if len(deployment) == 0 || json.Unmarshal(deployment, &d) != nil {
		return nil
	}
	var out []string
	for _, p := range d.Pending {
		out = append(out, p.Type+" "+p.Resource.Type+" "+p.Resource.URN)
	}
	return out
}

// countResources counts the resources of a deployment (apitype
// DeploymentV3 JSON), ignoring none.
func countResources(deployment json.RawMessage) (int, error) {
	if len(deployment) == 0 {
		return 0, nil
	}
	var d struct {
		Resources []json.RawMessage `json:"resources"`
	}
	if err := json.Unmarshal(deployment, &d); err != nil {
		return 0, fmt.Errorf("decode state: %w", err)
	}
	return len(d.Resources), nil
}

// loud prints a teardown failure so that nobody can miss it.
func (r *Runner) loud(w io.Writer, te *TeardownError) {
	bar := strings.Repeat("!", 78)
	fmt.Fprintf(w, "\n%s\n!! TEARDOWN FAILED: stack %s may still have cloud resources that COST MONEY.\n"+
		"!! cause: %v\n!! retry: %s\n!!    or: %s\n!! (with the same %s set)\n%s\n\n",
		bar, te.Stack, te.Err, te.Retry, te.RetryPulumi, EnvPassphrase, bar)
	r.log.Error("teardown failed", "stack", te.Stack, "err", te.Err, "retry", te.Retry)
}

// ship uploads the results file. A failure never touches the local file.
func (r *Runner) ship(ctx context.Context, spec Spec, res *Result, out, errOut io.Writer) error {
	if spec.ResultsPath == "" || r.cfg.Shipper == nil {
		return nil
	}
	if _, err := os.Stat(spec.ResultsPath); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			fmt.Fprintf(errOut, "==> no results file at %s: nothing to ship\n", spec.ResultsPath)
			return nil
		}
		return fmt.Errorf("runner: results file: %w", err)
	}
	if ctx.Err() != nil {
		fmt.Fprintf(errOut, "==> interrupted: results kept locally at %s, not shipped\n", spec.ResultsPath)
		return nil
	}
	key := spec.ResultsKey
	if key == "" {
		key = results.RunFilePrefix + spec.StackName + ".sqlite"
	}
	loc, err := r.cfg.Shipper.Ship(ctx, key, spec.ResultsPath)
	if err != nil {
		fmt.Fprintf(errOut, "==> shipping results FAILED (kept locally at %s): %v\n", spec.ResultsPath, err)
		return fmt.Errorf("runner: ship results %s (local file kept): %w", spec.ResultsPath, err)
	}
	res.ShippedTo = loc
	fmt.Fprintf(out, "==> results shipped to %s\n", loc)
	return nil
}
