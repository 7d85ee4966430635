package experiments

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"time"

	"github.com/faas-benchmarker/faas-benchmarker/stats"
	"github.com/faas-benchmarker/faas-benchmarker/stats/survival"
)

// This file is the idle-timeout design: where and when to probe (the
// planner) and how a probe's answers become per-instance observations (the
// lanes), written against probeEnv so that the same code runs on a real
// platform (idle_env.go) and on a simulated platform with a simulated clock
// (the coverage tests). The estimator is stats/survival.

// probeEnv is what the design needs from a platform and a clock.
type probeEnv interface {
	// Now is the time since the run started.
	Now() time.Duration
	// Send starts a burst on lane: len(sleeps) requests to fn released
	// together, request i asking the handler to sleep sleeps[i], recorded
	// under phase. Its answers arrive through Wait.
	Send(lane int, fn, phase string, sleeps []time.Duration)
	// Wait returns the next finished burst, or nil once the run time until
	// is reached first (until < 0: no limit).
	Wait(ctx context.Context, until time.Duration) (*burstResult, error)
}

// burstResult is one finished burst.
type burstResult struct {
	lane    int
	answers []probeAnswer
}

// probeAnswer is one request of a burst, on the client's clock.
type probeAnswer struct {
	ok             bool
	instance       string
	cold, known    bool          // in-function cold flag
	sent, received time.Duration // run offsets
	handler        time.Duration // handler time reported by the function (0: unknown)
	// invoked is the platform's own duration of the invocation (Lambda's
	// REPORT Duration: from the event's delivery to the runtime until its
	// response; 0 when the platform reports none), init its REPORT Init
	// Duration (a cold start; 0: none).
	invoked, init time.Duration
}

// inFlight is the part of an answer's client latency outside the
// instance's initialisation and invocation: the request's way to the
// platform until it took an instance (or found none idle), plus the
// response's way back after the instance was released (idle again). Each
// of the two is at most inFlight. The platform's REPORT durations bound
// the invocation where they are known; otherwise the handler time, which
// leaves the runtime's own work (fetching the event, posting the
// response) and a cold start's initialisation in the result — still a
// bound, a looser one. ok is false when neither is known.
func (a probeAnswer) inFlight() (time.Duration, bool) {
	var in time.Duration
	switch {
	case a.invoked > 0:
		in = a.invoked + a.init
	case a.handler > 0:
		in = a.handler
	default:
		return 0, false
	}
	return max(0, a.received-a.sent-in), true
}

// idleTime returns the platform idle time an observation at client gap
// gap stands for: gap + back + fwd, back the delivery of the response that
// released the instance, fwd the way of the burst's requests to the
// platform. Each is at most its request's in-flight time (held.back; fwd
// is given as the burst's median in-flight time); the estimate takes half
// of each, the middle of what the delays allow, and the run's intervals
// are widened by the median of that half (estimateIdle). The rule is the
// same for a warm and an evicted instance: an inspection time that
// depended on the outcome — a survival at its gap, an eviction at the gap
// plus both bounds — would bias the fit (all survivors at one gap fall
// before all evictions there, a transition the data never showed). One
// shift by the run's median round trip instead missed a sharp timeout
// under load, where a few requests' delays were hundreds of ms longer
// than the median.
func idleTime(gap time.Duration, held *heldInstance, fwd time.Duration) time.Duration {
	return gap + (held.back+fwd)/2
}

// idleObservation is one instance's fate over one idle gap.
type idleObservation struct {
	gap time.Duration // client gap: probe send − the instance's last response
	// idle is the platform idle time the estimates use (idleTime).
	idle     time.Duration
	evicted  bool
	instance string
	lane     int
	burst    int // the probe that made it (1, 2, ...): its cluster
	// first marks the instance's first idle period after it served a
	// request: the only observations the estimate uses (see attribute).
	first bool
	// recheck marks a later observation at a gap no longer than one the
	// instance already survived: under persistent per-instance eviction
	// times it cannot be an eviction (the persistence check).
	recheck bool
}

// idleDesign holds the probing parameters (validated by idleParams).
type idleDesign struct {
	functions  []string
	instances  int
	minGap     time.Duration
	maxGap     time.Duration
	factor     float64
	precision  float64
	maxProbes  int
	maxTime    time.Duration
	probeSleep time.Duration
	stagger    float64
	maxStagger time.Duration
	// level is the confidence level of every interval.
	level float64
	// seed seeds the design's randomisation (adaptive gaps, release
	// delays): a pure function of it and the observations.
	seed uint64
}

