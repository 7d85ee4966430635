// Package survival estimates distributions of event times from censored
// observations: eviction times of idle instances from probes ("current
// status" data, FitCurrentStatus) and lifetimes of busy instances that may
// still be alive when an experiment ends (right-censored data, KaplanMeier).
//
// It is pure: observations in, estimates out; no clock, no I/O, no
// randomness. Times are plain float64 in any unit (the callers use seconds).
//
// Methods (so the numbers can be reproduced elsewhere):
//
//   - Current status data: each observation says only whether the event
//     time X was at most the observation time (an idle probe after gap g
//     came back cold: X ≤ g) or not. The nonparametric maximum-likelihood
//     estimate of F(t) = P(X ≤ t) is the isotonic regression of the event
//     indicators on the observation times, computed by pool-adjacent-
//     violators (Groeneboom & Wellner 1992).
//   - Quantile intervals for current status data invert the likelihood-ratio
//     test of "F(t) = q" (Banerjee & Wellner, Ann. Statist. 2001): the
//     interval is the hull of the t at which the test does not reject. The
//     cutoff is the χ²₁ quantile (3.84 at 95%), which is the limit when
//     observations are tied on a grid (Tang, Banerjee & Kosorok, Ann.
//     Statist. 2012) and conservative for continuous observation times,
//     where the limit law D has a smaller 95% quantile (2.28). The naive
//     bootstrap is not used: it is inconsistent for this estimator. At the
//     ends of the data that limit does not hold (the isotonic fit's end
//     block is a supremum over running means): whether a quantile lies
//     beyond an end is a multi-scale binomial test with a Bonferroni
//     cutoff instead (EdgeMin).
//   - Clustered observations (Observation.Cluster) get the first-order
//     Rao–Scott correction (Rao & Scott, JASA 1981; Ann. Statist. 1984):
//     the statistic is divided by the design effect, estimated as the
//     variance of the clusters' summed residuals over the sum of the
//     residuals' variances (1 for independent observations, up to the
//     cluster size when a cluster shares one fate), clamped to [1, largest
//     cluster].
//   - Right-censored data: Kaplan–Meier with Greenwood's variance on the
//     log(−log S) scale for pointwise intervals, and quantile intervals by
//     inverting that band (Brookmeyer & Crowley 1982).
package survival

import (
	"errors"
	"fmt"
	"math"
	"slices"
)

// Observation is one current-status observation: at time Gap after the
// start (an instance's release), the event (its eviction) had happened
// (Event) or not. Observations with the same nonzero Cluster were made
// together and may share their fate (instances probed by one burst, which
// a periodic sweeper treats alike); Cluster 0 (or negative) is an
// observation on its own.
type Observation struct {
	Gap     float64
	Event   bool
	Cluster int
}

// Step is the fitted distribution function at one distinct observation
// time: F(t) = P(X ≤ t) for t in [Gap, next Gap), with the observations
// made at Gap.
type Step struct {
	Gap    float64
	F      float64
	N      int // observations at Gap
	Events int // ... of which saw the event
}

// Estimate is a point estimate with its confidence interval. Low is 0 and
// LowFound false when the data cannot bound it from below (the interval
// reaches the smallest time observed); High is +Inf and HighFound false
// when they cannot bound it from above (the largest time observed was not
// long enough). Value is NaN when the point estimate does not exist (the
// fitted F never reaches the level).
type Estimate struct {
	Value     float64
	Low, High float64
	LowFound  bool
	HighFound bool
}

// Found reports whether the point estimate exists.
func (e Estimate) Found() bool { return !math.IsNaN(e.Value) }

// Bounded reports whether the estimate and both ends of its interval exist.
func (e Estimate) Bounded() bool { return e.Found() && e.LowFound && e.HighFound }

// group is the observations at one distinct time t, or, pooled at an edge
// of the data (poolEdges), at the times t through last.
type group struct {
	t, last float64
	ev, n   int
}

// block is a run of groups pooled by pool-adjacent-violators.
type block struct {
	start, end int // groups [start, end)
	ev, n      int
}

func (b block) rate() float64 { return float64(b.ev) / float64(b.n) }

// less reports a.rate() < b.rate() exactly.
func less(a, b block) bool { return a.ev*b.n < b.ev*a.n }

