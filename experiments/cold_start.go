package experiments

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/faas-benchmarker/faas-benchmarker/engine"
	"github.com/faas-benchmarker/faas-benchmarker/functions/lab"
	"github.com/faas-benchmarker/faas-benchmarker/providers"
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
// Connections: cold and warm samples are compared over connections in the
// same state. Before each cold sample the engine opens the connections it
// will use (Benchmarker.Preconnect: Lambda and the local platform, by
// GetFunction calls that invoke nothing), so a burst's requests leave
// together. Where a provider cannot, and whenever a request still opened a
// connection, the sample's latency is its round trip minus the set-up of a
// connection opened for it (DNS, connect, TLS handshake, as the engine
// measured them): a cold burst that has to open fresh connections while
// warm samples reuse one would otherwise be charged a handshake or two. The
// set-up is reported apart (conn_setup_p50_ms, fresh_connections); the
// stored invocations keep the full latency and the set-up fields.
//
// Which samples count: the cold estimates use the cold-phase samples that
// were cold by both signals (a signal the platform does not give does not
// veto); the others are counted as not_cold (an environment the platform
// had initialised ahead of time). The warm estimates use warm-phase samples
// warm by both (not_warm counts the others). A cold start that failed or
// timed out is counted in cold_failed (cold_timed_out: those that timed
// out), shown next to the percentiles, never dropped silently. A request
// the platform refused for its scale-out rate or concurrency (a throttle)
// started no instance: it is counted in cold_throttled, and a sample
// refused whole is sent again after a backoff (cold_throttle.go).
//
// Estimates (each with a 95 % interval under <key>_low/<key>_high where
// the samples allow one; docs/experiments.md "Intervals"): cold_p50_ms,
// warm_p50_ms, cold_p90_ms, warm_p90_ms (order-statistic intervals),
// cold_minus_warm_p50_ms (Price–Bonett interval of the difference of
// medians), init_p50_ms (platform Init Duration), cold_fraction_flag and
// cold_fraction_platform (fraction of "cold"-phase samples that each
// signal calls cold: 1 when forcing worked), warm_cold_fraction (fraction
// of "warm" samples flagged cold: 0 expected), cold_agreement (fraction of
// samples with both signals known where they agree) — fractions with
// Clopper–Pearson intervals; conn_setup_p50_ms; exact counts without interval:
// samples (cold by both signals), warm_samples, not_cold, not_warm,
// cold_failed, cold_timed_out, cold_throttled, failed (cold and warm),
// fresh_connections.
// With nested: nested_cold_p50_ms, nested_warm_p50_ms,
// cold_minus_warm_p50_ms, nested_cold_fraction_flag, samples, not_cold,
// cold_failed (the callee's cold flag is the only signal there).
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
	c := coldWarmData{sender: newColdSender(coldB)}
	for i := 0; i < samples && ctx.Err() == nil; i++ {
		if err := makeCold(ctx, b, fn, idleWait); err != nil {
			if ctx.Err() != nil {
				break
			}
			return c.estimates(b).result(err)
		}
		// Open the connections the cold requests will use first, so that
		// a burst starts together (not one handshake apart) and no cold
		// sample waits for a connection a warm one already had.
		if _, err := b.Preconnect(ctx, fn, conc); err != nil && ctx.Err() == nil {
			b.Logger().Warn("cold-start: could not open the connections ahead; their set-up is subtracted instead", "err", err)
		}
		for _, r := range c.sender.send(ctx, coldB, fn, conc) {
			c.addCold(coldB, r)
		}
		for _, r := range warmB.InvokeSequentially(ctx, fn, warmN, lab.Request{}) {
			c.addWarm(warmB, r)
		}
	}
	est := c.estimates(b)
	if err := ctx.Err(); err != nil {
		return est.result(err)
	}
	if len(c.coldMS) == 0 {
		return est.result(fmt.Errorf("cold-start: no sample cold by both signals (%d failed, %d not cold, %d refused by the platform's throttle)",
			c.coldFailed, c.notCold, c.sender.total()))
	}
	return est.result(nil)
}

// coldWarmData are the samples of one cold/warm configuration.
type coldWarmData struct {
	coldMS, warmMS, initMS []float64 // service latencies (serviceMS) and Init Durations
	setupMS                []float64 // connection set-up of samples that opened a connection
	coldT, warmT, all      coldTally
	coldFailed, warmFailed int // failed or timed out (never dropped silently)
	coldTimedOut           int
	notCold, notWarm       int         // phase samples a signal contradicts: left out of that phase's estimates
	sender                 *coldSender // sends the cold samples; counts the refused ones
}

// addCold adds a cold-phase result: a sample enters the cold estimates only
// when it was cold by both signals (a signal the platform does not give
// does not veto); a failed or timed-out cold start is counted.
func (c *coldWarmData) addCold(b *engine.Benchmarker, r *engine.Result) {
	if !r.OK() {
		c.coldFailed++
		if providers.KindOf(r.Err) == providers.KindTimeout {
			c.coldTimedOut++
		}
		return
	}
	recordAgreement(b, r)
	c.coldT.add(r)
	c.all.add(r)
	c.addSetup(r)
	s := signalsOf(r)
	if (s.FlagKnown && !s.Flag) || (s.PlatformKnown && !s.Platform) {
		c.notCold++
		return
	}
	c.coldMS = append(c.coldMS, serviceMS(r))
	if s.PlatformKnown {
		c.initMS = append(c.initMS, msOf(s.Init))
	}
}

