package experiments

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/faas-benchmarker/faas-benchmarker/engine"
	"github.com/faas-benchmarker/faas-benchmarker/functions/lab"
)

// IdleTimeout estimates after how long idle an instance goes cold.
//
// Question: after how long without requests does the platform reclaim an
// instance, so that the next request is a cold start?
//
// Method: a survival curve, not a linear search. A lane is one function
// (default function1, function2, function3: all deployed alike) holding
// `instances` instances, created by a burst behind a barrier; a probe of a
// lane waits `gap` after the lane's last response and sends a burst of
// `instances` requests (each sleeping probe_sleep, so that they overlap and
// every instance is probed once). Each probe request reports whether it
// came back cold (the in-function flag); a cold answer means its instance
// did not survive the gap. Every probe request is stored as the metric
// idle_probe (1 = cold, 0 = warm) with tag gap_s. A probe leaves the lane
// with `instances` freshly used instances, so the next probe of the same
// lane measures its own gap independently. Each probe (and the initial
// burst) is followed at once by a second burst that is all warm, so that
// the lane's instances are released together and each one's idle time
// equals the next gap, whatever mix of cold and warm the probe saw. A lane
// that has already been idle longer than its next gap (waiting for the
// other lanes to finish a round) is refreshed and realigned first.
//
// Phase 1 (phase "grid") probes a geometric grid min_gap, min_gap·factor,
// ... up to max_gap; the gaps are spread over the lanes longest first, so
// the grid costs about max_gap of wall time instead of the sum of the gaps.
// The transition is bracketed by the largest gap whose cold fraction is
// below one half and the smallest gap whose cold fraction is at least one
// half. Phase 2 (phases "refine-<r>") probes one point per lane, evenly
// spaced inside the bracket, all lanes at once, and narrows the bracket,
// until its width is at most precision × its upper end or max_rounds
// rounds were run.
//
// Parameters: functions (function1,function2,function3), instances (3),
// min_gap (1s), max_gap (16s), factor (2), precision (0.05), max_rounds (4),
// probe_sleep (100ms). Defaults suit the local platform (idle timeout 10 s).
// On AWS Lambda use e.g. --set min_gap=1m --set max_gap=64m (a few hours:
// the log shows each round and the time left), on Azure Consumption
// min_gap=1m max_gap=32m.
//
// Estimates: idle_timeout_s (middle of the bracket), idle_timeout_s_low and
// idle_timeout_s_high (the bracket: the instance survived the low gap and
// did not survive the high one, by majority), idle_probes (probe
// requests), idle_invocations (all requests, warm-up and realignment
// included), idle_probe_time_s (wall time spent), idle_rounds. When no
// grid gap went cold only idle_timeout_s_low (= max_gap) is given; when the
// smallest did, only idle_timeout_s_high.
//
// The gap is measured from the client's receipt of the previous response to
// the next send; the platform's idle time is longer by the delivery of that
// response and of the probe request. The bracket is shifted by that round
// trip, estimated as the median of (client latency − handler time) of the
// warm requests (idle_gap_overhead_ms); the idle_probe metrics keep the
// nominal gaps.
//
// Known limits: the round-trip correction also contains the platform's own
// hops to and from the function (tens of µs locally, a few ms in clouds). With a jittered or
// partial eviction the estimate is the median survival time; the full curve
// is in the idle_probe metrics. A platform that evicts on memory pressure
// rather than time shows a flat, noisy curve: read it before the number.
type IdleTimeout struct{}

// Name implements Experiment.
func (IdleTimeout) Name() string { return "idle-timeout" }

// Summary implements Experiment.
func (IdleTimeout) Summary() string {
	return "after how long idle an instance goes cold: survival curve on a geometric grid, refined by bisection"
}

// Params implements Experiment.
func (IdleTimeout) Params() []Param {
	return []Param{
		ListParam("functions", "function1,function2,function3", "one probe lane per function (deployed alike)").Required(),
		IntParam("instances", "3", "independent instances probed per gap in each lane").AtLeast(1),
		DurationParam("min_gap", "1s", "smallest idle gap of the grid").Above(0),
		DurationParam("max_gap", "16s", "largest idle gap of the grid (must exceed the idle timeout)").Above(0),
		FloatParam("factor", "2.0", "ratio between grid gaps").Above(1),
		FloatParam("precision", "0.05", "stop refining when the bracket is at most this fraction of its upper end").Above(0),
		IntParam("max_rounds", "4", "most refinement rounds").AtLeast(0),
		DurationParam("probe_sleep", "100ms", "handler sleep of a probe, so a burst's requests overlap").AtLeast(0).Seconds(),
	}
}