// level is the default confidence level of intervals.
const level = 0.95

// planner decides the gap of every probe: a geometric grid first, spread
// over the lanes longest first, then adaptive probes where the fitted
// eviction probability is between 0.05 and 0.95 and inside the median's
// interval; it stops when the median's interval is within ±precision or a
// budget is spent. It is pure: observations and the time in, decisions
// out.
type planner struct {
	d       idleDesign
	grid    [][]time.Duration // per lane, in order
	pending int               // grid probes not yet answered
	obs     []survival.Observation
	probes  int             // probe requests sent
	minGap  time.Duration   // smallest gap planned (the grid shrinks it)
	maxGap  time.Duration   // largest gap planned (the grid grows it)
	seq     int             // adaptive probes placed
	spread  []time.Duration // per lane: the release spread of its next burst
	fit     *survival.CurrentStatus
	fitN    int // observations in fit
	median  survival.Estimate
	reason  string // why the design stopped ("" while running)
	rng     *rand.Rand
}

func newPlanner(d idleDesign) *planner {
	p := &planner{d: d, grid: assignLanes(geometricGrid(d.minGap, d.maxGap, d.factor), len(d.functions)),
		rng: rand.New(rand.NewPCG(d.seed, 0x1d1e)), minGap: d.minGap, maxGap: d.maxGap, spread: make([]time.Duration, len(d.functions))}
	for i, g := range p.grid {
		if len(g) > 0 {
			p.spread[i] = p.gridSpread(g[0])
		}
	}
	for _, g := range p.grid {
		p.pending += len(g)
	}
	return p
}

// Stop reasons.
const (
	stopPrecision = "precision"
	stopProbes    = "max_probes"
	stopTime      = "max_time"
	// stopHeld: every lane holds maxHeld·instances instances (those kept
	// past the longest gaps accumulate) and asks no more; no budget ran
	// out and the precision was not reached.
	stopHeld = "max_held"
)

// add records the observations of one answered probe; only first idle
// periods enter the fit.
func (p *planner) add(obs []idleObservation, wasGrid bool) {
	if wasGrid {
		p.pending--
	}
	for _, o := range obs {
		if !o.first {
			continue
		}
		// Kept sorted by gap, so that refitting does not sort.
		x := survival.Observation{Gap: o.idle.Seconds(), Event: o.evicted, Cluster: o.burst}
		i, _ := slices.BinarySearchFunc(p.obs, x.Gap, func(a survival.Observation, g float64) int { return cmp.Compare(a.Gap, g) })
		for i < len(p.obs) && p.obs[i].Gap == x.Gap {
			i++
		}
		p.obs = slices.Insert(p.obs, i, x)
	}
	// Refit when the data grew by 5 % (at least one burst) since the last
	// fit: decisions on a slightly older fit cost nothing measurable, and
	// refitting after every burst made the design quadratic in its length.
	if len(p.obs) == 0 || (p.fit != nil && len(p.obs)-p.fitN < max(len(obs), len(p.obs)/20)) {
		return
	}
	p.refit()
}

// refit fits the observations now (before stopping on a possibly stale
// fit) and reports whether it could.
func (p *planner) refit() bool {
	if len(p.obs) == 0 {
		return false
	}
	if p.fitN == len(p.obs) {
		return true
	}
	fit, err := survival.FitCurrentStatus(p.obs)
	if err != nil { // gaps are finite and >= 0 by construction
		return false
	}
	p.fit, p.fitN = fit, len(p.obs)
	p.median = fit.Quantile(0.5, p.d.level)
	return true
}

// precise reports whether the median's interval is within ±precision.
func (p *planner) precise() bool {
	return p.fit != nil && precise(p.median, p.d.precision)
}

// sharedSlack is how much wider than ±precision the median's interval may
// be, computed as if every burst's instances shared one fate, for the
// design to stop on precision where the data separate cleanly
// (sharedPrecise).
const sharedSlack = 2.0

