package experiments

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"time"

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
}

// idleObservation is one instance's fate over one idle gap.
type idleObservation struct {
	gap      time.Duration // client gap: probe send − the instance's last response
	evicted  bool
	instance string
	lane     int
	burst    int // the probe that made it (1, 2, ...): its cluster
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
	probes  int // probe requests sent
	seq     int // adaptive probes placed
	fit     *survival.CurrentStatus
	fitN    int // observations in fit
	median  survival.Estimate
	reason  string // why the design stopped ("" while running)
	rng     *rand.Rand
}

func newPlanner(d idleDesign) *planner {
	p := &planner{d: d, grid: assignLanes(geometricGrid(d.minGap, d.maxGap, d.factor), len(d.functions)),
		rng: rand.New(rand.NewPCG(d.seed, 0x1d1e))}
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
)

// add records the observations of one answered probe.
func (p *planner) add(obs []idleObservation, wasGrid bool) {
	if wasGrid {
		p.pending--
	}
	for _, o := range obs {
		// Kept sorted by gap, so that refitting does not sort.
		x := survival.Observation{Gap: o.gap.Seconds(), Event: o.evicted, Cluster: o.burst}
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
	m := p.median
	return p.fit != nil && m.Bounded() && (m.High-m.Low)/2 <= p.d.precision*m.Value
}

// next returns the gap of lane's next probe, whether it is a grid probe,
// and false when the lane is done. now is the run time.
func (p *planner) next(lane int, now time.Duration) (gap time.Duration, grid, ok bool) {
	switch {
	case p.reason != "":
		return 0, false, false
	case p.probes+p.d.instances > p.d.maxProbes:
		p.reason = stopProbes
		return 0, false, false
	case p.pending == 0 && p.precise() && p.refit() && p.precise():
		p.reason = stopPrecision
		return 0, false, false
	}
	if q := p.grid[lane]; len(q) > 0 {
		gap, grid = q[0], true
		p.grid[lane] = q[1:]
	} else {
		lo, hi := p.region()
		u := p.rng.Float64()
		p.seq++
		span := hi - lo - p.stagger(lo, hi)
		gap = lo + time.Duration(u*float64(max(span, 0)))
	}
	if now+gap >= p.d.maxTime {
		// The probe would end after the time budget: the design stops
		// (the other lanes finish the probes they have in flight).
		p.reason = stopTime
		return 0, false, false
	}
	p.probes += p.d.instances
	return gap, grid, true
}

// region is where adaptive probes go: alternately the median's interval,
// and the stretch from the fitted 5% point to the 95% point joined with it;
// unbounded ends fall back to the grid's ends.
func (p *planner) region() (lo, hi time.Duration) {
	lo, hi = p.d.minGap, p.d.maxGap
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

// stagger returns the spread of release times for a lane's next burst:
// a fraction of the gaps being probed, at most max_stagger and at most half
// the region probed, so that one burst measures several different gaps
// and its instances do not share the phase of a periodic sweeper.
func (p *planner) stagger(lo, hi time.Duration) time.Duration {
	return min(p.d.maxStagger, time.Duration(p.d.stagger*float64(hi)), (hi-lo)/2)
}

// nextSleeps returns the handler sleeps of the burst a lane sends now:
// probe_sleep, plus a random delay common to the burst (uniform up to the
// stagger of the gaps being probed), plus the burst's own stagger. The
// common delay moves each burst's release to a random phase of whatever
// periodic process the platform runs, so that successive probes do not
// keep meeting a sweeper at the same phase.
func (p *planner) nextSleeps(lane int) []time.Duration {
	var spread, dither time.Duration
	if q := p.grid[lane]; len(q) > 0 {
		spread = min(p.d.maxStagger, time.Duration(p.d.stagger*float64(q[0])))
		dither = spread
	} else {
		lo, hi := p.region()
		spread = p.stagger(lo, hi)
		dither = min(p.d.maxStagger, time.Duration(p.d.stagger*float64(hi)))
	}
	delay := time.Duration(p.rng.Float64() * float64(dither))
	s := make([]time.Duration, p.d.instances)
	for i := range s {
		s[i] = p.d.probeSleep + delay
		if len(s) > 1 {
			s[i] += spread * time.Duration(i) / time.Duration(len(s)-1)
		}
	}
	return s
}

// idleLane is one function whose instances are probed.
type idleLane struct {
	fn        string
	instances map[string]time.Duration // id → last response received
	inFlight  bool
	wasGrid   bool // the burst in flight is a grid probe
	probing   bool // the burst in flight is a probe (not the warm-up)
	due       time.Duration
	done      bool
}

// idleRun is the outcome of running the design.
type idleRun struct {
	obs         []idleObservation
	fit         *survival.CurrentStatus
	invocations int
	probes      int
	overheads   []float64 // seconds: client latency − handler time of warm answers
	elapsed     time.Duration
	reason      string
}

// runIdleDesign drives the design on env until it stops, ctx ends or env
// fails. record, when not nil, is told every observation as it is made.
func runIdleDesign(ctx context.Context, env probeEnv, d idleDesign, record func(o idleObservation, l *idleLane, phase string)) (*idleRun, error) {
	pl := newPlanner(d)
	lanes := make([]*idleLane, len(d.functions))
	out := &idleRun{}
	bursts := 0
	for i, fn := range d.functions {
		lanes[i] = &idleLane{fn: fn, instances: map[string]time.Duration{}, inFlight: true}
		env.Send(i, fn, phaseWarmup, pl.nextSleeps(i))
		out.invocations += d.instances
	}
	finish := func(err error) (*idleRun, error) {
		out.fit, out.reason, out.elapsed, out.probes = pl.fit, pl.reason, env.Now(), pl.probes
		return out, err
	}
	for {
		if err := ctx.Err(); err != nil {
			return finish(err)
		}
		now := env.Now()
		nextDue, busy := time.Duration(-1), false
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
				env.Send(i, l.fn, phase, pl.nextSleeps(i))
				out.invocations += d.instances
				busy = true
				continue
			}
			if nextDue < 0 || l.due < nextDue {
				nextDue = l.due
			}
		}
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
		obs := attribute(l, res)
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
			if a.ok && a.known && !a.cold && a.handler > 0 {
				out.overheads = append(out.overheads, (a.received - a.sent - a.handler).Seconds())
			}
		}
		if l.probing {
			pl.add(obs, l.wasGrid)
		}
		gap, grid, ok := pl.next(res.lane, env.Now())
		if !ok {
			l.done = true
			continue
		}
		var last time.Duration
		for _, r := range l.instances {
			last = max(last, r)
		}
		l.due, l.wasGrid = last+gap, grid
	}
}