// CurrentStatus is the nonparametric maximum-likelihood fit of current
// status observations. It is immutable and safe for concurrent use.
type CurrentStatus struct {
	groups  []group
	blocks  []block
	fullLL  float64
	deff    float64
	largest int // the largest cluster (1 without clusters)
}

// ErrNoData is returned when there is nothing to fit.
var ErrNoData = errors.New("survival: no observations")

// FitCurrentStatus fits obs. Observation times must be finite and >= 0.
func FitCurrentStatus(obs []Observation) (*CurrentStatus, error) {
	if len(obs) == 0 {
		return nil, ErrNoData
	}
	sorted := slices.Clone(obs)
	for _, o := range sorted {
		if math.IsNaN(o.Gap) || math.IsInf(o.Gap, 0) || o.Gap < 0 {
			return nil, fmt.Errorf("survival: observation time %v must be finite and >= 0", o.Gap)
		}
	}
	if !slices.IsSortedFunc(sorted, byGap) { // callers that keep their data sorted skip the sort
		slices.SortStableFunc(sorted, byGap)
	}
	var gs []group
	for _, o := range sorted {
		if len(gs) == 0 || gs[len(gs)-1].t != o.Gap {
			gs = append(gs, group{t: o.Gap, last: o.Gap})
		}
		g := &gs[len(gs)-1]
		g.n++
		if o.Event {
			g.ev++
		}
	}
	c := &CurrentStatus{groups: gs, blocks: pava(gs)}
	c.fullLL = maxLoglik(c.blocks)
	c.deff = c.designEffect(sorted)
	return c, nil
}

// maxLoglik is the log-likelihood of the isotonic fit with blocks bs.
func maxLoglik(bs []block) float64 {
	var ll float64
	for _, b := range bs {
		ll += loglik(b.ev, b.n, b.rate())
	}
	return ll
}

// EdgeMin is the fewest observations an edge of the data must hold before
// it can bound a quantile: Quantile pools the first observations, and the
// last, into one group of at least EdgeMin each (poolEdges).
//
// Why: observation times are rarely tied (every instance has its own gap),
// so an unconstrained likelihood-ratio test at an end of the data is a
// supremum over how many of the last (first) observations it pools: the
// isotonic fit's last block is the largest of the running means of the
// last 1, 2, 3, ... observations. Three evictions among the last three
// observations (probability 1/8 when F is ½ there) already exceed the χ²
// cutoff, and where F stays near q over much of the data the supremum
// over ever longer stretches keeps rejecting on the wrong side (12.5 % of
// samples with F from 0.4 to 0.5 over all the data; TestQuantileEdges).
// The likelihood-ratio limit holds inside the data, not at its ends. So
// the test that the quantile lies beyond an end (F ≤ q at the last time,
// F ≥ q at the first) is a multi-scale binomial test (endStat): the
// likelihood-ratio statistic of the last EdgeMin, 2·EdgeMin, 4·EdgeMin,
// ... observations each, compared with the χ²₁ cutoff at level α/J for J
// scales (Bonferroni), so that its size is at most α/2 whatever F does
// near the end. Inside the data the end groups stay pooled, which keeps
// the splits next to an end from resting on one or two observations; the
// pooled group stands for its earliest time where it bounds a quantile
// from below (F there is at most the group's mean) and for its latest
// where it bounds it from above.
const EdgeMin = 12

// endScales is the number of scales of the end test with n observations:
// EdgeMin·2^j ≤ n (0 when n < EdgeMin). It depends on n only.
func endScales(n int) int {
	j := 0
	for k := EdgeMin; k <= n; k *= 2 {
		j++
	}
	return j
}

// endStat returns the largest binomial likelihood-ratio statistic of
// "the rate is at most q" (fromEnd: the last observations, the quantile
// lies after them) or "at least q" (the first observations, it lies before
// them) over the end stretches of EdgeMin, 2·EdgeMin, ... observations of
// gs (a stretch ends at a group boundary, so ties may make it longer).
func endStat(gs []group, q float64, fromEnd bool) float64 {
	var stat float64
	ev, n, k := 0, 0, EdgeMin
	for i := range gs {
		g := gs[i]
		if fromEnd {
			g = gs[len(gs)-1-i]
		}
		ev, n = ev+g.ev, n+g.n
		if n < k {
			continue
		}
		stat = max(stat, endLR(group{ev: ev, n: n}, q, fromEnd))
		for k <= n {
			k *= 2
		}
	}
	return stat
}

