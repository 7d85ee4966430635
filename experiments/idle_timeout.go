package experiments

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/faas-benchmarker/faas-benchmarker/engine"
	"github.com/faas-benchmarker/faas-benchmarker/providers"
	"github.com/faas-benchmarker/faas-benchmarker/stacks/stackcfg"
	"github.com/faas-benchmarker/faas-benchmarker/stats"
	"github.com/faas-benchmarker/faas-benchmarker/stats/survival"
)

// Estimate keys of idle-timeout. Times are seconds of platform idle time;
// a _low or _high key is absent when the data cannot bound that side.
const (
	// KeyIdleTimeout is the median eviction time, with its 95% interval.
	KeyIdleTimeout = "idle_timeout_s"
	// KeyIdleMedianFlat is 1 when the median is a stretch: its interval
	// stayed wide over a plateau of the fitted distribution at ½ (partial
	// eviction 0.5 evicts half the instances at T and the rest at 2T:
	// every time between is a median), and idle_timeout_s is left out —
	// the interval is the answer.
	KeyIdleMedianFlat = "idle_timeout_flat"
	// KeyIdleWarm is the 5% point of the eviction time: the longest gap
	// after which at least 95% of instances are still warm.
	KeyIdleWarm = "idle_warm_s"
	// KeyIdleCold is the 95% point: the shortest gap after which at least
	// 95% of instances are cold.
	KeyIdleCold = "idle_cold_s"
	// KeyIdleProbeTime is the wall time the run spent.
	KeyIdleProbeTime = "idle_probe_time_s"
	// KeyIdleInvocations counts all requests (warm-up included).
	KeyIdleInvocations = "idle_invocations"
	// KeyIdleProbes counts probe requests.
	KeyIdleProbes = "idle_probes"
	// KeyIdleObservations counts per-instance observations (gap, evicted).
	KeyIdleObservations = "idle_observations"
	// KeyIdlePrecisionReached is 1 when the reported median's interval is
	// within ±precision of it, 0 otherwise (a budget — max_probes,
	// max_time — ended the run first).
	KeyIdlePrecisionReached = "idle_precision_reached"
	// KeyIdleGapOverhead is the round trip added to the client's gaps (ms).
	KeyIdleGapOverhead = "idle_gap_overhead_ms"
	// KeyIdleResolution is the median uncertainty of an observation's
	// platform idle time (ms): half the in-flight times of the requests
	// around it. Every interval is widened by it.
	KeyIdleResolution = "idle_resolution_ms"
	// KeyIdleLongestGap is the longest idle time planned (s), and
	// KeyIdleStillWarm the share of new instances idle at least that long
	// that stayed warm, with its exact interval on the bursts' effective sample: with a never-evicted
	// share it is what can be said.
	KeyIdleLongestGap = "idle_longest_gap_s"
	KeyIdleStillWarm  = "idle_still_warm"
	// KeyIdlePersistent says which behaviour the persistence check
	// supports: 1 per-instance fixed eviction times, 0 a new eviction time
	// every idle period, absent when the data cannot tell.
	KeyIdlePersistent = "idle_persistent"
	// KeyIdleRechecks counts later observations at a gap the instance had
	// already survived, KeyIdleRecheckEvicted those that were evicted
	// (impossible under persistence).
	KeyIdleRechecks       = "idle_rechecks"
	KeyIdleRecheckEvicted = "idle_recheck_evicted"
)

// MetricIdleProbe is the per-instance observation metric of idle-timeout:
// value 1 when the instance was evicted within the gap (the probe came back
// cold), 0 when it answered warm; tags gap_s (the client's gap, seconds),
// idle_s (the platform idle time it stands for in the estimates), first,
// instance, lane, burst (the probe that made it, shared fate) and
// function.
const MetricIdleProbe = "idle_probe"

// TagIdleS is the platform idle time an idle_probe observation stands for
// in the estimates (seconds, full precision): its client gap plus half the
// in-flight times of the two requests around it (idleTime). The report
// refits these.
const TagIdleS = "idle_s"

// TagIdleFirst marks an idle_probe observation of an instance's first idle
// period ("1"), the only ones the estimates use; "0" for a survivor's later
// periods (kept for the persistence check).
const TagIdleFirst = "first"