// addWarm adds a warm-phase result: warm estimates use samples warm by both
// signals.
func (c *coldWarmData) addWarm(b *engine.Benchmarker, r *engine.Result) {
	if !r.OK() {
		c.warmFailed++
		return
	}
	recordAgreement(b, r)
	c.warmT.add(r)
	c.all.add(r)
	c.addSetup(r)
	if s := signalsOf(r); (s.FlagKnown && s.Flag) || (s.PlatformKnown && s.Platform) {
		c.notWarm++
		return
	}
	c.warmMS = append(c.warmMS, serviceMS(r))
}

func (c *coldWarmData) addSetup(r *engine.Result) {
	if d := connSetup(r); d > 0 {
		c.setupMS = append(c.setupMS, msOf(d))
	}
}

// estimates computes the configuration's estimates with their intervals.
func (c *coldWarmData) estimates(b *engine.Benchmarker) *estimates {
	est := newEstimates()
	est.quantile("cold_p50_ms", c.coldMS, 0.5)
	est.quantile("warm_p50_ms", c.warmMS, 0.5)
	est.quantile("cold_p90_ms", c.coldMS, 0.9)
	est.quantile("warm_p90_ms", c.warmMS, 0.9)
	est.diffMedians("cold_minus_warm_p50_ms", c.coldMS, c.warmMS)
	est.quantile("init_p50_ms", c.initMS, 0.5)
	est.fraction("cold_fraction_flag", c.coldT.FlagCold, c.coldT.FlagKnown)
	est.fraction("cold_fraction_platform", c.coldT.PlatformCold, c.coldT.PlatKnown)
	est.fraction("warm_cold_fraction", c.warmT.FlagCold, c.warmT.FlagKnown)
	est.fraction("cold_agreement", c.all.Agree, c.all.Both)
	est.quantile("conn_setup_p50_ms", c.setupMS, 0.5)
	est.set("fresh_connections", float64(len(c.setupMS)))
	est.set("samples", float64(len(c.coldMS)))
	est.set("warm_samples", float64(len(c.warmMS)))
	est.set("not_cold", float64(c.notCold))
	est.set("not_warm", float64(c.notWarm))
	est.set("cold_failed", float64(c.coldFailed))
	est.set("cold_timed_out", float64(c.coldTimedOut))
	est.set("failed", float64(c.coldFailed+c.warmFailed))
	c.sender.record(est)
	est.logNotes(b.Logger())
	if c.coldFailed > 0 || c.notCold > 0 || c.sender.total() > 0 {
		b.Logger().Warn("cold-start: cold-phase samples left out of the cold estimates", "cold_failed", c.coldFailed,
			"timed_out", c.coldTimedOut, "not_cold", c.notCold, "throttled", c.sender.total(), "cold", len(c.coldMS))
	}
	return est
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

// coldStartNested measures callee cold starts through a warm caller.
func coldStartNested(ctx context.Context, b *engine.Benchmarker, caller, callee string, samples, warmN int, idleWait time.Duration) (Estimates, error) {
	if !b.CanForceColdStart() {
		return nil, fmt.Errorf("cold-start nested=true needs a platform that can force cold starts of one function (%s cannot)", b.Platform())
	}
	b.Expect(int64(samples * (2 + warmN)))
	req := lab.Request{InvokeNested: []lab.NestedCall{{FunctionName: callee, InvokePayload: json.RawMessage(`{}`)}}}
	coldB, warmB := b.WithPhase("cold"), b.WithPhase("warm")
	var coldMS, warmMS []float64
	flagCold, flagKnown, coldFailed, notCold := 0, 0, 0, 0
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
		ms, cold, ok := nestedDur(coldB.Invoke(ctx, caller, req))
		switch {
		case !ok:
			coldFailed++
		case !cold:
			flagKnown++
			notCold++
		default:
			flagKnown++
			flagCold++
			coldMS = append(coldMS, ms)
		}
		for _, r := range warmB.InvokeSequentially(ctx, caller, warmN, req) {
			if ms, cold, ok := nestedDur(r); ok && !cold {
				warmMS = append(warmMS, ms)
			}
		}
	}
	est := newEstimates()
	est.quantile("nested_cold_p50_ms", coldMS, 0.5)
	est.quantile("nested_warm_p50_ms", warmMS, 0.5)
	est.diffMedians("cold_minus_warm_p50_ms", coldMS, warmMS)
	est.fraction("nested_cold_fraction_flag", flagCold, flagKnown)
	est.set("samples", float64(len(coldMS)))
	est.set("not_cold", float64(notCold))
	est.set("cold_failed", float64(coldFailed))
	est.logNotes(b.Logger())
	if err := ctx.Err(); err != nil {
		return est.result(err)
	}
	if len(coldMS) == 0 {
		return est.result(errors.New("cold-start: no successful nested cold sample"))
	}
	return est.result(nil)
}