// sharedPrecise is a condition of the precision stop: where the fit is 0
// or 1 at every gap inside the median's interval (the data separate
// cleanly there), the median's interval must be within
// ±sharedSlack·precision also if every burst's instances shared one fate
// (survival.QuantileShared). Where the fit is strictly between 0 and 1
// somewhere inside it, the residuals there estimate the design effect and
// the stop relies on it.
//
// Why: against a sweeper whose period is much longer than a burst's
// release spread (an hour-scale timeout, max_stagger 10 min) a burst's
// instances share their fate, but where the data separate cleanly the
// residuals cannot show it (the estimated design effect is then 1), and a
// run that stopped as soon as its interval looked precise stopped on such
// a fluke: at T = 1 h most misses of the median were runs stopped on
// precision with a design effect of 1. A sharp timeout's data separate
// just as cleanly, so it pays the same price: about 10 % more time to its
// answer (slack 1.5 cost 18 % for about the same coverage;
// docs/experiments.md has the numbers).
func (p *planner) sharedPrecise() bool {
	m := p.median
	for _, s := range p.fit.Steps() {
		if s.Gap >= m.Low && s.Gap <= m.High && s.F > 0 && s.F < 1 {
			return true
		}
	}
	return precise(p.fit.QuantileShared(0.5, p.d.level), sharedSlack*p.d.precision)
}

// precise reports whether e and both ends of its interval exist and the
// interval is within ±precision of e.
func precise(e survival.Estimate, precision float64) bool {
	return e.Bounded() && (e.High-e.Low)/2 <= precision*e.Value
}

// next returns the gap of lane's next probe of n requests, whether it is a
// grid probe, and false when the lane is done. now is the run time.
func (p *planner) next(lane, n int, now time.Duration) (gap time.Duration, grid, ok bool) {
	switch {
	case p.reason != "":
		return 0, false, false
	case p.probes+n > p.d.maxProbes: // n: the most the burst may ask
		p.reason = stopProbes
		return 0, false, false
	case p.pending == 0 && p.precise() && p.refit() && p.precise() && p.sharedPrecise():
		p.reason = stopPrecision
		return 0, false, false
	}
	if len(p.grid[lane]) == 0 && p.pending == 0 {
		p.rescale(lane, now)
	}
	if q := p.grid[lane]; len(q) > 0 {
		gap, grid = q[0], true
		p.grid[lane] = q[1:]
		p.spread[lane] = p.gridSpread(gap)
	} else {
		lo, hi := p.region()
		u := p.rng.Float64()
		var spread time.Duration
		if p.seq%2 == 0 {
			// Inside the median's interval: a narrow spread, for precision.
			spread = min(p.d.maxStagger, time.Duration(p.d.stagger*float64(hi)), (hi-lo)/2)
		} else {
			// Across the 5 %–95 % stretch: releases spread over all of it
			// (at least stagger × its end), so one burst samples the phase
			// of any sweeper whose period makes that stretch.
			spread = min(p.d.maxStagger, max(hi-lo, time.Duration(p.d.stagger*float64(hi))))
		}
		p.seq++
		p.spread[lane] = spread
		gap = lo + time.Duration(u*float64(max(hi-lo-spread, 0)))
	}
	if now+gap >= p.d.maxTime {
		// The probe would end after the time budget: the design stops
		// (the other lanes finish the probes they have in flight).
		p.reason = stopTime
		return 0, false, false
	}
	return gap, grid, true
}

// minGapFloor is how far the grid shrinks min_gap: about a second, the
// shortest idle timeout a platform is plausibly configured with.
const minGapFloor = time.Second

// rescale finds the scale of the eviction times once the planned grid is
// answered: while fewer than half the instances probed at the longest gap
// went cold, it doubles max_gap (within max_time) and probes it on lane;
// when nearly all went cold already at the smallest gap, it halves min_gap
// (down to about a second). So a run started with the wrong range — a
// cloud API served by an emulator with a 2 s timeout, or a platform that
// keeps instances for an hour — still brackets the median.
func (p *planner) rescale(lane int, now time.Duration) {
	if !p.refit() {
		return
	}
	steps := p.fit.Steps()
	first, last := steps[0], steps[len(steps)-1]
	switch {
	case p.fit.F(last.Gap) < 0.5 && now+2*p.maxGap < p.d.maxTime:
		p.maxGap *= 2
		p.grid[lane] = append(p.grid[lane], p.maxGap)
		p.pending++
	case first.F >= 0.95 && p.minGap/2 >= minGapFloor/2 && p.minGap > minGapFloor:
		p.minGap = max(minGapFloor, p.minGap/2)
		p.grid[lane] = append(p.grid[lane], p.minGap)
		p.pending++
	}
}