// IdleTimeout estimates after how long idle an instance goes cold.
//
// Question: after how long without requests does the platform reclaim an
// instance — and, where eviction is not a sharp timeout, how long may a
// user rely on a warm instance and after how long is it surely cold?
//
// Estimand: the distribution, over newly started instances, of how long
// an instance stays warm once idle (its first idle period after it served
// a request).
//
// Method: a lane is one function (default function1, function2,
// function3: deployed alike). A burst asks the instances the lane holds
// that are expected to be still warm plus `instances` new ones (burstSize);
// an old instance id that answers warm survived its gap, one that does not
// come back was evicted (counted only when every request met a distinct
// instance and the burst asked all or started a new one; otherwise a later
// burst observes it). Only first idle periods, of
// exactly `instances` new instances per burst, enter the estimates — so a
// platform that gives each instance its own eviction time for life does
// not tilt them; later periods feed the persistence check. Every request
// sleeps probe_sleep plus its own random delay (up to the width of the
// 5%-95% stretch, at most max_stagger), so one burst samples the phase of
// a periodic sweeper. Every observation is stored as the metric
// idle_probe (1 = evicted; tags gap_s, idle_s, instance, lane, burst, function,
// first).
//
// Design: a geometric grid min_gap, min_gap·factor, ... max_gap, spread
// over the lanes longest first, which grows max_gap while fewer than half
// the instances at it went cold and shrinks min_gap while nearly all went
// cold at it; then adaptive probes, alternately inside the median's
// current interval and across the 5%-95% stretch; lanes run concurrently.
// The run stops when the median's interval is within ±precision of it
// (after the grid; where the data separate cleanly, also within
// ±1.5·precision if every burst's instances shared one fate:
// planner.sharedPrecise), or max_probes requests or max_time are spent.
//
// Estimator (stats/survival): the nonparametric maximum-likelihood estimate
// of the eviction-time distribution (isotonic regression by pool-adjacent-
// violators) and 95% intervals by likelihood-ratio inversion with the χ²₁
// cutoff; see docs/experiments.md for why these and for their coverage by
// simulation.
//
// Estimates (on one final fit of every first idle period): idle_timeout_s
// (median), idle_warm_s (5% point) and idle_cold_s (95% point), each value
// only with a two-sided interval (_low/_high), otherwise only the bound the
// data give; idle_still_warm at idle_longest_gap_s; idle_persistent;
// idle_probes,
// idle_observations, idle_invocations, idle_probe_time_s,
// idle_precision_reached, idle_gap_overhead_ms, idle_resolution_ms. The
// platform's idle time exceeds the client's gap by the delivery of the
// previous response and of the probe; each is at most that request's
// in-flight time (client latency − the platform's REPORT duration and
// init, or − the handler time where the platform reports none). Every
// instance of a burst is observed as of the burst's first send, at its
// client gap plus half the two in-flight times (idleTime; tag idle_s),
// and every interval is widened by the median of that half
// (idle_resolution_ms). idle_gap_overhead_ms is the median in-flight time
// of warm answers.
//
// Parameters: see Params. The declared defaults suit the local platform;
// on a platform that declares its idle range they come from it
// (PlatformDefaults), and the grid rescales itself from there.
type IdleTimeout struct{}

// Name implements Experiment.
func (IdleTimeout) Name() string { return "idle-timeout" }

// Summary implements Experiment.
func (IdleTimeout) Summary() string {
	return "after how long idle an instance goes cold: per-instance survival probes, adaptive design, median / 5% / 95% eviction times with intervals"
}

// Params implements Experiment. Every parameter of idle-timeout is declared
// here with its type and range; idleParams reads them.
func (IdleTimeout) Params() []Param {
	return []Param{
		ListParam("functions", "function1,function2,function3", "one probe lane per function (deployed alike)").Required(),
		IntParam("instances", "3", "instances per lane, each observed at its own gap by every probe").AtLeast(1),
		DurationParam("min_gap", "1s", "smallest idle gap of the grid").Above(0),
		DurationParam("max_gap", "16s", "largest idle gap of the grid (>= min_gap; must exceed the eviction times)").Above(0),
		FloatParam("factor", "2.0", "ratio between grid gaps").Above(1),
		FloatParam("precision", "0.05", "stop when the median's 95% interval is within ± this fraction of it").Above(0).Below(1),
		IntParam("max_probes", "1000", "budget: most probe requests (>= instances)").AtLeast(1),
		DurationParam("max_time", "20m", "budget: longest run").Above(0),
		DurationParam("probe_sleep", "100ms", "handler sleep of a probe, so a burst's requests overlap").AtLeast(0).Seconds(),
		FloatParam("stagger", "0.5", "spread of a burst's release times as a fraction of the gap probed").In(0, 1),
		DurationParam("max_stagger", "10s", "largest spread of a burst's release times (counts as handler time)").AtLeast(0),
		FloatParam("level", "0.95", "confidence level of every interval").AtLeast(0.5).Below(1),
		IntParam("seed", "1", "seed of the design's randomisation (adaptive gaps, release delays)").AtLeast(0),
	}
}

