package runner

import (
	"context"
	"fmt"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optpreview"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optup"
)

// PermanentStack is the name of the long-lived stack (results bucket,
// shared infrastructure) managed by `fbrun up|down permanent`.
const PermanentStack = "permanent"

// Up creates or updates a long-lived stack (e.g. the permanent stack) and
// returns its outputs. Nothing is torn down: use Down for that.
//
// With Config.HandleSignals, signals are handled as during an experiment
// stack's up: the first one interrupts the Pulumi CLI, which finishes the
// operations it has in flight (up to Config.InterruptLimit, with progress
// on screen) and records them in the state; later signals are acknowledged
// and do not stop it. Unlike an experiment stack, an interrupted long-lived
// stack is not destroyed — its bucket is protected and may hold results —
// so what was created stays in the state, and `fbrun up permanent` (to
// finish) or `fbrun down permanent` (to remove it) is printed.
func (r *Runner) Up(ctx context.Context, s StackSpec) (auto.OutputMap, error) {
	if err := s.validate(); err != nil {
		return nil, err
	}
	logf, err := r.openLog(s.StackName)
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	out, errOut := bestEffort{r.stdout, logf}, bestEffort{r.stderr, logf}
	if r.cfg.HandleSignals {
		var sw *signalWatch
		var stop func()
		ctx, sw, stop = r.watchSignals(ctx, s.StackName, errOut)
		sw.setPhase("up")
		defer stop()
	}
	st, err := r.upsert(ctx, s)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(out, "==> up %s (log: %s)\n", s.StackName, r.LogPath(s.StackName))
	res, err := st.Up(ctx, optup.ProgressStreams(out), optup.ErrorProgressStreams(errOut))
	if err != nil {
		if ctx.Err() != nil {
			fmt.Fprintf(errOut, "==> up %s was interrupted: what the Pulumi CLI finished creating is in the state and "+
				"was NOT destroyed; run `fbrun up permanent` again to finish it, or `fbrun down permanent` to remove it\n",
				s.StackName)
		}
		return nil, r.explain(fmt.Errorf("runner: up %s: %w", s.StackName, err), s.StackName)
	}
	return res.Outputs, nil
}

// Down destroys a long-lived stack and removes it from the backend. A
// failure is printed loudly and returned as a *TeardownError.
func (r *Runner) Down(ctx context.Context, s StackSpec) error {
	if err := s.validate(); err != nil {
		return err
	}
	logf, err := r.openLog(s.StackName)
	if err != nil {
		return err
	}
	defer logf.Close()
	out, errOut := bestEffort{r.stdout, logf}, bestEffort{r.stderr, logf}
	if r.cfg.HandleSignals {
		var sw *signalWatch
		var stop func()
		ctx, sw, stop = r.watchSignals(ctx, s.StackName, errOut)
		sw.tearingDown()
		defer stop()
	}
	st, err := r.selectStack(ctx, s.project(), s.StackName)
	if err != nil {
		return err
	}
	return r.teardown(ctx, st, s.project(), out, errOut)
}

// Outputs returns the outputs of an existing stack, e.g. the permanent
// stack's bucket for results shipping.
func (r *Runner) Outputs(ctx context.Context, project, stack string) (auto.OutputMap, error) {
	if project == "" {
		project = DefaultProject
	}
	st, err := r.selectStack(ctx, project, stack)
	if err != nil {
		return nil, err
	}
	out, err := st.Outputs(ctx)
	if err != nil {
		return nil, fmt.Errorf("runner: outputs of %s: %w", stack, err)
	}
	return out, nil
}

// Preview previews a stack's program (no resources are changed) and
// returns the planned operation counts. The stack is created if needed;
// remove it with RemoveStack when it was only for the preview.
func (r *Runner) Preview(ctx context.Context, s StackSpec) (auto.PreviewResult, error) {
	if err := s.validate(); err != nil {
		return auto.PreviewResult{}, err
	}
	logf, err := r.openLog(s.StackName)
	if err != nil {
		return auto.PreviewResult{}, err
	}
	defer logf.Close()
	out, errOut := bestEffort{r.stdout, logf}, bestEffort{r.stderr, logf}
	st, err := r.upsert(ctx, s)
	if err != nil {
		return auto.PreviewResult{}, err
	}
	res, err := st.Preview(ctx, optpreview.ProgressStreams(out), optpreview.ErrorProgressStreams(errOut))
	if err != nil {
		return res, r.explain(fmt.Errorf("runner: preview %s: %w", s.StackName, err), s.StackName)
	}
	return res, nil
}

// RemoveStack removes a stack that has no resources (e.g. one created
// only for a preview). It refuses to remove a stack that still has
// resources.
func (r *Runner) RemoveStack(ctx context.Context, project, stack string) error {
	if project == "" {
		project = DefaultProject
	}
	st, err := r.selectStack(ctx, project, stack)
	if err != nil {
		return err
	}
	if n, err := resourcesLeft(ctx, st); err != nil {
		return fmt.Errorf("runner: %w", err)
	} else if n > 0 {
		return fmt.Errorf("runner: stack %s still has %d resources: destroy it first", stack, n)
	}
	if err := st.Workspace().RemoveStack(ctx, stack); err != nil {
		return fmt.Errorf("runner: remove stack %s: %w", stack, err)
	}
	return nil
}