// attribute turns a burst's answers into one observation per instance the
// lane held before it, by instance id: an old id that answers warm
// survived its gap; one that does not come back was evicted — but only
// when every request was answered by a distinct instance, since otherwise
// an unanswered request may have been the one that would have reached it.
// The lane then holds the instances that answered, released at their
// responses.
func attribute(l *idleLane, res *burstResult) []idleObservation {
	var obs []idleObservation
	seen := map[string]probeAnswer{}
	first := time.Duration(-1)
	complete := true
	for _, a := range res.answers {
		if first < 0 || a.sent < first {
			first = a.sent
		}
		if !a.ok || a.instance == "" {
			complete = false
			continue
		}
		if _, dup := seen[a.instance]; dup {
			complete = false
		}
		seen[a.instance] = a
	}
	ids := make([]string, 0, len(l.instances))
	for id := range l.instances {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		rel := l.instances[id]
		if a, ok := seen[id]; ok {
			obs = append(obs, idleObservation{gap: a.sent - rel, evicted: a.known && a.cold, instance: id})
		} else if complete {
			obs = append(obs, idleObservation{gap: first - rel, evicted: true, instance: id})
		}
	}
	l.instances = map[string]time.Duration{}
	for id, a := range seen {
		l.instances[id] = a.received
	}
	return obs
}

// idleEstimates are the design's answers, in seconds of platform idle time
// (the client's gaps plus the round-trip overhead).
type idleEstimates struct {
	median, warm, cold survival.Estimate
	overhead           float64
}

// estimateIdle computes the three estimates of run, shifted by the round
// trip between the client's gap and the platform's idle time.
func estimateIdle(run *idleRun, level float64) (idleEstimates, error) {
	var e idleEstimates
	if run.fit == nil {
		return e, fmt.Errorf("idle-timeout: no observation was made")
	}
	if len(run.overheads) > 0 {
		e.overhead = max(0, median(run.overheads))
	}
	shift := func(x survival.Estimate) survival.Estimate {
		x.Value += e.overhead
		if x.LowFound {
			x.Low += e.overhead
		}
		x.High += e.overhead
		return x
	}
	e.median = shift(run.fit.Quantile(0.5, level))
	e.warm = shift(run.fit.Quantile(0.05, level))
	e.cold = shift(run.fit.Quantile(0.95, level))
	return e, nil
}