// PlatformDefaults implements PlatformDefaulter: the grid starts at the
// platform's plausible range of idle timeouts, releases spread as far as
// its default deployment allows, and the budgets grow with the scale —
// max_time 30 × the range's end (at least the declared 20 min: 8 h for
// 16 min, time to grow the grid to an hour and bracket it), max_probes
// 1000 per 2 h of it. On aws, `fbrun experiment idle-timeout` with no
// --set so finds a timeout of minutes (TestIdlePlatformDefaults).
func (IdleTimeout) PlatformDefaults(r providers.IdleRange) map[string]string {
	maxTime := max(20*time.Minute, 30*r.Max)
	out := map[string]string{
		"min_gap": r.Min.String(), "max_gap": r.Max.String(), "max_time": maxTime.String(),
		"max_probes": strconv.Itoa(1000 * max(1, int(maxTime/(2*time.Hour)))),
	}
	if r.Spread > 0 {
		out["max_stagger"] = r.Spread.String()
	}
	if len(r.Lanes) > 0 {
		out["functions"] = strings.Join(r.Lanes, ",")
	}
	return out
}

// IdleLanesAWS and IdleTimeoutAWS are what idle-timeout asks of the aws
// stack deployed for its run (StackDefaults): twelve lanes (function1..3
// and nine copies; a Lambda function costs nothing idle) and an 800 s
// Lambda timeout, whose release spread of 10 min (IdleRange.WithLimit)
// samples the phase of a sweeper of up to twice the timeout. Simulated
// against the aws stack's own defaults (three lanes, 60 s: a 45 s spread)
// a sharp 10-minute timeout is answered in 57 min instead of 1 h 17 min
// and a sweep of 20 min is covered 99.0 % instead of 82.0 %
// (docs/experiments.md, idle-timeout). Handler time is billed: a probe
// sleeps up to the spread.
const (
	IdleLanesAWS   = 12
	IdleTimeoutAWS = 800 * time.Second
)

// StackDefaults implements StackDefaulter: on aws, IdleLanesAWS lanes
// (unless the user chooses the functions deployed) and the IdleTimeoutAWS
// Lambda timeout.
func (IdleTimeout) StackDefaults(program stackcfg.Platform, user []string) []string {
	if program != stackcfg.PlatformAWS {
		return nil
	}
	out := []string{"timeout=" + strconv.Itoa(int(IdleTimeoutAWS/time.Second))}
	// Lane copies need function1..3 deployed (stackcfg.AWS.Validate): a
	// user who chooses the functions chooses the lanes too.
	for _, o := range user {
		if k, _, err := stackcfg.ParseOverride(o); err == nil && k == "functions" {
			return out
		}
	}
	return append([]string{"lanes=" + strconv.Itoa(IdleLanesAWS)}, out...)
}

// MaxConcurrency implements ConcurrencyNeeder: the warm-up starts every
// lane's instances at once, so the account must allow at least that many
// concurrent executions. Later bursts of different lanes overlap by as
// much as the platform's evictions decide: simulated with the aws
// defaults, a run's peak was 1.5–3.7 times this (TestIdleConcurrencyPeak).
func (IdleTimeout) MaxConcurrency(p Params) int {
	return len(p.List("functions")) * p.Int("instances")
}

// CheckOn implements PlatformChecker: a probe sleeps up to probe_sleep +
// max_stagger, and with the runtime and the round trip it must end within
// the deployment's invocation limit — nine tenths of it, at most — or the
// platform cuts it and the run spends its budget on failures.
func (IdleTimeout) CheckOn(p Params, idle providers.IdleRange) error {
	if len(idle.Lanes) > 0 {
		for _, f := range p.List("functions") {
			if strings.HasPrefix(f, "lane") && !slices.Contains(idle.Lanes, f) {
				return fmt.Errorf("experiment idle-timeout: functions: %s is not deployed (the stack's lanes: %s; deploy more with --stack-set lanes=N)", f, strings.Join(idle.Lanes, ","))
			}
		}
	}
	if idle.Limit <= 0 {
		return nil
	}
	sleep := p.Duration("probe_sleep") + p.Duration("max_stagger")
	if room := idle.Limit * 9 / 10; sleep > room {
		return fmt.Errorf("experiment idle-timeout: probe_sleep + max_stagger = %v: a probe may sleep that long, but an invocation on this run may take at most %v (the shortest of the function's timeout, the platform's limit and the client's --timeout); keep them within %v", sleep, idle.Limit, room)
	}
	return nil
}