// region is where adaptive probes go: alternately the median's interval,
// and the stretch from the fitted 5% point to the 95% point joined with it;
// unbounded ends fall back to the grid's ends.
func (p *planner) region() (lo, hi time.Duration) {
	lo, hi = p.minGap, p.maxGap
	if p.fit == nil {
		return lo, hi
	}
	sec := func(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }
	m := p.median
	mlo, mhi := lo, hi
	if m.LowFound {
		mlo = max(lo, sec(m.Low))
	}
	if m.HighFound {
		mhi = min(hi, sec(m.High))
	}
	if p.seq%2 == 0 || !m.Found() {
		return mlo, max(mhi, mlo)
	}
	w, c := p.fit.QuantilePoint(0.05), p.fit.QuantilePoint(0.95)
	if !math.IsNaN(w) {
		mlo = max(lo, min(mlo, sec(w)))
	}
	if !math.IsNaN(c) {
		mhi = min(hi, max(mhi, sec(c)))
	} else {
		mhi = hi
	}
	return mlo, max(mhi, mlo)
}

// gridSpread is the release spread of a grid probe at gap g: stagger × g,
// at most max_stagger.
func (p *planner) gridSpread(g time.Duration) time.Duration {
	return min(p.d.maxStagger, time.Duration(p.d.stagger*float64(g)))
}

// nextSleeps returns the handler sleeps of a burst of n requests a lane
// sends now: probe_sleep plus, for every request on its own, a uniform
// random delay up to the spread next chose for the lane's probe.
// Independent release times matter against a periodic sweeper: an
// instance's eviction time is then T plus the wait from its release to the
// next sweep, and only releases spread over the sweep period sample that
// wait — releases at one moment share it. A spread of S samples the phase
// of any sweep period up to S within one burst; longer periods are sampled
// across bursts and lanes (their release times move by the random gaps),
// and the design effect of the interval accounts for what is left
// (docs/experiments.md has the coverage). A burst sent after the design
// stopped (scheduled before) only observes: no probe follows its releases,
// so it sleeps probe_sleep alone and its answer, which the final fit
// keeps, comes back up to max_stagger sooner.
func (p *planner) nextSleeps(lane, n int) []time.Duration {
	s := make([]time.Duration, n)
	for i := range s {
		s[i] = p.d.probeSleep
		if p.reason == "" {
			s[i] += time.Duration(p.rng.Float64() * float64(p.spread[lane]))
		}
	}
	return s
}

// idleLane is one function whose instances are probed.
type idleLane struct {
	fn        string
	instances map[string]*heldInstance // the instances alive at their last release
	inFlight  bool
	wasGrid   bool // the burst in flight is a grid probe
	probing   bool // the burst in flight is a probe (not the warm-up)
	due       time.Duration
	size      int // requests of the next burst
	done      bool
}

// heldInstance is what a lane knows of one of its instances.
type heldInstance struct {
	release  time.Duration // its last response, received
	back     time.Duration // bound on that response's way back (its in-flight time)
	observed bool          // its first idle period was observed
	survived time.Duration // the longest gap it was seen to survive
}

// burstSize is the number of requests of the lane's next burst, sent
// after gap: `instances` more than the held instances expected to be still
// warm then, so that the burst starts `instances` new instances whatever
// the platform evicted (see attribute). The expected number is Σ p_i over
// the held instances, p_i = 1 − F̂(gap_i) under fit, plus two standard
// deviations (at most √Σ p_i) and one, at most all of them; without a fit,
// all of them. Asking every held instance instead would start one new
// instance for every evicted one, and the lane's pool — and the burst's
// concurrency — would grow by `instances` with every burst whatever the
// platform does.
//
// When persistent (the run's rechecks support per-instance eviction times
// for life, persistentEvidence), an instance that already survived a gap
// s is expected warm with (1 − F̂(gap_i)) / (1 − F̂(s)), 1 when gap_i ≤ s
// or F̂ is flat from s to gap_i, and such a certain one adds no variance.
// Why: F̂ is the survival of new instances; the held ones that survived
// earlier bursts are the long-lived ones, and with 30 % never evicted the
// marginal expectation asked for about 0.3 of them while nearly all were
// warm. A burst that asks fewer than are warm starts no new instance, so
// the held ones it did not reach stay unresolved — and those are mostly
// the evicted new ones (a warm one is reached, an evicted one cannot be):
// their first idle period was observed a burst later, at a longer gap,
// only because they were evicted. At cloud scale 57 % of the first idle
// periods pooled for idle_still_warm were such late ones, 5.6 % of them
// warm against 38 % of the others, and the share came out at 0.20 on
// average for a truth of 0.30 (covered in 86 % of runs).
func (l *idleLane) burstSize(instances int, gap time.Duration, fit *survival.CurrentStatus, persistent bool) int {
	if fit == nil {
		return len(l.instances) + instances
	}
	var last time.Duration
	for _, h := range l.instances {
		last = max(last, h.release)
	}
	// Summed in a fixed order (by id): a map's order would make the
	// rounding, and so a seeded run, differ from run to run.
	var e, v float64
	for _, id := range slices.Sorted(maps.Keys(l.instances)) {
		h := l.instances[id]
		p := 1 - fit.F((last + gap - h.release).Seconds())
		certain := false
		if h.survived > 0 && persistent {
			if s := 1 - fit.F(h.survived.Seconds()); s > p {
				p = p / s
			} else {
				p = 1
			}
			certain = p == 1
		}
		e += p
		if !certain {
			v += p
		}
	}
	alive := int(math.Ceil(e + 2*math.Sqrt(v) + 1))
	return min(len(l.instances), alive) + instances
}

