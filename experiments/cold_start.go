package experiments

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/faas-benchmarker/faas-benchmarker/engine"
	"github.com/faas-benchmarker/faas-benchmarker/functions/lab"
)

// ColdStart measures cold and warm latency distributions.
//
// Question: how much slower is an invocation that has to start a new
// instance than one served by a warm instance — for a function called
// directly, for a callee inside a nested call, and for a burst of cold
// starts at once?
//
// Method: each sample first makes the function cold the platform's own
// way (engine ForceColdStart: a configuration update on Lambda and the
// local platform; elsewhere it waits idle_wait, which must exceed the
// platform's idle timeout), then invokes it once (phase "cold") or, with
// concurrency > 1, sends a burst of that many requests behind a barrier;
// then warm invocations follow on the now-warm instance (phase "warm").
// Every sample is classified by two independent signals, never by a latency
// threshold: the lab function's in-process cold flag and the platform's
// Init Duration. Both are stored with every invocation, and their agreement
// is an estimate. With nested=true the cold start of a callee is measured
// instead: the callee is made cold and the (warm) caller invokes it; the
// caller-side duration of the nested call is the sample.
//
// Parameters: function (function1), samples (10), warm (1 warm invocation
// after each cold one), concurrency (1), nested (false), callee (function2),
// idle_wait (0s: only needed where cold starts cannot be forced).
// memory ("": as deployed) sweeps memory sizes where the platform can set
// them (Lambda, local: a configuration update per size); phases are then
// "cold/<mb>MB" and "warm/<mb>MB" and every estimate also appears with the
// suffix _<mb>mb (the unsuffixed keys describe the first size). Elsewhere
// deploy one function per size and run once per deployment
// (--function function1=<deployment>); the memory size is stored with every
// invocation from the platform report.
//
// Estimates: cold_p50_ms, warm_p50_ms, cold_p90_ms, warm_p90_ms,
// cold_minus_warm_p50_ms, init_p50_ms (platform Init Duration),
// cold_fraction_flag and cold_fraction_platform (fraction of "cold"-phase
// samples that each signal calls cold: 1 when forcing worked),
// warm_cold_fraction (fraction of "warm" samples flagged cold: 0 expected),
// cold_agreement (fraction of samples with both signals known where they
// agree), samples; with nested: nested_cold_p50_ms, nested_warm_p50_ms,
// nested_cold_fraction_flag.
//
// Metrics: cold_signal_agreement per sample (1 = the two signals agree;
// tags flag and platform give both).
//
// Known limits: the platform signal exists only where the platform reports
// an Init Duration (Lambda, local); elsewhere cold_agreement is absent.
// Lambda SnapStart restores report Restore Duration instead. Nested samples
// carry only the in-function flag.
type ColdStart struct{}

// Name implements Experiment.
func (ColdStart) Name() string { return "cold-start" }

// Summary implements Experiment.
func (ColdStart) Summary() string {
	return "cold vs warm latency, with every sample verified cold by the function's flag and the platform's Init Duration"
}

// Params implements Experiment.
func (ColdStart) Params() []Param {
	return []Param{
		StringParam("function", "function1", "lab function to measure").Required(),
		IntParam("samples", "10", "cold starts to force").AtLeast(1),
		IntParam("warm", "1", "warm invocations after each cold one").AtLeast(0),
		IntParam("concurrency", "1", "cold starts per sample, sent together behind a barrier").AtLeast(1),
		BoolParam("nested", "false", "measure the cold start of a callee invoked by a warm caller"),
		StringParam("callee", "function2", "with nested=true: the callee made cold").Required(),
		DurationParam("idle_wait", "0s", "wait this long instead where the platform cannot force cold starts (> its idle timeout)").AtLeast(0),
		IntListParam("memory", "", "memory sizes in MB to sweep, e.g. 128,512,1024 (empty: as deployed; needs a platform that can set memory)").In(128, 10240).WithUnit("MB"),
	}
}