// poolEdges returns gs with its first groups pooled into one of at least
// k observations, and its last groups into another; all of gs into one
// when there are fewer than 2k observations.
func poolEdges(gs []group, k int) []group {
	pool := func(gs []group) group {
		g := group{t: gs[0].t, last: gs[len(gs)-1].last}
		for _, x := range gs {
			g.ev += x.ev
			g.n += x.n
		}
		return g
	}
	i, n := 0, 0
	for i < len(gs) && n < k {
		n += gs[i].n
		i++
	}
	j, m := len(gs), 0
	for j > i && m < k {
		j--
		m += gs[j].n
	}
	if m < k {
		return []group{pool(gs)}
	}
	out := make([]group, 0, j-i+2)
	out = append(out, pool(gs[:i]))
	out = append(out, gs[i:j]...)
	return append(out, pool(gs[j:]))
}

// designEffect estimates the Rao–Scott design effect of the clusters of
// sorted (see the package documentation).
func (c *CurrentStatus) designEffect(sorted []Observation) float64 {
	fitted := make([]float64, 0, len(sorted))
	for _, b := range c.blocks {
		for i := b.start; i < b.end; i++ {
			for range c.groups[i].n {
				fitted = append(fitted, b.rate())
			}
		}
	}
	// Clusters are small positive integers in practice (probe numbers):
	// index them directly when they are dense, through a map otherwise.
	maxC := 0
	for _, o := range sorted {
		maxC = max(maxC, o.Cluster)
	}
	var ids map[int]int
	if maxC > 4*len(sorted) {
		ids = map[int]int{}
	}
	sums := make([]float64, 0, min(maxC+1, len(sorted)+1))
	sizes := make([]int, 0, cap(sums))
	if ids == nil {
		sums, sizes = make([]float64, maxC+1), make([]int, maxC+1)
	}
	var ss, alone float64
	largest := 1
	for i, o := range sorted {
		r := -fitted[i]
		if o.Event {
			r++
		}
		ss += r * r
		if o.Cluster <= 0 {
			alone += r * r
			continue
		}
		k := o.Cluster
		if ids != nil {
			var ok bool
			if k, ok = ids[o.Cluster]; !ok {
				k = len(sums)
				ids[o.Cluster] = k
				sums, sizes = append(sums, 0), append(sizes, 0)
			}
		}
		sums[k] += r
		sizes[k]++
		largest = max(largest, sizes[k])
	}
	c.largest = largest
	if ss == 0 {
		return 1
	}
	between := alone
	for _, v := range sums {
		between += v * v
	}
	return min(max(between/ss, 1), float64(largest))
}

// DesignEffect returns the estimated design effect by which the
// likelihood-ratio statistic is divided (1 without clusters).
func (c *CurrentStatus) DesignEffect() float64 { return c.deff }

func byGap(a, b Observation) int {
	switch {
	case a.Gap < b.Gap:
		return -1
	case a.Gap > b.Gap:
		return 1
	}
	return 0
}

// pava returns the isotonic (nondecreasing) regression of the groups' event
// rates, weighted by their sizes, as blocks.
func pava(gs []group) []block {
	st := make([]block, 0, len(gs))
	for i, g := range gs {
		b := block{start: i, end: i + 1, ev: g.ev, n: g.n}
		for len(st) > 0 && less(b, st[len(st)-1]) {
			top := st[len(st)-1]
			st = st[:len(st)-1]
			b = block{start: top.start, end: b.end, ev: top.ev + b.ev, n: top.n + b.n}
		}
		st = append(st, b)
	}
	return st
}

// loglik is the Bernoulli log-likelihood of ev events in n trials at
// probability p (0·log 0 = 0).
func loglik(ev, n int, p float64) float64 {
	var ll float64
	if ev > 0 {
		ll += float64(ev) * math.Log(p)
	}
	if n-ev > 0 {
		ll += float64(n-ev) * math.Log1p(-p)
	}
	return ll
}