// persistentEvidence is how many evictions redrawn eviction times would
// have given among the run's rechecks, none of them evicted, before the
// design sizes bursts for persistent ones (burstSize) — P(none) ≤ e⁻⁸,
// stricter than the e⁻³ of the reported behaviour: a lane whose releases
// keep one phase of a slow sweeper (2T at T = 1 h) looks persistent for a
// while, and at 3 or 5 the switch reshaped enough of those runs to leave
// one more of them without a bounded median, on a row where half have
// none (docs/experiments.md, Shortfalls).
const persistentEvidence = 8

// maxHeld bounds the instances a lane holds, in units of `instances`: a
// lane that holds more is done (never-evicted instances accumulate).
// Twice that once bursts are sized for persistent eviction times: they then
// reach the long-lived instances and start new ones every burst, so the
// pool grows by the long-lived share of them — with 40 % kept past the
// longest gap (the bimodal model at cloud scale) the lanes filled after
// about 5 of 8 hours and the median lost its upper bound in a third of the
// runs (it had one in all but 1 of 200 while bursts reached too few).
const maxHeld = 16

// idleRun is the outcome of running the design.
type idleRun struct {
	obs         []idleObservation
	fit         *survival.CurrentStatus
	invocations int
	probes      int
	overheads   []float64 // seconds: in-flight time of warm answers (probeAnswer.inFlight)
	elapsed     time.Duration
	reason      string
	maxGap      time.Duration // the longest gap planned (the grid may have grown it)
}

// runIdleDesign drives the design on env until it stops, ctx ends or env
// fails. record, when not nil, is told every observation as it is made.
func runIdleDesign(ctx context.Context, env probeEnv, d idleDesign, record func(o idleObservation, l *idleLane, phase string)) (*idleRun, error) {
	pl := newPlanner(d)
	lanes := make([]*idleLane, len(d.functions))
	out := &idleRun{}
	bursts := 0
	var rechecks recheckLog
	for i, fn := range d.functions {
		lanes[i] = &idleLane{fn: fn, instances: map[string]*heldInstance{}, inFlight: true}
		env.Send(i, fn, phaseWarmup, pl.nextSleeps(i, d.instances))
		out.invocations += d.instances
	}
	finish := func(err error) (*idleRun, error) {
		out.fit, out.reason, out.elapsed, out.probes, out.maxGap = pl.fit, pl.reason, env.Now(), pl.probes, pl.maxGap
		if out.reason == "" && err == nil {
			// Every lane ended on its cap: the planner, never asked
			// again, set no reason.
			out.reason = stopHeld
		}
		return out, err
	}
	for {
		if err := ctx.Err(); err != nil {
			return finish(err)
		}
		nextDue, busy := sendDue(env, pl, lanes, out)
		if !busy && nextDue < 0 {
			return finish(nil)
		}
		res, err := env.Wait(ctx, nextDue)
		if err != nil {
			return finish(err)
		}
		if res == nil {
			continue
		}
		l := lanes[res.lane]
		l.inFlight = false
		obs := attribute(l, res, d.instances)
		rechecks.add(obs)
		phase := phaseWarmup
		switch {
		case l.probing && l.wasGrid:
			phase = phaseGrid
		case l.probing:
			phase = phaseAdaptive
		}
		if l.probing {
			bursts++
		}
		for i := range obs {
			obs[i].lane, obs[i].burst = res.lane, bursts
			if record != nil {
				record(obs[i], l, phase)
			}
		}
		out.obs = append(out.obs, obs...)
		for _, a := range res.answers {
			if !a.ok || !a.known || a.cold {
				continue
			}
			if d, ok := a.inFlight(); ok {
				out.overheads = append(out.overheads, d.Seconds())
			}
		}
		if l.probing {
			pl.add(obs, l.wasGrid)
		}
		scheduleNext(pl, l, res.lane, d, rechecks.persistent(pl.fit), env.Now())
	}
}

