package runner

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/faas-benchmarker/faas-benchmarker/functions/lab"
	"github.com/faas-benchmarker/faas-benchmarker/providers"
	"github.com/faas-benchmarker/faas-benchmarker/stacks/stackcfg"
)

// Defaults for Readiness.
const (
	// DefaultReadyTimeout bounds the wait for every function to answer.
	// It covers IAM propagation (Lambda), a new load balancer's DNS and
	// target health (OpenFaaS on EKS) and the host's warm-up (Azure).
	DefaultReadyTimeout = 10 * time.Minute
	// DefaultReadyInterval is the pause between two probe rounds.
	DefaultReadyInterval = 5 * time.Second
)

// Readiness configures WaitReady.
type Readiness struct {
	// Timeout bounds the whole wait; 0 means DefaultReadyTimeout.
	Timeout time.Duration
	// Interval is the pause between rounds; 0 means DefaultReadyInterval.
	Interval time.Duration
	// Out receives one progress line per round; nil discards it.
	Out io.Writer
}

// WaitReady probes every function (lab names) until each has answered
// correctly once: HTTP 200 with a lab response of that function and no
// error. A function probes one sibling with a nested call when there is
// one (not the monolith, which makes none), so that the permission or key
// nested calls need is checked too — right after a deploy IAM policies
// may not have propagated yet (AccessDenied), a load balancer may not
// resolve or have healthy targets, an Azure host may not serve keys yet
// (401). Rounds repeat every Interval until all are ready or Timeout: the
// error then names each function that never answered and its last
// failure.
func WaitReady(ctx context.Context, inv providers.Invoker, functions []string, rc Readiness) error {
	if rc.Timeout <= 0 {
		rc.Timeout = DefaultReadyTimeout
	}
	if rc.Interval <= 0 {
		rc.Interval = DefaultReadyInterval
	}
	if rc.Out == nil {
		rc.Out = io.Discard
	}
	pending := map[string]string{} // function → last failure
	for _, f := range functions {
		pending[f] = "not probed yet"
	}
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, rc.Timeout)
	defer cancel()
	for round := 1; ; round++ {
		for _, f := range slices.Sorted(maps.Keys(pending)) {
			if err := probe(ctx, inv, f, sibling(f, functions)); err != nil {
				pending[f] = err.Error()
				continue
			}
			delete(pending, f)
		}
		ready := len(functions) - len(pending)
		fmt.Fprintf(rc.Out, "==> readiness: %d/%d functions answer (%s)\n", ready, len(functions),
			time.Since(start).Round(time.Second))
		if len(pending) == 0 {
			return nil
		}
		t := time.NewTimer(rc.Interval)
		select {
		case <-ctx.Done():
			t.Stop()
			var b strings.Builder
			for _, f := range slices.Sorted(maps.Keys(pending)) {
				fmt.Fprintf(&b, "; %s: %s", f, pending[f])
			}
			if ctx.Err() == context.DeadlineExceeded {
				return fmt.Errorf("runner: the deployment never became ready: %d of %d functions did not answer correctly within %v%s",
					len(pending), len(functions), rc.Timeout, b.String())
			}
			return fmt.Errorf("runner: waiting for the deployment to become ready: %w%s", ctx.Err(), b.String())
		case <-t.C:
		}
	}
}

// sibling is the function f probes with a nested call: the next deployed
// lab function that is not the monolith, or "" (none, or f is the
// monolith).
func sibling(f string, functions []string) string {
	if f == stackcfg.Monolith {
		return ""
	}
	var cands []string
	for _, g := range functions {
		// Only a lab function: a lane copy is in no allowlist.
		if g != f && g != stackcfg.Monolith && slices.Contains(stackcfg.LabFunctions(), g) {
			cands = append(cands, g)
		}
	}
	if len(cands) == 0 {
		return ""
	}
	sort.Strings(cands)
	return cands[0]
}

// probe invokes f once (with a nested call of callee when set) and checks
// the answer.
func probe(ctx context.Context, inv providers.Invoker, f, callee string) error {
	req := lab.Request{}
	if callee != "" {
		req.InvokeNested = []lab.NestedCall{{FunctionName: callee}}
	}
	payload, err := json.Marshal(req)
	if err != nil {
		return err
	}
	reply, err := inv.Invoke(ctx, f, payload)
	if err != nil {
		return err
	}
	if reply.FunctionError != "" {
		return fmt.Errorf("function error %s", reply.FunctionError)
	}
	if reply.StatusCode != 200 {
		return fmt.Errorf("HTTP %d", reply.StatusCode)
	}
	var resp lab.Response
	if err := json.Unmarshal(reply.Body, &resp); err != nil {
		return fmt.Errorf("not a lab response: %w", err)
	}
	if resp.Function != stackcfg.ServedAs(f) {
		return fmt.Errorf("answered as %q", resp.Function)
	}
	if resp.Error != nil {
		return fmt.Errorf("lab error %s: %s", resp.Error.Kind, resp.Error.Message)
	}
	if callee != "" {
		if len(resp.Nested) != 1 {
			return fmt.Errorf("nested call of %s: %d results", callee, len(resp.Nested))
		}
		if e := resp.Nested[0].Error; e != nil {
			return fmt.Errorf("nested call of %s: %s: %s", callee, e.Kind, e.Message)
		}
	}
	return nil
}