// N returns the number of observations.
func (c *CurrentStatus) N() int {
	n := 0
	for _, g := range c.groups {
		n += g.n
	}
	return n
}

// Steps returns the fitted F at every distinct observation time, in
// increasing order of time.
func (c *CurrentStatus) Steps() []Step {
	out := make([]Step, 0, len(c.groups))
	for _, b := range c.blocks {
		for i := b.start; i < b.end; i++ {
			g := c.groups[i]
			out = append(out, Step{Gap: g.t, F: b.rate(), N: g.n, Events: g.ev})
		}
	}
	return out
}

// F returns the fitted P(X ≤ t): 0 before the first observation time, the
// step value of the last observation time at or before t otherwise.
func (c *CurrentStatus) F(t float64) float64 {
	f := 0.0
	for _, b := range c.blocks {
		if c.groups[b.start].t > t {
			break
		}
		f = b.rate()
	}
	return f
}

// ChiSquare1 returns the level quantile of the χ² distribution with one
// degree of freedom (3.84 for 0.95): the likelihood-ratio cutoff.
func ChiSquare1(level float64) float64 {
	z := math.Sqrt2 * math.Erfinv(level)
	return z * z
}

// Quantile returns the q-quantile inf{t : F(t) ≥ q} (0 < q < 1) with its
// level confidence interval by likelihood-ratio inversion (see the package
// documentation), computed with the edges of the data pooled and the ends
// tested at several scales (EdgeMin).
//
// The point estimate is placed between the last fitted block below q and
// the first at or above it, by linear interpolation of F across the
// unobserved stretch between them: the jump of the fitted step function
// happens somewhere in that stretch, and for a sharp transition (F from 0
// to 1) this is its middle.
func (c *CurrentStatus) Quantile(q, level float64) Estimate {
	return c.quantile(q, level, c.deff)
}

// QuantileShared is Quantile as if every cluster shared one fate: the
// statistic divided by the largest cluster's size instead of the
// estimated design effect. Where the data separate cleanly the residuals
// cannot show shared fate (the estimated design effect is then 1), and
// this is the interval that holds if it is there.
func (c *CurrentStatus) QuantileShared(q, level float64) Estimate {
	return c.quantile(q, level, max(c.deff, float64(c.largest)))
}

func (c *CurrentStatus) quantile(q, level, deff float64) Estimate {
	est := Estimate{Value: c.pointQuantile(q), High: math.Inf(1)}
	cut := ChiSquare1(level) * deff
	gs := poolEdges(c.groups, EdgeMin)
	lr := splitLR(gs, maxLoglik(pava(gs)), q)
	m := len(gs)
	// The splits beyond an end (t before every observation: F ≥ q
	// everywhere; t after every one: F ≤ q everywhere) take the multi-scale
	// end test (see EdgeMin), rescaled to the common cutoff, instead of the
	// supremum over how far the data stay on one side of q.
	scale := 0.0
	if j := endScales(c.N()); j > 0 {
		scale = cut / (ChiSquare1(1-(1-level)/float64(j)) * deff)
	}
	lr[0], lr[m] = scale*endStat(c.groups, q, false), scale*endStat(c.groups, q, true)
	sLo, sHi := -1, -1
	for s, v := range lr {
		if v <= cut+1e-9 {
			if sLo < 0 {
				sLo = s
			}
			sHi = s
		}
	}
	if sLo > 0 {
		est.Low, est.LowFound = gs[sLo-1].t, true
	}
	if sHi >= 0 && sHi < m {
		est.High, est.HighFound = gs[sHi].last, true
	}
	if est.Found() {
		// The interpolated point lies in an accepted stretch; keep it inside
		// the hull even where rounding says otherwise.
		est.Value = min(max(est.Value, est.Low), est.High)
	}
	return est
}

// PlateauBand is how far from q a fitted level may lie and still count as
// a plateau at q (Plateau).
const PlateauBand = 0.1