// ValidateParams implements Validator: the grid needs min_gap <= max_gap.
func (IdleTimeout) ValidateParams(p Params) error {
	if lo, hi := p.Duration("min_gap"), p.Duration("max_gap"); lo > hi {
		return fmt.Errorf("min_gap %v is longer than max_gap %v: want min_gap <= max_gap", lo, hi)
	}
	return nil
}

// gapObs accumulates the probes of one gap.
type gapObs struct {
	gap        time.Duration
	cold, seen int
}

func (g gapObs) frac() float64 { return float64(g.cold) / float64(g.seen) }

// bracket returns the transition bracket from observations: hi is the
// smallest gap with a cold fraction >= 1/2, lo the largest smaller gap with
// a fraction below 1/2 (0 / false when absent).
func bracket(obs map[time.Duration]*gapObs) (lo, hi time.Duration, haveLo, haveHi bool) {
	gaps := make([]time.Duration, 0, len(obs))
	for g, o := range obs {
		if o.seen > 0 {
			gaps = append(gaps, g)
		}
	}
	slices.Sort(gaps)
	for _, g := range gaps {
		if obs[g].frac() >= 0.5 {
			hi, haveHi = g, true
			break
		}
	}
	for _, g := range gaps {
		if (!haveHi || g < hi) && obs[g].frac() < 0.5 {
			lo, haveLo = g, true
		}
	}
	return lo, hi, haveLo, haveHi
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
	sorted := slices.Clone(gaps)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i] > sorted[j] })
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

// idleLane is one function whose instances are probed.
type idleLane struct {
	fn       string
	lastRecv time.Duration // run offset of the lane's last response
}

