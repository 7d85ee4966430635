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

// Run implements Experiment: the phases below in order, then the verdict.
func (Smoke) Run(ctx context.Context, b *engine.Benchmarker, p Params) (Estimates, error) {
	seqN, conN := p.Int("sequential"), p.Int("concurrent")
	b.Expect(int64(seqN + conN + 7))
	s := &smokeRun{b: b, est: newEstimates()}
	if err := s.sequential(ctx, seqN); err != nil {
		return Estimates{"invocations": 1}, err
	}
	s.concurrent(ctx, conN)
	s.nested(ctx)
	s.monolith(ctx)
	s.errorPaths(ctx)
	return s.verdict(ctx)
}

// smokeRun is one smoke run in progress: the invocations made and the
// checks that failed so far.
type smokeRun struct {
	b        *engine.Benchmarker
	est      *estimates
	count    int      // invocations made
	expected int      // error-path checks that failed as documented
	problems []string // checks that failed
}

func (s *smokeRun) fail(format string, a ...any) {
	s.problems = append(s.problems, fmt.Sprintf(format, a...))
}

// sequential: the first call may be cold, later ones must reuse an
// instance. A first call that fails on the platform level (unreachable,
// auth, not deployed) fails the run at once with that reason.
func (s *smokeRun) sequential(ctx context.Context, n int) error {
	sb := s.b.WithPhase("sequential")
	first := sb.Invoke(ctx, "function1", lab.Request{})
	if first.Err != nil && providers.KindOf(first.Err) != "" {
		return fmt.Errorf("smoke: the platform cannot run function1: %w", first.Err)
	}
	seq := append([]*engine.Result{first}, sb.InvokeSequentially(ctx, "function1", n-1, lab.Request{})...)
	s.count += len(seq)
	var warm []float64
	for i, r := range seq {
		if !r.OK() {
			s.fail("sequential call %d failed: %v", i+1, r.Err)
			continue
		}
		if cold, _ := r.Cold(); i > 0 && !cold {
			warm = append(warm, float64(r.Latency().Microseconds())/1000)
		}
	}
	if len(seq) > 1 && seq[0].OK() && seq[1].OK() && seq[0].InstanceID() != seq[1].InstanceID() {
		s.fail("sequential calls were served by different instances (%s, %s)", seq[0].InstanceID(), seq[1].InstanceID())
	}
	s.est.quantile("warm_p50_ms", warm, 0.5) // with its order-statistic interval where n allows one
	return nil
}

// concurrent is a burst of n calls behind a barrier; throttling is allowed.
func (s *smokeRun) concurrent(ctx context.Context, n int) {
	con := s.b.WithPhase("concurrent").InvokeConcurrently(ctx, "function2", n, lab.Request{Sleep: 0.05})
	s.count += len(con)
	for i, r := range con {
		if !r.OK() && providers.KindOf(r.Err) != providers.KindThrottled {
			s.fail("concurrent call %d failed: %v", i+1, r.Err)
		}
	}
}

// nested is the chain function1 → function2 → function3.
func (s *smokeRun) nested(ctx context.Context) {
	inner, _ := json.Marshal(lab.Request{InvokeNested: []lab.NestedCall{{FunctionName: "function3"}}})
	r := s.b.WithPhase("nested").Invoke(ctx, "function1", lab.Request{InvokeNested: []lab.NestedCall{{FunctionName: "function2", InvokePayload: inner}}})
	s.count++
	switch {
	case !r.OK():
		s.fail("nested chain failed: %v", r.Err)
	case len(r.Response.Nested) != 1 || r.Response.Nested[0].Response == nil ||
		len(r.Response.Nested[0].Response.Nested) != 1 || r.Response.Nested[0].Response.Nested[0].Response == nil:
		s.fail("nested chain function1→function2→function3 did not report both levels")
	case r.Response.Nested[0].Response.Nested[0].Response.Function != "function3":
		s.fail("the innermost nested call was served by %q, want function3", r.Response.Nested[0].Response.Nested[0].Response.Function)
	}
}

// monolith runs workloads with known answers.
func (s *smokeRun) monolith(ctx context.Context) {
	mb := s.b.WithPhase("monolith")
	for _, c := range []struct {
		workload, field string
		args            int
		want            float64
	}{{"fib", "fib", 20, 6765}, {"nqueens", "solutions", 8, 92}} {
		r := mb.Invoke(ctx, "monolith", lab.Request{RunFunction: c.workload, Args: c.args, Seed: 1})
		s.count++
		if !r.OK() {
			s.fail("monolith %s failed: %v", c.workload, r.Err)
			continue
		}
		var v map[string]any
		if r.Response.Result == nil || json.Unmarshal(r.Response.Result.Value, &v) != nil {
			s.fail("monolith %s returned no result", c.workload)
			continue
		}
		if got, _ := v[c.field].(float64); got != c.want {
			s.fail("monolith %s(%d): %s = %v, want %v", c.workload, c.args, c.field, v[c.field], c.want)
		}
	}
}

// errorPaths makes calls that must fail, each checked to fail in the
// documented way.
func (s *smokeRun) errorPaths(ctx context.Context) {
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
		{"nested call outside the allowlist", "function1", lab.Request{InvokeNested: []lab.NestedCall{{FunctionName: "not-allowed"}}}, isGuardError},
	}
	eb := s.b.WithPhase("errors")
	for _, c := range checks {
		r := eb.Invoke(ctx, c.fn, c.req)
		s.count++
		if c.ok(r) {
			s.expected++
		} else {
			s.fail("error path %q: got %v, not the documented failure", c.name, r.Err)
		}
	}
}

// verdict sets the estimates and fails the run with the first few problems.
func (s *smokeRun) verdict(ctx context.Context) (Estimates, error) {
	s.est.set("invocations", float64(s.count))
	s.est.set("failures_expected", float64(s.expected))
	s.est.set("checks_failed", float64(len(s.problems)))
	if err := ctx.Err(); err != nil {
		return s.est.result(err)
	}
	if len(s.problems) > 0 {
		shown := s.problems
		if len(shown) > 5 {
			shown = append(shown[:5:5], fmt.Sprintf("... and %d more", len(s.problems)-5))
		}
		return s.est.result(fmt.Errorf("smoke: %d check(s) failed:\n  - %s", len(s.problems), strings.Join(shown, "\n  - ")))
	}
	return s.est.result(nil)
}

// isGuardError reports whether a nested call was refused by the lab
// function's allowlist guard, on the call itself or on its nested call.
func isGuardError(r *engine.Result) bool {
	if r.Response == nil {
		return false
	}
	if r.Response.Error != nil && r.Response.Error.Kind == lab.ErrGuard {
		return true
	}
	return len(r.Response.Nested) == 1 && r.Response.Nested[0].Error != nil && r.Response.Nested[0].Error.Kind == lab.ErrGuard
}

func isFunctionError(r *engine.Result, kind string) bool {
	var fe *engine.FunctionError
	return errors.As(r.Err, &fe) && fe.Kind == kind
}