// recheckLog keeps the run's rechecks for the persistence switch
// (persistent).
type recheckLog struct {
	idles        []float64 // idle times (s) of the rechecks so far
	contradicted bool      // one of them was evicted
}

// add records the rechecks among obs.
func (r *recheckLog) add(obs []idleObservation) {
	for _, o := range obs {
		if o.recheck {
			r.idles = append(r.idles, o.idle.Seconds())
			r.contradicted = r.contradicted || o.evicted
		}
	}
}

// persistent reports whether the rechecks so far support persistent
// eviction times under fit: none evicted where redrawn ones would have
// given persistentEvidence.
func (r *recheckLog) persistent(fit *survival.CurrentStatus) bool {
	if fit == nil || r.contradicted {
		return false
	}
	var expected float64
	for _, g := range r.idles {
		if expected += fit.F(g); expected >= persistentEvidence {
			return true
		}
	}
	return false
}

// scheduleNext plans lane l's next burst — the planner's gap after the
// lane's latest release, sized by burstSize (pers: for persistent eviction
// times) — or marks the lane done when the planner stops or the lane holds
// too many instances to ask them all (maxHeld; twice that when pers).
func scheduleNext(pl *planner, l *idleLane, lane int, d idleDesign, pers bool, now time.Duration) {
	held := maxHeld * d.instances
	if pers {
		held *= 2
	}
	var gap time.Duration
	var grid, ok bool
	if len(l.instances) < held {
		gap, grid, ok = pl.next(lane, len(l.instances)+d.instances, now)
	}
	if !ok {
		l.done = true
		return
	}
	var last time.Duration
	for _, h := range l.instances {
		last = max(last, h.release)
	}
	l.due, l.wasGrid, l.size = last+gap, grid, l.burstSize(d.instances, gap, pl.fit, pers)
	pl.probes += l.size
}

// sendDue sends the burst of every idle lane whose time has come and
// returns the earliest due time of the others (-1: none) and whether a
// burst is in flight.
func sendDue(env probeEnv, pl *planner, lanes []*idleLane, out *idleRun) (nextDue time.Duration, busy bool) {
	now := env.Now()
	nextDue = -1
	for i, l := range lanes {
		if l.done || l.inFlight {
			busy = busy || l.inFlight
			continue
		}
		if l.due <= now {
			l.inFlight, l.probing = true, true
			phase := phaseAdaptive
			if l.wasGrid {
				phase = phaseGrid
			}
			env.Send(i, l.fn, phase, pl.nextSleeps(i, l.size))
			out.invocations += l.size
			busy = true
			continue
		}
		if nextDue < 0 || l.due < nextDue {
			nextDue = l.due
		}
	}
	return nextDue, busy
}

// attribute turns a burst's answers into one observation per instance the
// lane held before it, by instance id: an old id that answers warm
// survived its gap; one that does not come back was evicted — but only
// when every request was answered by a distinct instance, since otherwise
// an unanswered request may have been the one that would have reached it.
// The lane then holds the instances that answered, released at their
// responses.
//
// Only an instance's first idle period is marked first: if a platform
// gives each instance its own eviction time for life (its host, its
// pool), probing survivors again samples long-lived instances more often
// and would tilt the estimate toward them; first periods are a sample of
// new instances under either behaviour. Later observations at a gap the
// instance already survived are marked recheck: an eviction there is
// impossible under persistence (estimateIdle's persistence check).
func attribute(l *idleLane, res *burstResult, fresh int) []idleObservation {
	var obs []idleObservation
	seen := map[string]probeAnswer{}
	complete := true
	for _, a := range res.answers {
		if !a.ok || a.instance == "" {
			complete = false
			continue
		}
		if _, dup := seen[a.instance]; dup {
			complete = false
		}
		seen[a.instance] = a
	}
	// An instance the burst did not meet was evicted if the burst asked
	// every held instance, or if it started a new one: a platform starts
	// an instance only when none is idle. Otherwise it may be idle still
	// (the burst asked fewer than the lane holds): it stays held, its
	// idle period continuing, and is observed by a later burst.
	//
	// Every instance of the burst is observed as of one instant, the
	// burst's first send, with one in-flight time for the probe's way,
	// the burst's median (idleTime): an inspection time that depended on
	// the outcome — a survivor at its own request's send, an evicted one
	// at the send of the request that found no idle instance — would
	// order the ties of a burst by outcome, and the fit would read a
	// transition into the microseconds between them. The error, at most
	// the burst's send spread, is the same for both outcomes.
	first, fwd := burstInstant(res)
	coldStart := false
	for _, a := range seen {
		coldStart = coldStart || (a.known && a.cold)
	}
	exhausted := complete && (len(res.answers) >= len(l.instances) || coldStart)
	held := map[string]*heldInstance{}
	ids := make([]string, 0, len(l.instances))
	for id := range l.instances {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		h := l.instances[id]
		o := idleObservation{instance: id, first: !h.observed}
		if a, ok := seen[id]; ok {
			o.evicted = a.known && a.cold
		} else if exhausted {
			o.evicted = true
		} else {
			held[id] = h
			continue
		}
		o.gap = first - h.release
		o.idle = idleTime(o.gap, h, fwd)
		o.recheck = h.observed && o.gap <= h.survived
		obs = append(obs, o)
		h.observed = true
		if !o.evicted {
			h.survived = max(h.survived, o.gap)
		}
	}
	holdAnswered(l, seen, held, fresh)
	l.instances = held
	return obs
}

