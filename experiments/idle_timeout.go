package experiments

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/faas-benchmarker/faas-benchmarker/engine"
	"github.com/faas-benchmarker/faas-benchmarker/stats/survival"
)

// Estimate keys of idle-timeout. Times are seconds of platform idle time;
// a _low or _high key is absent when the data cannot bound that side.
const (
	// KeyIdleTimeout is the median eviction time, with its 95% interval.
	KeyIdleTimeout     = "idle_timeout_s"
	KeyIdleTimeoutLow  = "idle_timeout_s_low"
	KeyIdleTimeoutHigh = "idle_timeout_s_high"
	// KeyIdleWarm is the 5% point of the eviction time: the longest gap
	// after which at least 95% of instances are still warm.
	KeyIdleWarm     = "idle_warm_s"
	KeyIdleWarmLow  = "idle_warm_s_low"
	KeyIdleWarmHigh = "idle_warm_s_high"
	// KeyIdleCold is the 95% point: the shortest gap after which at least
	// 95% of instances are cold.
	KeyIdleCold     = "idle_cold_s"
	KeyIdleColdLow  = "idle_cold_s_low"
	KeyIdleColdHigh = "idle_cold_s_high"
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
)

// MetricIdleProbe is the per-instance observation metric of idle-timeout:
// value 1 when the instance was evicted within the gap (the probe came back
// cold), 0 when it answered warm; tags gap_s (the client's gap, seconds),
// instance, lane, burst (the probe that made it, shared fate) and
// function.
const MetricIdleProbe = "idle_probe"

// IdleTimeout estimates after how long idle an instance goes cold.
//
// Question: after how long without requests does the platform reclaim an
// instance — and, where eviction is not a sharp timeout, how long may a
// user rely on a warm instance and after how long is it surely cold?
//
// Method: every probed instance yields its own observation "idle gap g,
// evicted yes/no" (current status data). A lane is one function (default
// function1, function2, function3: deployed alike) holding `instances`
// instances. A probe sends `instances` requests together; an old instance
// id that answers warm survived its gap, one that does not come back was
// evicted (counted only when every request met a distinct instance). The
// requests of a burst sleep probe_sleep plus a stagger (up to `stagger` ×
// the gap, at most max_stagger), so the instances are released at
// different times: one probe measures several gaps, and the instances do
// not share the phase of a periodic sweeper. Each instance's gap is its
// own: probe send − its last response. Every observation is stored as the
// metric idle_probe (1 = evicted; tags gap_s, instance, lane, burst,
// function).
//
// Design: a geometric grid min_gap, min_gap·factor, ... max_gap, spread
// over the lanes longest first; then adaptive probes, alternately inside
// the median's current interval and across the stretch where the fitted
// eviction probability is between 0.05 and 0.95; lanes run concurrently.
// The run stops when the median's interval is within ±precision of it
// (after the grid), or max_probes probe requests or max_time are spent.
//
// Estimator (stats/survival): the nonparametric maximum-likelihood estimate
// of the eviction-time distribution (isotonic regression by pool-adjacent-
// violators) and 95% intervals by likelihood-ratio inversion with the χ²₁
// cutoff; see docs/experiments.md for why these and for their coverage by
// simulation.
//
// Estimates: idle_timeout_s (median) with _low/_high, idle_warm_s (5%
// point) and idle_cold_s (95% point) with theirs, idle_probes,
// idle_observations, idle_invocations, idle_probe_time_s,
// idle_precision_reached, idle_gap_overhead_ms. The client's gap is shorter
// than the platform's idle time by one round trip (the delivery of the
// previous response and of the probe), estimated as the median of (client
// latency − handler time) of warm answers and added to the estimates; the
// metrics keep the client's gaps.
//
// Parameters: see Params; defaults suit the local platform (sharp 10 s).
// On AWS Lambda use e.g. --set min_gap=1m --set max_gap=64m --set
// max_time=8h.
type IdleTimeout struct{}

// Name implements Experiment.
func (IdleTimeout) Name() string { return "idle-timeout" }