// Run implements Experiment.
func (IdleTimeout) Run(ctx context.Context, b *engine.Benchmarker, p Params) (Estimates, error) {
	fns := p.List("functions")
	k := p.Int("instances")
	minGap, maxGap := p.Duration("min_gap"), p.Duration("max_gap")
	factor, precision, maxRounds := p.Float("factor"), p.Float("precision"), p.Int("max_rounds")
	sleep := p.Duration("probe_sleep")
	grid := geometricGrid(minGap, maxGap, factor)
	lanes := make([]*idleLane, len(fns))
	for i, f := range fns {
		lanes[i] = &idleLane{fn: f}
	}
	b.Expect(int64(2 * k * (len(lanes) + len(grid) + maxRounds*len(lanes))))
	req := lab.Request{Sleep: sleep.Seconds()}
	var mu sync.Mutex
	obs := map[time.Duration]*gapObs{}
	probes, invocations := 0, 0
	var overheads []float64 // seconds: client latency − handler time of warm requests
	log := b.Logger()

	// burst sends k overlapping requests on a lane and returns how many came
	// back cold and how many answered at all.
	burst := func(pb *engine.Benchmarker, l *idleLane, gap time.Duration) (cold, seen int, distinct bool) {
		rs := pb.InvokeConcurrently(ctx, l.fn, k, req)
		distinct = distinctInstances(rs) == k
		mu.Lock()
		invocations += len(rs)
		mu.Unlock()
		for _, r := range rs {
			l.lastRecv = max(l.lastRecv, time.Duration(r.Record.SentNS+r.Record.LatencyNS))
			c, known := r.Cold()
			if !r.OK() || !known {
				continue
			}
			seen++
			if !c && r.Response != nil && r.Response.Timing.End > r.Response.Timing.Start {
				o := r.Latency() - time.Duration(r.Response.Timing.End-r.Response.Timing.Start)
				mu.Lock()
				overheads = append(overheads, o.Seconds())
				mu.Unlock()
			}
			v := 0.0
			if c {
				cold++
				v = 1
			}
			if gap > 0 {
				pb.Record(MetricIdleProbe, v, map[string]string{TagGapS: fmtFloat(gap.Seconds()), "function": l.fn})
			}
		}
		return cold, seen, distinct
	}
	// realign sends a second, all-warm burst right after a probe: a probe
	// mixing cold and warm answers releases its instances up to an
	// initialisation apart, which would make the next gap longer for some
	// instances than for others; after an all-warm burst they are released
	// within the burst's send spread of each other.
	//
	// A burst is only independent when its k requests met k distinct
	// instances; when scheduling delays let one instance serve two of them,
	// another instance was not touched, so the realignment is repeated.
	realign := func(pb *engine.Benchmarker, l *idleLane) {
		for try := 0; try < 3 && ctx.Err() == nil; try++ {
			if _, _, distinct := burst(pb, l, 0); distinct {
				return
			}
			log.Warn("idle-timeout: a realignment burst reused an instance; repeating it", "function", l.fn)
		}
	}
	probe := func(pb *engine.Benchmarker, l *idleLane, gap time.Duration) error {
		if b.Elapsed()-l.lastRecv >= gap {
			// The lane has been idle longer than this gap already (it
			// waited for other lanes): refresh its instances first, then
			// realign them, so the probe measures gap and nothing longer.
			burst(b.WithPhase("refresh"), l, 0)
			realign(pb, l)
		}
		if err := b.Sleep(ctx, gap-(b.Elapsed()-l.lastRecv)); err != nil {
			return err
		}
		cold, seen, _ := burst(pb, l, gap)
		realign(pb, l)
		mu.Lock()
		defer mu.Unlock()
		probes += k
		o := obs[gap]
		if o == nil {
			o = &gapObs{gap: gap}
			obs[gap] = o
		}
		o.cold += cold
		o.seen += seen
		log.Info("idle-timeout probe", "function", l.fn, "gap", gap, "cold", cold, "answered", seen)
		return nil
	}
	runLanes := func(phase string, work [][]time.Duration) error {
		pb := b.WithPhase(phase)
		var wg sync.WaitGroup
		errs := make([]error, len(lanes))
		for i, l := range lanes {
			if len(work[i]) == 0 {
				continue
			}
			wg.Go(func() {
				for _, g := range work[i] {
					if err := probe(pb, l, g); err != nil {
						errs[i] = err
						return
					}
				}
			})
		}
		wg.Wait()
		return errors.Join(errs...)
	}
	finish := func(err error, rounds int) (Estimates, error) {
		mu.Lock()
		defer mu.Unlock()
		est := newEstimates()
		est.set("idle_probes", float64(probes))
		est.set("idle_invocations", float64(invocations))
		est.set("idle_probe_time_s", b.Elapsed().Seconds())
		est.set("idle_rounds", float64(rounds))
		lo, hi, haveLo, haveHi := bracket(obs)
		// The platform's idle time is the client's gap plus the delivery of
		// the previous response and of the probe request: one round trip
		// of overhead, estimated from warm requests.
		o := 0.0
		if len(overheads) > 0 {
			o = max(0, median(overheads))
			est.set("idle_gap_overhead_ms", o*1000)
		}
		switch {
		case haveLo && haveHi:
			est.set(EstIdleTimeoutLow, lo.Seconds()+o)
			est.set(EstIdleTimeoutHigh, hi.Seconds()+o)
			est.set(EstIdleTimeout, (lo.Seconds()+hi.Seconds())/2+o)
		case haveHi:
			est.set(EstIdleTimeoutHigh, hi.Seconds()+o)
		case haveLo:
			est.set(EstIdleTimeoutLow, lo.Seconds()+o)
		}
		return est.result(err)
	}

	// Create the lanes' instances.
	wb := b.WithPhase("warmup")
	var wg sync.WaitGroup
	for _, l := range lanes {
		wg.Go(func() { burst(wb, l, 0); realign(wb, l) })
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return finish(err, 0)
	}

	work := assignLanes(grid, len(lanes))
	var eta time.Duration
	for _, w := range work {
		var s time.Duration
		for _, g := range w {
			s += g
		}
		eta = max(eta, s)
	}
	log.Info("idle-timeout grid", "gaps", grid, "lanes", len(lanes), "eta", eta)
	b.ExpectFor(eta)
	if err := runLanes("grid", work); err != nil {
		return finish(err, 0)
	}
	rounds := 0
	for ; rounds < maxRounds; rounds++ {
		mu.Lock()
		lo, hi, haveLo, haveHi := bracket(obs)
		mu.Unlock()
		if !haveHi || !haveLo || float64(hi-lo) <= precision*float64(hi) {
			break
		}
		pts := make([][]time.Duration, len(lanes))
		for i := range lanes {
			pts[i] = []time.Duration{lo + (hi-lo)*time.Duration(i+1)/time.Duration(len(lanes)+1)}
		}
		log.Info("idle-timeout refinement", "round", rounds+1, "bracket_low", lo, "bracket_high", hi,
			"round_eta", pts[len(pts)-1][0], "elapsed", b.Elapsed().Round(time.Second))
		b.ExpectFor(pts[len(pts)-1][0])
		if err := runLanes(fmt.Sprintf("refine-%d", rounds+1), pts); err != nil {
			return finish(err, rounds)
		}
	}
	res, err := finish(nil, rounds)
	if _, ok := res[EstIdleTimeout]; !ok {
		if v, ok := res[EstIdleTimeoutLow]; ok && math.Abs(v-maxGap.Seconds()) < 1e-9 {
			log.Warn("idle-timeout: every grid gap came back warm; raise max_gap", "max_gap", maxGap)
		}
	}
	return res, err
}