// holdAnswered adds to held every instance that answered the burst,
// released at its response: of the new ones, the first fresh start their
// first idle period.
func holdAnswered(l *idleLane, seen map[string]probeAnswer, held map[string]*heldInstance, fresh int) {
	ids := make([]string, 0, len(seen))
	for id := range seen {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		a := seen[id]
		h := l.instances[id]
		switch {
		case a.known && a.cold && fresh > 0:
			// A new instance: its first idle period starts. Exactly
			// `fresh` of them per burst are counted, however many the
			// platform's evictions made the burst start: their number
			// would otherwise depend on whether a sweep just passed, and
			// tilt the sample toward releases right after a sweep.
			h = &heldInstance{}
			fresh--
		case a.known && a.cold:
			h = &heldInstance{observed: true}
		case h == nil:
			// Warm but not held (missed by an incomplete burst): not new.
			h = &heldInstance{observed: true}
		}
		h.release = a.received
		h.back, _ = a.inFlight()
		held[id] = h
	}
}

// burstInstant returns the burst's first send and its requests' median
// in-flight time (0 when none is known).
func burstInstant(res *burstResult) (first, fwd time.Duration) {
	first = -1
	var flights []float64
	for _, a := range res.answers {
		if first < 0 || a.sent < first {
			first = a.sent
		}
		if d, ok := a.inFlight(); ok && a.ok {
			flights = append(flights, d.Seconds())
		}
	}
	if len(flights) > 0 {
		fwd = time.Duration(median(flights) * float64(time.Second))
	}
	return first, fwd
}

// idleEstimates are the design's answers, in seconds of platform idle time
// (each observation at its idleTime).
type idleEstimates struct {
	fit                *survival.CurrentStatus // on every first idle period
	median, warm, cold survival.Estimate
	// medianFlat: the median's interval is wide over a plateau of the fit
	// at ½ (survival.Plateau): the median is a stretch, reported as the
	// interval alone.
	medianFlat bool
	// longest is the longest gap planned (the platform idle time of the
	// observations there is at least that); stillWarm the share of first
	// idle periods at least that long that stayed
	// warm, with its exact interval on the effective sample (bursts as
	// clusters; estimateIdle). Where F is flat beyond it (a share
	// never evicted) that is 1 − F there; the likelihood-ratio interval
	// of F at one point is too narrow on a flat stretch (it covered 75–85 %
	// in simulation).
	longest   float64
	stillWarm stats.Interval
	warmShare float64
	stillN    int
	// overhead is the median in-flight time of warm answers (reported;
	// the fit uses each observation's own, idleTime), resolution the
	// median uncertainty of an observation's idle time, by which the
	// intervals are widened.
	overhead, resolution float64
	// rechecks are the later observations at a gap the instance had
	// already survived, contradictions those of them that were evicted,
	// expected the evictions among them if every idle period drew its
	// eviction time anew (Σ F̂(gap)).
	rechecks, contradictions int
	expected                 float64
}