// Summary implements Experiment.
func (IdleTimeout) Summary() string {
	return "after how long idle an instance goes cold: per-instance survival probes, adaptive design, median / 5% / 95% eviction times with intervals"
}

// Params implements Experiment. Every parameter of idle-timeout is declared
// here and read in idleParams.
func (IdleTimeout) Params() []Param {
	return []Param{
		{Name: "functions", Default: "function1,function2,function3", Help: "one probe lane per function (deployed alike)"},
		{Name: "instances", Default: "3", Help: "instances per lane, each observed at its own gap by every probe (>= 1)"},
		{Name: "min_gap", Default: "1s", Help: "smallest idle gap of the grid (> 0)"},
		{Name: "max_gap", Default: "16s", Help: "largest idle gap of the grid (>= min_gap; must exceed the eviction times)"},
		{Name: "factor", Default: "2.0", Help: "ratio between grid gaps (> 1)"},
		{Name: "precision", Default: "0.05", Help: "stop when the median's 95% interval is within ± this fraction of it, in (0, 1)"},
		{Name: "max_probes", Default: "400", Help: "budget: most probe requests (>= instances)"},
		{Name: "max_time", Default: "20m", Help: "budget: longest run (> 0)"},
		{Name: "probe_sleep", Default: "100ms", Help: "handler sleep of a probe, so a burst's requests overlap (>= 0)"},
		{Name: "stagger", Default: "0.2", Help: "spread of a burst's release times as a fraction of the gap probed, in [0, 1]"},
		{Name: "max_stagger", Default: "10s", Help: "largest spread of a burst's release times (>= 0; counts as handler time)"},
		{Name: "level", Default: "0.95", Help: "confidence level of every interval, in [0.5, 1)"},
		{Name: "seed", Default: "1", Help: "seed of the design's randomisation (adaptive gaps, release delays)"},
	}
}

// Validate implements Validator: every probing parameter is checked before
// anything starts, with the valid ranges.
func (IdleTimeout) Validate(p Params) error {
	_, err := idleParams(p)
	return err
}

// idleParams reads and checks the parameters.
func idleParams(p Params) (idleDesign, error) {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	dur := func(name string) time.Duration {
		v, err := time.ParseDuration(p.String(name))
		if err != nil {
			bad("%s=%q: want a duration such as 500ms, 10s or 2m", name, p.String(name))
		}
		return v
	}
	num := func(name string) float64 {
		v, err := strconv.ParseFloat(p.String(name), 64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			bad("%s=%q: want a number", name, p.String(name))
		}
		return v
	}
	integer := func(name string) int {
		v, err := strconv.Atoi(p.String(name))
		if err != nil {
			bad("%s=%q: want an integer", name, p.String(name))
		}
		return v
	}
	d := idleDesign{
		functions: p.List("functions"), instances: integer("instances"),
		minGap: dur("min_gap"), maxGap: dur("max_gap"), factor: num("factor"), precision: num("precision"),
		maxProbes: integer("max_probes"), maxTime: dur("max_time"), probeSleep: dur("probe_sleep"),
		stagger: num("stagger"), maxStagger: dur("max_stagger"), level: num("level"), seed: uint64(integer("seed")),
	}
	if len(errs) > 0 {
		return d, oneLine("idle-timeout", errs)
	}
	if len(d.functions) == 0 {
		bad("functions: need at least one function")
	}
	if d.instances < 1 {
		bad("instances=%d: must be >= 1", d.instances)
	}
	if d.minGap <= 0 {
		bad("min_gap=%v: must be > 0", d.minGap)
	}
	if d.maxGap < d.minGap {
		bad("max_gap=%v: must be >= min_gap (%v)", d.maxGap, d.minGap)
	}
	if !(d.factor > 1) {
		bad("factor=%v: must be > 1", d.factor)
	}
	if !(d.precision > 0 && d.precision < 1) {
		bad("precision=%v: must be in (0, 1)", d.precision)
	}
	if d.maxProbes < max(1, d.instances) {
		bad("max_probes=%d: must be >= instances (%d)", d.maxProbes, d.instances)
	}
	if d.maxTime <= 0 {
		bad("max_time=%v: must be > 0", d.maxTime)
	}
	if d.probeSleep < 0 {
		bad("probe_sleep=%v: must be >= 0", d.probeSleep)
	}
	if !(d.stagger >= 0 && d.stagger <= 1) {
		bad("stagger=%v: must be in [0, 1]", d.stagger)
	}
	if d.maxStagger < 0 {
		bad("max_stagger=%v: must be >= 0", d.maxStagger)
	}
	if !(d.level >= 0.5 && d.level < 1) {
		bad("level=%v: must be in [0.5, 1)", d.level)
	}
	if len(errs) > 0 {
		return d, oneLine("idle-timeout", errs)
	}
	return d, nil
}

