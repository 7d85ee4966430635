package experiments

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/faas-benchmarker/faas-benchmarker/engine"
	"github.com/faas-benchmarker/faas-benchmarker/functions/lab"
	"github.com/faas-benchmarker/faas-benchmarker/providers"
	"github.com/faas-benchmarker/faas-benchmarker/stats"
)

// Smoke is a self-test of the whole chain — CLI, engine, provider, platform,
// lab functions and results store (the predecessor's dev-experiment).
//
// Question: does the framework work end to end on this platform?
//
// Method: sequential calls, a concurrent burst behind a barrier, a nested
// chain function1 → function2 → function3, monolith workloads checked
// against known answers, and the error paths (an invalid request, an
// unknown function, a nested call outside the allowlist), each of which
// must fail in the documented way. Any deviation fails the run with a list
// of what went wrong.
//
// Estimates: invocations, failures_expected (error-path checks that failed
// as they should), checks_failed (0 on success), warm_p50_ms.
type Smoke struct{}

// Name implements Experiment.
func (Smoke) Name() string { return "smoke" }

// Summary implements Experiment.
func (Smoke) Summary() string {
	return "self-test: sequential, concurrent, nested, monolith and error-path calls work end to end"
}

// Params implements Experiment.
func (Smoke) Params() []Param {
	return []Param{
		IntParam("sequential", "5", "sequential calls to function1").AtLeast(1),
		IntParam("concurrent", "8", "concurrent calls to function2 behind a barrier").AtLeast(1),
	}
}