// ValidateParams implements Validator: the relations between parameters
// (each value's own range is declared in Params).
func (IdleTimeout) ValidateParams(p Params) error {
	_, err := idleParams(p)
	return err
}

// idleParams reads the parameters and checks their relations.
func idleParams(p Params) (idleDesign, error) {
	d := idleDesign{
		functions: p.List("functions"), instances: p.Int("instances"),
		minGap: p.Duration("min_gap"), maxGap: p.Duration("max_gap"), factor: p.Float("factor"), precision: p.Float("precision"),
		maxProbes: p.Int("max_probes"), maxTime: p.Duration("max_time"), probeSleep: p.Duration("probe_sleep"),
		stagger: p.Float("stagger"), maxStagger: p.Duration("max_stagger"), level: p.Float("level"), seed: uint64(p.Int("seed")),
	}
	var errs []error
	if d.maxGap < d.minGap {
		errs = append(errs, fmt.Errorf("min_gap %v is longer than max_gap %v: want min_gap <= max_gap", d.minGap, d.maxGap))
	}
	if d.maxProbes < d.instances {
		errs = append(errs, fmt.Errorf("max_probes=%d: must be >= instances (%d)", d.maxProbes, d.instances))
	}
	if len(errs) > 0 {
		return d, oneLine(errs)
	}
	return d, p.Err()
}

// Run implements Experiment.
func (IdleTimeout) Run(ctx context.Context, b *engine.Benchmarker, p Params) (Estimates, error) {
	d, err := idleParams(p)
	if err != nil {
		return nil, err
	}
	log := b.Logger()
	grid := geometricGrid(d.minGap, d.maxGap, d.factor)
	eta := gridETA(grid, len(d.functions))
	log.Info("idle-timeout grid", "gaps", grid, "lanes", len(d.functions), "grid_eta", eta,
		"precision", d.precision, "max_probes", d.maxProbes, "max_time", d.maxTime)
	// The grid and warm-up are planned; adaptive probes follow until the
	// precision or a budget is reached (the log says which).
	b.Expect(int64((len(grid) + len(d.functions)) * d.instances))
	b.ExpectFor(eta)

	phases := map[string]*engine.Benchmarker{}
	for _, ph := range []string{phaseWarmup, phaseGrid, phaseAdaptive} {
		phases[ph] = b.WithPhase(ph)
	}
	env := newEngineEnv(ctx, b, func(phase string) *engine.Benchmarker { return phases[phase] })
	run, runErr := runIdleDesign(ctx, env, d, func(o idleObservation, l *idleLane, phase string) {
		recordIdleObservation(phases[phase], o, l)
	})
	env.close()
	est := newEstimates()
	est.set(KeyIdleProbes, float64(run.probes))
	est.set(KeyIdleObservations, float64(len(run.obs)))
	est.set(KeyIdleInvocations, float64(run.invocations))
	est.set(KeyIdleProbeTime, run.elapsed.Seconds())
	est.set(KeyIdlePrecisionReached, 0)
	ie, err := estimateIdle(run, d.level, d.precision)
	if err != nil {
		return est.result(errors.Join(runErr, err))
	}
	// Judged on the final fit, on every observation (probes still in
	// flight when the design stopped are in it), not on the design's last
	// look.
	reached := false
	if precise(ie.median, d.precision) {
		est.set(KeyIdlePrecisionReached, 1)
		reached = true
	}
	putIdleEstimates(est, ie)
	stop := run.reason
	if stop == stopPrecision && !reached {
		// The design's fit met the precision; the final fit, with the
		// probes still in flight, is wider: say so, as the key does.
		stop = "precision on the design's fit, not on the final fit"
	}
	log.Info("idle-timeout done", "stop", stop, "precision_reached", reached, "observations", len(run.obs), "median", ie.median.Value,
		"median_low", ie.median.Low, "median_high", ie.median.High, "warm", ie.warm.Value, "cold", ie.cold.Value,
		"behaviour", ie.behaviour())
	if run.reason == stopHeld {
		log.Warn("idle-timeout: every lane holds as many warm instances as it may ask at once (instances kept past the longest gaps accumulate); the design stopped before a budget ran out",
			"max_held", maxHeld*d.instances, "longest_gap_s", ie.longest)
	}
	if !ie.median.HighFound {
		log.Warn("idle-timeout: the data do not bound the median above (too few instances evicted by the longest gaps); raise max_gap or max_time", "longest_gap_s", ie.longest)
	}
	return est.result(runErr)
}