// Run implements Experiment.
func (ColdStart) Run(ctx context.Context, b *engine.Benchmarker, p Params) (Estimates, error) {
	fn, samples, warmN, conc := p.String("function"), p.Int("samples"), p.Int("warm"), p.Int("concurrency")
	nested, callee, idleWait := p.Bool("nested"), p.String("callee"), p.Duration("idle_wait")
	if nested {
		return coldStartNested(ctx, b, fn, callee, samples, warmN, idleWait)
	}
	sizes := p.Ints("memory")
	if len(sizes) == 0 {
		b.Expect(int64(samples * (conc + warmN)))
		return coldWarm(ctx, b, fn, samples, warmN, conc, idleWait, "cold", "warm")
	}
	// Memory sweep: one configuration update per size (which also makes
	// the next invocation cold), then the same cold/warm samples.
	if !b.CanSetMemory() {
		return nil, fmt.Errorf("cold-start memory=%s: %s cannot change memory sizes; deploy one function per size and run once per deployment", p.Raw("memory"), b.Platform())
	}
	b.Expect(int64(len(sizes) * samples * (conc + warmN)))
	est := newEstimates()
	for i, mb := range sizes {
		if err := b.SetMemory(ctx, fn, mb); err != nil {
			return est.result(fmt.Errorf("cold-start: %w", err))
		}
		sub, err := coldWarm(ctx, b, fn, samples, warmN, conc, idleWait, fmt.Sprintf("cold/%dMB", mb), fmt.Sprintf("warm/%dMB", mb))
		for k, v := range sub {
			est.set(fmt.Sprintf("%s_%dmb", k, mb), v)
			if i == 0 {
				est.set(k, v) // the unsuffixed keys describe the first size
			}
		}
		if err != nil {
			return est.result(err)
		}
	}
	return est.result(nil)
}

// coldWarm runs the forced cold / warm samples of one configuration.
func coldWarm(ctx context.Context, b *engine.Benchmarker, fn string, samples, warmN, conc int, idleWait time.Duration, coldPhase, warmPhase string) (Estimates, error) {
	coldB, warmB := b.WithPhase(coldPhase), b.WithPhase(warmPhase)
	var coldMS, warmMS, initMS []float64
	var coldT, warmT, all coldTally
	failed := 0
	for i := 0; i < samples && ctx.Err() == nil; i++ {
		if err := makeCold(ctx, b, fn, idleWait); err != nil {
			if ctx.Err() != nil {
				break
			}
			return coldStartEstimates(coldMS, warmMS, initMS, coldT, warmT, all).result(err)
		}
		var rs []*engine.Result
		if conc == 1 {
			rs = []*engine.Result{coldB.Invoke(ctx, fn, lab.Request{})}
		} else {
			rs = coldB.InvokeConcurrently(ctx, fn, conc, lab.Request{})
		}
		for _, r := range rs {
			if !r.OK() {
				failed++
				continue
			}
			recordAgreement(coldB, r)
			coldT.add(r)
			all.add(r)
			coldMS = append(coldMS, latencyMS(r))
			if d, ok := r.PlatformInit(); ok {
				initMS = append(initMS, msOf(d))
			}
		}
		for _, r := range warmB.InvokeSequentially(ctx, fn, warmN, lab.Request{}) {
			if !r.OK() {
				failed++
				continue
			}
			recordAgreement(warmB, r)
			warmT.add(r)
			all.add(r)
			warmMS = append(warmMS, latencyMS(r))
		}
	}
	est := coldStartEstimates(coldMS, warmMS, initMS, coldT, warmT, all)
	est.set("failed", float64(failed))
	if err := ctx.Err(); err != nil {
		return est.result(err)
	}
	if len(coldMS) == 0 {
		return est.result(errors.New("cold-start: no successful cold sample"))
	}
	return est.result(nil)
}

