package runner

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/common/tokens"
	"github.com/pulumi/pulumi/sdk/v3/go/common/workspace"

	"github.com/faas-benchmarker/faas-benchmarker/stacks/stackcfg"
)

// CleanupOptions selects the stacks Cleanup destroys.
type CleanupOptions struct {
	// Project is the Pulumi project; empty means DefaultProject.
	Project string
	// Stacks names stacks to destroy. Empty means every experiment stack
	// (a name made by StackName) of the project; the permanent stack and
	// other stacks are never selected implicitly.
	Stacks []string
	// OlderThan skips experiment stacks whose run started less than this
	// long ago (a run that is still going has a stack too). 0 selects all.
	OlderThan time.Duration
	// DryRun lists what would be destroyed without destroying it.
	DryRun bool
	// Now is the current time; nil means time.Now.
	Now func() time.Time
}

// CleanupItem is what Cleanup did with one stack.
type CleanupItem struct {
	// Stack is the stack name.
	Stack string
	// Resources is the resource count the backend listed (-1 if unknown).
	Resources int
	// Action is "destroyed", "would destroy", "skipped" or "failed".
	Action string
	// Reason explains a skip or a failure.
	Reason string
}

// ListStacks returns the names of the project's stacks in the backend.
func (r *Runner) ListStacks(ctx context.Context, project string) ([]auto.StackSummary, error) {
	if project == "" {
		project = DefaultProject
	}
	ws, err := r.projectWorkspace(ctx, project)
	if err != nil {
		return nil, err
	}
	stacks, err := ws.ListStacks(ctx)
	if err != nil {
		return nil, fmt.Errorf("runner: list stacks of %s in %s: %w", project, r.cfg.BackendURL, err)
	}
	return stacks, nil
}

func (r *Runner) projectWorkspace(ctx context.Context, project string) (auto.Workspace, error) {
	opts := append(r.workspaceOpts(),
		auto.Project(workspace.Project{
			Name:    tokens.PackageName(project),
			Runtime: workspace.NewProjectRuntimeInfo("go", nil),
		}),
		auto.Program(noProgram))
	ws, err := auto.NewLocalWorkspace(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("runner: workspace for %s: %w", project, err)
	}
	return ws, nil
}

// Cleanup destroys leftover experiment stacks (see CleanupOptions), one at
// a time, printing progress to Stdout. Stacks with an update in progress are
// skipped. It returns what it did with each stack; the error joins every
// failed teardown (each a *TeardownError).
func (r *Runner) Cleanup(ctx context.Context, o CleanupOptions) ([]CleanupItem, error) {
	project := o.Project
	if project == "" {
		project = DefaultProject
	}
	now := time.Now
	if o.Now != nil {
		now = o.Now
	}
	listed, err := r.ListStacks(ctx, project)
	if err != nil {
		return nil, err
	}
	byName := map[string]auto.StackSummary{}
	for _, s := range listed {
		byName[shortStackName(s.Name)] = s
	}
	var selected []string
	if len(o.Stacks) > 0 {
		for _, n := range o.Stacks {
			if _, ok := byName[n]; !ok {
				return nil, fmt.Errorf("runner: cleanup: no stack %s in project %s at %s", n, project, r.cfg.BackendURL)
			}
			selected = append(selected, n)
		}
	} else {
		for n := range byName {
			info, ok := ParseStackName(n)
			if !ok {
				continue
			}
			if o.OlderThan > 0 && now().Sub(info.Started) < o.OlderThan {
				continue
			}
			selected = append(selected, n)
		}
	}
	sort.Strings(selected)

	if r.cfg.HandleSignals {
		var sw *signalWatch
		var stop func()
		ctx, sw, stop = r.watchSignals(ctx, "being cleaned up", r.stderr)
		sw.tearingDown()
		defer stop()
	}
	var items []CleanupItem
	var errs []error
	for _, n := range selected {
		if ctx.Err() != nil {
			errs = append(errs, fmt.Errorf("runner: cleanup interrupted before stack %s: %w", n, context.Cause(ctx)))
			break
		}
		s := byName[n]
		it := CleanupItem{Stack: n, Resources: -1}
		if s.ResourceCount != nil {
			it.Resources = *s.ResourceCount
		}
		switch {
		case s.UpdateInProgress:
			it.Action, it.Reason = "skipped", "an update is in progress (a running experiment?)"
		case o.DryRun:
			it.Action = "would destroy"
		default:
			if err := r.cleanupOne(ctx, project, n); err != nil {
				it.Action, it.Reason = "failed", err.Error()
				errs = append(errs, err)
			} else {
				it.Action = "destroyed"
			}
		}
		fmt.Fprintf(r.stdout, "cleanup: %s (%d resources): %s %s\n", it.Stack, it.Resources, it.Action, it.Reason)
		items = append(items, it)
	}
	return items, errors.Join(errs...)
}

func (r *Runner) cleanupOne(ctx context.Context, project, name string) error {
	logf, err := r.openLog(name)
	if err != nil {
		return err
	}
	defer logf.Close()
	out := bestEffort{r.stdout, logf}
	errOut := bestEffort{r.stderr, logf}
	st, err := r.selectStack(ctx, project, name)
	if err != nil {
		return err
	}
	return r.teardown(ctx, st, project, out, errOut)
}

// shortStackName strips an org/project/ qualifier.
func shortStackName(n string) string {
	for i := len(n) - 1; i >= 0; i-- {
		if n[i] == '/' {
			return n[i+1:]
		}
	}
	return n
}

// explainStuckGatewayService adds what to do to a destroy error that
// names the openfaas stack's gateway Service: its delete waits (bounded,
// see stacks/openfaas) until the AWS Load Balancer Controller clears the
// Service's finalizer service.k8s.aws/resources, which it does only after
// deleting the NLB. The stack deletes the Service before the controller
// and what the controller needs, so those are still in place for a retry.
func explainStuckGatewayService(err error) error {
	if err == nil || !strings.Contains(err.Error(), "kubernetes:core/v1:Service") ||
		!strings.Contains(err.Error(), stackcfg.GatewayServiceName) {
		return err
	}
	return fmt.Errorf("%w; the OpenFaaS gateway's Service %s was not deleted: the AWS Load Balancer Controller did not "+
		"clear its finalizer service.k8s.aws/resources (it removes it after deleting the NLB). The controller, the NAT "+
		"gateway and the cluster are still there: check `kubectl -n kube-system logs deploy/aws-load-balancer-controller`, "+
		"then retry the teardown; see docs/infrastructure.md, Finding leftovers", err, stackcfg.GatewayServiceName)
}