// gridETA is the planned wall time of the grid: the longest lane's sum of
// gaps when the grid is dealt over lanes.
func gridETA(grid []time.Duration, lanes int) time.Duration {
	var eta time.Duration
	for _, w := range assignLanes(grid, lanes) {
		var s time.Duration
		for _, g := range w {
			s += g
		}
		eta = max(eta, s)
	}
	return eta
}

// recordIdleObservation stores one observation as an idle_probe metric of
// its phase: 1 evicted, 0 warm, tagged with its gap, idle time, instance,
// lane, burst and function.
func recordIdleObservation(b *engine.Benchmarker, o idleObservation, l *idleLane) {
	v := 0.0
	if o.evicted {
		v = 1
	}
	first := "0"
	if o.first {
		first = "1"
	}
	b.Record(MetricIdleProbe, v, map[string]string{
		// gap_s at full precision: the report refits these.
		TagGapS:    strconv.FormatFloat(o.gap.Seconds(), 'g', -1, 64),
		TagIdleS:   strconv.FormatFloat(o.idle.Seconds(), 'g', -1, 64),
		"instance": o.instance, "lane": strconv.Itoa(o.lane), "burst": strconv.Itoa(o.burst), "function": l.fn,
		TagIdleFirst: first,
	})
	b.Logger().Debug("idle-timeout observation", "function", l.fn, "instance", o.instance, "gap", o.gap, "evicted", o.evicted)
}

// putIdleEstimates stores ie's estimates: a quantile's value only with a
// two-sided interval, otherwise only the end that bounds it.
func putIdleEstimates(est *estimates, ie idleEstimates) {
	est.set(KeyIdleGapOverhead, ie.overhead*1000)
	est.set(KeyIdleResolution, ie.resolution*1000)
	median := ie.median
	if ie.medianFlat {
		median.Value = math.NaN() // a stretch: its interval alone
		est.set(KeyIdleMedianFlat, 1)
	}
	putEstimate(est, KeyIdleTimeout, median)
	putEstimate(est, KeyIdleWarm, ie.warm)
	putEstimate(est, KeyIdleCold, ie.cold)
	est.set(KeyIdleLongestGap, ie.longest)
	if w := ie.stillWarm; w.OK {
		est.set(KeyIdleStillWarm, ie.warmShare)
		lk, hk := stats.IntervalKeys(KeyIdleStillWarm)
		est.set(lk, w.Low)
		est.set(hk, w.High)
	}
	est.set(KeyIdleRechecks, float64(ie.rechecks))
	est.set(KeyIdleRecheckEvicted, float64(ie.contradictions))
	switch ie.behaviour() {
	case behaviourPersistent:
		est.set(KeyIdlePersistent, 1)
	case behaviourRedrawn:
		est.set(KeyIdlePersistent, 0)
	}
}

// Burst phases of idle-timeout.
const (
	phaseWarmup   = "warmup"
	phaseGrid     = "grid"
	phaseAdaptive = "adaptive"
)

// putEstimate stores e under key with its interval when the data bound it
// on both sides; otherwise no value, only the end that bounds it (the low
// end as a lower bound, the high end as an upper bound), or nothing. A
// point whose interval is open on one side would be contradicted by the
// instances the data could not see.
func putEstimate(est *estimates, key string, e survival.Estimate) {
	lowKey, highKey := stats.IntervalKeys(key)
	if e.Bounded() {
		est.set(key, e.Value)
	}
	if e.LowFound {
		est.set(lowKey, e.Low)
	}
	if e.HighFound {
		est.set(highKey, e.High)
	}
}

// geometricGrid returns min, min·factor, ... up to max (inclusive).
func geometricGrid(lo, hi time.Duration, factor float64) []time.Duration {
	var out []time.Duration
	for g := float64(lo); g <= float64(hi)*(1+1e-9); g *= factor {
		out = append(out, time.Duration(g))
	}
	return out
}

// assignLanes spreads gaps over n lanes, longest first onto the least
// loaded lane, so the wall time is close to max(longest, sum/n).
func assignLanes(gaps []time.Duration, n int) [][]time.Duration {
	sorted := append([]time.Duration(nil), gaps...)
	for i := 1; i < len(sorted); i++ {
		for j := i; j > 0 && sorted[j] > sorted[j-1]; j-- {
			sorted[j], sorted[j-1] = sorted[j-1], sorted[j]
		}
	}
	lanes := make([][]time.Duration, n)
	load := make([]time.Duration, n)
	for _, g := range sorted {
		best := 0
		for i := range load {
			if load[i] < load[best] {
				best = i
			}
		}
		lanes[best] = append(lanes[best], g)
		load[best] += g
	}
	return lanes
}