// shareDesignEffect is the design effect of a share of ys observed in
// clusters: the variance of the clusters' summed residuals
// over the sum of the residuals' variances, clamped to [1, largest
// cluster] — as stats/survival does for the fit.
func shareDesignEffect(ys []bool, clusters []int) float64 {
	if len(ys) == 0 {
		return 1
	}
	p := 0.0
	for _, y := range ys {
		if y {
			p++
		}
	}
	p /= float64(len(ys))
	sums, sizes := map[int]float64{}, map[int]int{}
	var ss float64
	largest := 1
	for i, y := range ys {
		r := -p
		if y {
			r++
		}
		ss += r * r
		sums[clusters[i]] += r
		sizes[clusters[i]]++
		largest = max(largest, sizes[clusters[i]])
	}
	if ss == 0 {
		return 1
	}
	var between float64
	for _, c := range slices.Sorted(maps.Keys(sums)) { // a fixed order: deterministic rounding
		between += sums[c] * sums[c]
	}
	return min(max(between/ss, 1), float64(largest))
}

// widen moves the found ends of e's interval out by r (seconds, the low
// end not below 0) and keeps the value inside.
func widen(e survival.Estimate, r float64) survival.Estimate {
	if e.LowFound {
		e.Low = max(0, e.Low-r)
	}
	if e.HighFound {
		e.High += r
	}
	return e
}

// Behaviours the persistence check can tell apart.
const (
	behaviourRedrawn    = "redrawn"
	behaviourPersistent = "persistent"
	behaviourUnknown    = "undetermined"
)

// behaviour says which eviction behaviour the data support: an instance
// evicted after a gap it had already survived rules out per-instance
// fixed eviction times ("redrawn"); none among rechecks where redrawn
// eviction times would have given at least 3 expected evictions
// (P(none) ≤ e⁻³ = 5 %) supports "persistent"; otherwise the data cannot
// tell.
func (e idleEstimates) behaviour() string {
	switch {
	case e.contradictions > 0:
		return behaviourRedrawn
	case e.expected >= 3:
		return behaviourPersistent
	}
	return behaviourUnknown
}

// estimateIdle fits every first idle period of run, each at its platform
// idle time (idleTime; the final fit: the one all outputs show), and computes
// the estimates.
func estimateIdle(run *idleRun, level, precision float64) (idleEstimates, error) {
	var e idleEstimates
	if len(run.overheads) > 0 {
		e.overhead = max(0, median(run.overheads))
	}
	var obs []survival.Observation
	var halves []float64
	for _, o := range run.obs {
		if o.first {
			obs = append(obs, survival.Observation{Gap: o.idle.Seconds(), Event: o.evicted, Cluster: o.burst})
			halves = append(halves, (o.idle - o.gap).Seconds())
		}
	}
	fit, err := survival.FitCurrentStatus(obs)
	if err != nil {
		return e, fmt.Errorf("idle-timeout: no observation was made")
	}
	e.fit = fit
	// Each observation's idle time is known to within ± its shift
	// (idleTime: the true one lies between the client's gap and the gap
	// plus both in-flight times): the intervals are widened by the
	// median of that resolution — milliseconds on a quiet machine or a
	// cloud, hundreds of ms on a machine loaded far beyond its cores.
	e.resolution = median(halves)
	e.median = widen(fit.Quantile(0.5, level), e.resolution)
	// A median whose interval stayed wide over a plateau of F̂ at ½ is a
	// stretch (partial eviction): reported as its interval alone.
	e.medianFlat = !precise(e.median, precision) && fit.Plateau(0.5, e.median)
	e.warm = widen(fit.Quantile(0.05, level), e.resolution)
	e.cold = widen(fit.Quantile(0.95, level), e.resolution)
	e.longest = run.maxGap.Seconds()
	var warmAt []bool
	var bursts []int
	for _, o := range run.obs {
		if o.first && o.gap >= run.maxGap {
			warmAt, bursts = append(warmAt, !o.evicted), append(bursts, o.burst)
		}
	}
	e.stillN = len(warmAt)
	warm := 0
	for _, w := range warmAt {
		if w {
			warm++
		}
	}
	if e.stillN > 0 {
		e.warmShare = float64(warm) / float64(e.stillN)
	}
	// Exact interval on the effective sample: instances of one burst
	// share their fate under a sweeper, so the counts are divided by the
	// design effect of the bursts (the Wilson interval, on the raw counts,
	// covered 87–89 % in simulation).
	d := shareDesignEffect(warmAt, bursts)
	nEff := int(float64(e.stillN) / d)
	kEff := int(math.Round(float64(warm) / d))
	if warm == e.stillN {
		kEff = nEff
	}
	e.stillWarm = stats.ClopperPearson(min(kEff, nEff), nEff, level)
	for _, o := range run.obs {
		if o.recheck {
			e.rechecks++
			e.expected += fit.F(o.idle.Seconds())
			if o.evicted {
				e.contradictions++
			}
		}
	}
	return e, nil
}