// Run implements Experiment.
func (Smoke) Run(ctx context.Context, b *engine.Benchmarker, p Params) (Estimates, error) {
	seqN, conN := p.Int("sequential"), p.Int("concurrent")
	b.Expect(int64(seqN + conN + 7))
	var problems []string
	fail := func(format string, a ...any) { problems = append(problems, fmt.Sprintf(format, a...)) }
	est := newEstimates()
	count := 0

	// Sequential: the first call may be cold, later ones must reuse an instance.
	// A first call that fails on the platform level (unreachable, auth,
	// not deployed) fails the run at once with that reason.
	sb := b.WithPhase("sequential")
	first := sb.Invoke(ctx, "function1", lab.Request{})
	if first.Err != nil && providers.KindOf(first.Err) != "" {
		return Estimates{"invocations": 1}, fmt.Errorf("smoke: the platform cannot run function1: %w", first.Err)
	}
	seq := append([]*engine.Result{first}, sb.InvokeSequentially(ctx, "function1", seqN-1, lab.Request{})...)
	count += len(seq)
	var warm []float64
	for i, r := range seq {
		if !r.OK() {
			fail("sequential call %d failed: %v", i+1, r.Err)
			continue
		}
		if cold, _ := r.Cold(); i > 0 && !cold {
			warm = append(warm, float64(r.Latency().Microseconds())/1000)
		}
	}
	if len(seq) > 1 && seq[0].OK() && seq[1].OK() && seq[0].InstanceID() != seq[1].InstanceID() {
		fail("sequential calls were served by different instances (%s, %s)", seq[0].InstanceID(), seq[1].InstanceID())
	}
	if len(warm) > 0 {
		est.set("warm_p50_ms", stats.Median(stats.Sorted(warm)))
	}

	// Concurrent burst.
	con := b.WithPhase("concurrent").InvokeConcurrently(ctx, "function2", conN, lab.Request{Sleep: 0.05})
	count += len(con)
	for i, r := range con {
		if !r.OK() && providers.KindOf(r.Err) != providers.KindThrottled {
			fail("concurrent call %d failed: %v", i+1, r.Err)
		}
	}

	// Nested chain.
	nb := b.WithPhase("nested")
	inner, _ := json.Marshal(lab.Request{InvokeNested: []lab.NestedCall{{FunctionName: "function3"}}})
	r := nb.Invoke(ctx, "function1", lab.Request{InvokeNested: []lab.NestedCall{{FunctionName: "function2", InvokePayload: inner}}})
	count++
	switch {
	case !r.OK():
		fail("nested chain failed: %v", r.Err)
	case len(r.Response.Nested) != 1 || r.Response.Nested[0].Response == nil ||
		len(r.Response.Nested[0].Response.Nested) != 1 || r.Response.Nested[0].Response.Nested[0].Response == nil:
		fail("nested chain function1→function2→function3 did not report both levels")
	case r.Response.Nested[0].Response.Nested[0].Response.Function != "function3":
		fail("the innermost nested call was served by %q, want function3", r.Response.Nested[0].Response.Nested[0].Response.Function)
	}

	// Monolith workloads with known answers.
	mb := b.WithPhase("monolith")
	for _, c := range []struct {
		workload, field string
		args            int
		want            float64
	}{{"fib", "fib", 20, 6765}, {"nqueens", "solutions", 8, 92}} {
		r := mb.Invoke(ctx, "monolith", lab.Request{RunFunction: c.workload, Args: c.args, Seed: 1})
		count++
		if !r.OK() {
			fail("monolith %s failed: %v", c.workload, r.Err)
			continue
		}
		var v map[string]any
		if r.Response.Result == nil || json.Unmarshal(r.Response.Result.Value, &v) != nil {
			fail("monolith %s returned no result", c.workload)
			continue
		}
		if got, _ := v[c.field].(float64); got != c.want {
			fail("monolith %s(%d): %s = %v, want %v", c.workload, c.args, c.field, v[c.field], c.want)
		}
	}

	// Error paths: each must fail, in the documented way.
	eb := b.WithPhase("errors")
	expected := 0
	bad := 500
	checks := []struct {
		name string
		fn   string
		req  lab.Request
		ok   func(*engine.Result) bool
	}{
		{"invalid StatusCode", "function1", lab.Request{StatusCode: &bad}, func(r *engine.Result) bool { return isFunctionError(r, lab.ErrInput) }},
		{"negative sleep", "function1", lab.Request{Sleep: -1}, func(r *engine.Result) bool { return isFunctionError(r, lab.ErrInput) }},
		{"unknown function", "no-such-function", lab.Request{}, func(r *engine.Result) bool { return providers.KindOf(r.Err) == providers.KindNotFound }},
		{"nested call outside the allowlist", "function1", lab.Request{InvokeNested: []lab.NestedCall{{FunctionName: "not-allowed"}}},
			func(r *engine.Result) bool {
				if r.Response == nil {
					return false
				}
				if r.Response.Error != nil && r.Response.Error.Kind == lab.ErrGuard {
					return true
				}
				return len(r.Response.Nested) == 1 && r.Response.Nested[0].Error != nil && r.Response.Nested[0].Error.Kind == lab.ErrGuard
			}},
	}
	for _, c := range checks {
		r := eb.Invoke(ctx, c.fn, c.req)
		count++
		if c.ok(r) {
			expected++
		} else {
			fail("error path %q: got %v, not the documented failure", c.name, r.Err)
		}
	}
	est.set("invocations", float64(count))
	est.set("failures_expected", float64(expected))
	est.set("checks_failed", float64(len(problems)))
	if err := ctx.Err(); err != nil {
		return est.result(err)
	}
	if len(problems) > 0 {
		shown := problems
		if len(shown) > 5 {
			shown = append(shown[:5:5], fmt.Sprintf("... and %d more", len(problems)-5))
		}
		return est.result(fmt.Errorf("smoke: %d check(s) failed:\n  - %s", len(problems), strings.Join(shown, "\n  - ")))
	}
	return est.result(nil)
}

func isFunctionError(r *engine.Result, kind string) bool {
	var fe *engine.FunctionError
	return errors.As(r.Err, &fe) && fe.Kind == kind
}