// Plateau reports whether the fitted F stays within PlateauBand of q over
// at least half of the quantile's two-sided interval e = Quantile(q, ·):
// the data then show F near q across the interval, as with partial
// eviction 0.5, where every time in [T, 2T) is a median, rather than a
// jump somewhere inside it that too few observations pin down. A smooth F
// passes through q inside its interval too, so a caller asks this only of
// an interval it found wide (idle-timeout: precision not reached). Where
// it holds, a point inside the interval would be one arbitrary choice
// among the values the data allow, and the interval alone is the answer.
func (c *CurrentStatus) Plateau(q float64, e Estimate) bool {
	if !e.LowFound || !e.HighFound || e.High <= e.Low {
		return false
	}
	near := 0.0
	for i, b := range c.blocks {
		if math.Abs(b.rate()-q) > PlateauBand {
			continue
		}
		// F̂ takes the block's level from its first time until the next
		// block's.
		end := e.High
		if i+1 < len(c.blocks) {
			end = min(end, c.groups[c.blocks[i+1].start].t)
		}
		near += max(0, end-max(c.groups[b.start].t, e.Low))
	}
	return near >= (e.High-e.Low)/2
}

// QuantilePoint returns the point estimate of Quantile alone (NaN when the
// fitted F never reaches q), without the interval's cost.
func (c *CurrentStatus) QuantilePoint(q float64) float64 { return c.pointQuantile(q) }

func (c *CurrentStatus) pointQuantile(q float64) float64 {
	prevEnd, prevF := 0.0, 0.0
	for _, b := range c.blocks {
		f := b.rate()
		start := c.groups[b.start].t
		if f >= q {
			if f == prevF {
				return start
			}
			return prevEnd + (start-prevEnd)*(q-prevF)/(f-prevF)
		}
		prevEnd, prevF = c.groups[b.end-1].t, f
	}
	return math.NaN()
}

// splitLR returns, for every split s of the groups gs (groups [0, s) at or
// before t, the rest after it), the likelihood-ratio statistic
// 2·(ℓ̂ − ℓ̂_{F(t)=q}), where ℓ̂ = fullLL is the isotonic fit's and the
// constrained fit is the isotonic fit of the left part capped at q and of
// the right part floored at q (Banerjee & Wellner 2001). O(m log m).
func splitLR(gs []group, fullLL, q float64) []float64 {
	m := len(gs)
	left := make([]float64, m+1)
	right := make([]float64, m+1)
	lq, l1q := math.Log(q), math.Log1p(-q)
	atQ := func(ev, n int) float64 { return float64(ev)*lq + float64(n-ev)*l1q }

	// Prefixes, left to right: a PAVA stack with cumulative sums.
	type cum struct {
		ll    float64
		ev, n int
	}
	st := make([]block, 0, m)
	cs := make([]cum, 1, m+1) // cs[i] = sums over st[:i]
	for i, g := range gs {
		b := block{start: i, end: i + 1, ev: g.ev, n: g.n}
		for len(st) > 0 && less(b, st[len(st)-1]) {
			top := st[len(st)-1]
			st, cs = st[:len(st)-1], cs[:len(cs)-1]
			b = block{start: top.start, end: b.end, ev: top.ev + b.ev, n: top.n + b.n}
		}
		st = append(st, b)
		last := cs[len(cs)-1]
		cs = append(cs, cum{last.ll + loglik(b.ev, b.n, b.rate()), last.ev + b.ev, last.n + b.n})
		// Blocks with rate > q are capped at q: they are a suffix of st.
		k := firstAbove(st, q)
		tot := cs[len(cs)-1]
		left[i+1] = cs[k].ll + atQ(tot.ev-cs[k].ev, tot.n-cs[k].n)
	}

	// Suffixes, right to left: the stack's rates decrease from bottom
	// (rightmost) to top (leftmost); blocks below q are floored at q.
	st = st[:0]
	cs = cs[:1]
	for i := m - 1; i >= 0; i-- {
		g := gs[i]
		b := block{start: i, end: i + 1, ev: g.ev, n: g.n}
		for len(st) > 0 && less(st[len(st)-1], b) {
			top := st[len(st)-1]
			st, cs = st[:len(st)-1], cs[:len(cs)-1]
			b = block{start: b.start, end: top.end, ev: top.ev + b.ev, n: top.n + b.n}
		}
		st = append(st, b)
		last := cs[len(cs)-1]
		cs = append(cs, cum{last.ll + loglik(b.ev, b.n, b.rate()), last.ev + b.ev, last.n + b.n})
		k := firstBelow(st, q)
		tot := cs[len(cs)-1]
		right[i] = cs[k].ll + atQ(tot.ev-cs[k].ev, tot.n-cs[k].n)
	}

	out := make([]float64, m+1)
	for s := range out {
		out[s] = max(0, 2*(fullLL-left[s]-right[s]))
	}
	return out
}