// recordAgreement stores, per sample with both cold signals known, the
// metric cold_signal_agreement: 1 when the in-function flag and the
// platform's Init Duration agree, 0 when not (tags flag, platform).
func recordAgreement(b *engine.Benchmarker, r *engine.Result) {
	s := signalsOf(r)
	if !s.FlagKnown || !s.PlatformKnown {
		return
	}
	v := 0.0
	if s.Flag == s.Platform {
		v = 1
	}
	b.Record(MetricColdSignalAgreement, v, map[string]string{"flag": fmt.Sprint(s.Flag), "platform": fmt.Sprint(s.Platform)})
}

func coldStartEstimates(coldMS, warmMS, initMS []float64, coldT, warmT, all coldTally) *estimates {
	est := newEstimates()
	est.stat("cold_p50_ms", median(coldMS))
	est.stat("warm_p50_ms", median(warmMS))
	est.stat("cold_p90_ms", percentile(coldMS, 0.9))
	est.stat("warm_p90_ms", percentile(warmMS, 0.9))
	est.stat("cold_minus_warm_p50_ms", median(coldMS)-median(warmMS))
	est.stat("init_p50_ms", median(initMS))
	est.stat("cold_fraction_flag", ratio(coldT.FlagCold, coldT.FlagKnown))
	est.stat("cold_fraction_platform", ratio(coldT.PlatformCold, coldT.PlatKnown))
	est.stat("warm_cold_fraction", ratio(warmT.FlagCold, warmT.FlagKnown))
	est.stat("cold_agreement", ratio(all.Agree, all.Both))
	est.set("samples", float64(len(coldMS)))
	return est
}

// coldStartNested measures callee cold starts through a warm caller.
func coldStartNested(ctx context.Context, b *engine.Benchmarker, caller, callee string, samples, warmN int, idleWait time.Duration) (Estimates, error) {
	if !b.CanForceColdStart() {
		return nil, fmt.Errorf("cold-start nested=true needs a platform that can force cold starts of one function (%s cannot)", b.Platform())
	}
	b.Expect(int64(samples * (2 + warmN)))
	req := lab.Request{InvokeNested: []lab.NestedCall{{FunctionName: callee, InvokePayload: json.RawMessage(`{}`)}}}
	coldB, warmB := b.WithPhase("cold"), b.WithPhase("warm")
	var coldMS, warmMS []float64
	flagCold, flagKnown := 0, 0
	nestedDur := func(r *engine.Result) (ms float64, cold, ok bool) {
		if !r.OK() || r.Response == nil || len(r.Response.Nested) != 1 {
			return 0, false, false
		}
		n := r.Response.Nested[0]
		if n.Error != nil || n.Response == nil {
			return 0, false, false
		}
		return float64(n.DurationNS) / 1e6, n.Response.Instance.Cold, true
	}
	// Warm the caller so that only the callee is cold.
	b.WithPhase("warmup").Invoke(ctx, caller, lab.Request{})
	for i := 0; i < samples && ctx.Err() == nil; i++ {
		if err := makeCold(ctx, b, callee, idleWait); err != nil {
			if ctx.Err() != nil {
				break
			}
			return nil, err
		}
		if ms, cold, ok := nestedDur(coldB.Invoke(ctx, caller, req)); ok {
			coldMS = append(coldMS, ms)
			flagKnown++
			if cold {
				flagCold++
			}
		}
		for _, r := range warmB.InvokeSequentially(ctx, caller, warmN, req) {
			if ms, _, ok := nestedDur(r); ok {
				warmMS = append(warmMS, ms)
			}
		}
	}
	est := newEstimates()
	est.stat("nested_cold_p50_ms", median(coldMS))
	est.stat("nested_warm_p50_ms", median(warmMS))
	est.stat("cold_minus_warm_p50_ms", median(coldMS)-median(warmMS))
	est.stat("nested_cold_fraction_flag", ratio(flagCold, flagKnown))
	est.set("samples", float64(len(coldMS)))
	if err := ctx.Err(); err != nil {
		return est.result(err)
	}
	if len(coldMS) == 0 {
		return est.result(errors.New("cold-start: no successful nested cold sample"))
	}
	return est.result(nil)
}