// Run implements Experiment.
func (IdleTimeout) Run(ctx context.Context, b *engine.Benchmarker, p Params) (Estimates, error) {
	d, err := idleParams(p)
	if err != nil {
		return nil, err
	}
	log := b.Logger()
	grid := geometricGrid(d.minGap, d.maxGap, d.factor)
	var eta time.Duration
	for _, w := range assignLanes(grid, len(d.functions)) {
		var s time.Duration
		for _, g := range w {
			s += g
		}
		eta = max(eta, s)
	}
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
	obsN := 0
	run, runErr := runIdleDesign(ctx, env, d, func(o idleObservation, l *idleLane, phase string) {
		v := 0.0
		if o.evicted {
			v = 1
		}
		obsN++
		phases[phase].Record(MetricIdleProbe, v, map[string]string{
			"gap_s": fmtFloat(o.gap.Seconds()), "instance": o.instance, "lane": strconv.Itoa(o.lane), "burst": strconv.Itoa(o.burst), "function": l.fn,
		})
		log.Debug("idle-timeout observation", "function", l.fn, "instance", o.instance, "gap", o.gap, "evicted", o.evicted)
	})
	env.close()
	est := Estimates{
		KeyIdleProbes: float64(run.probes), KeyIdleObservations: float64(len(run.obs)),
		KeyIdleInvocations: float64(run.invocations), KeyIdleProbeTime: run.elapsed.Seconds(),
	}
	est[KeyIdlePrecisionReached] = 0
	ie, err := estimateIdle(run, d.level)
	if err != nil {
		return est, errors.Join(runErr, err)
	}
	// Judged on the reported interval (probes still in flight when the
	// design stopped are in it), not on the design's last look.
	if m := ie.median; m.Bounded() && (m.High-m.Low)/2 <= d.precision*m.Value {
		est[KeyIdlePrecisionReached] = 1
	}
	est.set(KeyIdleGapOverhead, ie.overhead*1000)
	putEstimate(est, KeyIdleTimeout, KeyIdleTimeoutLow, KeyIdleTimeoutHigh, ie.median)
	putEstimate(est, KeyIdleWarm, KeyIdleWarmLow, KeyIdleWarmHigh, ie.warm)
	putEstimate(est, KeyIdleCold, KeyIdleColdLow, KeyIdleColdHigh, ie.cold)
	log.Info("idle-timeout done", "stop", run.reason, "observations", len(run.obs), "median", ie.median.Value,
		"median_low", ie.median.Low, "median_high", ie.median.High, "warm", ie.warm.Value, "cold", ie.cold.Value)
	if !ie.median.HighFound {
		log.Warn("idle-timeout: too few instances were evicted by max_gap to bound the median; raise max_gap", "max_gap", d.maxGap)
	}
	return est, runErr
}

// Burst phases of idle-timeout.
const (
	phaseWarmup   = "warmup"
	phaseGrid     = "grid"
	phaseAdaptive = "adaptive"
)

// putEstimate stores e under key with its interval: the low end is 0 when
// the data cannot bound it from below (always valid), the high end absent
// when they cannot bound it from above.
func putEstimate(est Estimates, key, lowKey, highKey string, e survival.Estimate) {
	if e.Found() {
		est.set(key, e.Value)
	}
	est.set(lowKey, e.Low)
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