// endLR is the likelihood-ratio statistic of "the rate of g is at most q"
// (above) or "at least q" (!above) against the unconstrained rate: 0 when
// g's rate is on the hypothesis' side.
func endLR(g group, q float64, above bool) float64 {
	r := float64(g.ev) / float64(g.n)
	if (above && r <= q) || (!above && r >= q) {
		return 0
	}
	return max(0, 2*(loglik(g.ev, g.n, r)-loglik(g.ev, g.n, q)))
}

// firstAbove returns the index of the first block of the increasing stack
// st whose rate exceeds q (len(st) if none).
func firstAbove(st []block, q float64) int {
	lo, hi := 0, len(st)
	for lo < hi {
		mid := (lo + hi) / 2
		if st[mid].rate() > q {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return lo
}

// firstBelow returns the index of the first block of the decreasing stack
// st whose rate is below q (len(st) if none).
func firstBelow(st []block, q float64) int {
	lo, hi := 0, len(st)
	for lo < hi {
		mid := (lo + hi) / 2
		if st[mid].rate() < q {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return lo
}

// lrAt returns the likelihood-ratio statistic for F(t) = theta where t
// lies after the first s groups, computed directly (used for the band).
func (c *CurrentStatus) lrAt(s int, theta float64) float64 {
	var ll float64
	for _, b := range pava(c.groups[:s]) {
		ll += loglik(b.ev, b.n, min(b.rate(), theta))
	}
	for _, b := range pava(c.groups[s:]) {
		ll += loglik(b.ev, b.n, max(b.rate(), theta))
	}
	return max(0, 2*(c.fullLL-ll))
}

// BandPoint is a pointwise confidence interval for F at one time.
type BandPoint struct {
	Gap       float64
	F         float64
	Low, High float64
}

// Band returns pointwise level confidence intervals for F at every distinct
// observation time (at most maxPoints of them, evenly spread by index; 0
// means all), by inverting the same likelihood-ratio test in θ.
func (c *CurrentStatus) Band(level float64, maxPoints int) []BandPoint {
	cut := ChiSquare1(level) * c.deff
	m := len(c.groups)
	idx := make([]int, 0, m)
	if maxPoints <= 0 || maxPoints >= m {
		for i := range m {
			idx = append(idx, i)
		}
	} else {
		for k := range maxPoints {
			idx = append(idx, k*(m-1)/max(1, maxPoints-1))
		}
		idx = slices.Compact(idx)
	}
	out := make([]BandPoint, 0, len(idx))
	for _, i := range idx {
		out = append(out, c.bandAt(i, cut))
	}
	return out
}

// bandAt is the interval for F at the time of group i, with cutoff cut.
func (c *CurrentStatus) bandAt(i int, cut float64) BandPoint {
	f := c.F(c.groups[i].t)
	s := i + 1 // t = groups[i].t: groups [0, i] are at or before it
	accept := func(th float64) bool { return c.lrAt(s, th) <= cut }
	lo := bisect(0, f, accept, true)
	hi := bisect(f, 1, accept, false)
	return BandPoint{Gap: c.groups[i].t, F: f, Low: lo, High: hi}
}

// bisect finds the boundary of the accepted set inside [a, b]: with
// fromBelow, the smallest accepted θ (accepted at b); otherwise the largest
// accepted θ (accepted at a). The LR statistic is convex in θ, so the
// accepted set is an interval.
func bisect(a, b float64, ok func(float64) bool, fromBelow bool) float64 {
	if fromBelow && ok(a) {
		return a
	}
	if !fromBelow && ok(b) {
		return b
	}
	for range 40 {
		mid := (a + b) / 2
		if ok(mid) == fromBelow {
			b = mid
		} else {
			a = mid
		}
	}
	if fromBelow {
		return b
	}
	return a
}
