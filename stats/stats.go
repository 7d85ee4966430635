// Package stats holds the small set of statistics faas-benchmarker reports:
// percentiles, medians (and other quantiles) with non-parametric confidence
// intervals by order statistics, empirical CDFs, binomial proportions with
// Wilson intervals, and a one-call Summarize.
//
// Definitions (so numbers can be reproduced elsewhere):
//
//   - Percentile uses the "type 7" definition of Hyndman & Fan (1996): linear
//     interpolation between order statistics at h = (n-1)p. It is the default
//     of R's quantile(), NumPy's percentile() and pandas' quantile(), so
//     users of exported data get the same numbers in their notebooks.
//   - QuantileCI / MedianCI give the distribution-free confidence interval
//     by order statistics (Le Boudec, "Performance Evaluation of Computer
//     and Communication Systems", 2010, Thm 2.1 / Table A.1): with B ~
//     Binomial(n, p), the interval [x(j), x(k)] (1-based order statistics)
//     where j is the largest index with P(B <= j-1) <= α/2 and k the
//     smallest with P(B >= k) <= α/2. Its coverage is at least the requested
//     level; it needs no assumption about the distribution (latencies are
//     heavy-tailed, so no normal approximation of the data is used).
//   - ECDF is the right-continuous empirical CDF F(x) = #{xi <= x}/n.
//
// All functions that take "sorted" data expect it sorted ascending and
// contain no NaN; Sorted makes such a copy.
package stats

import (
	"math"
	"slices"
)

// Sorted returns an ascending copy of xs with NaN values removed.
func Sorted(xs []float64) []float64 {
	out := make([]float64, 0, len(xs))
	for _, x := range xs {
		if !math.IsNaN(x) {
			out = append(out, x)
		}
	}
	slices.Sort(out)
	return out
}

// Percentile returns the p-quantile (0 <= p <= 1) of ascending data by the
// type-7 definition (linear interpolation at h = (n-1)p). It returns NaN for
// empty data; p is clamped to [0, 1].
func Percentile(sorted []float64, p float64) float64 {
	n := len(sorted)
	if n == 0 || math.IsNaN(p) {
		return math.NaN()
	}
	p = math.Max(0, math.Min(1, p))
	h := float64(n-1) * p
	lo := int(math.Floor(h))
	if lo >= n-1 {
		return sorted[n-1]
	}
	frac := h - float64(lo)
	if frac == 0 {
		return sorted[lo]
	}
	return sorted[lo] + frac*(sorted[lo+1]-sorted[lo])
}

// Median returns the median of ascending data (type 7: the mean of the two
// middle values for even n). NaN for empty data.
func Median(sorted []float64) float64 { return Percentile(sorted, 0.5) }

// Mean returns the arithmetic mean (NaN for empty data).
func Mean(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	var s float64
	for _, x := range xs {
		s += x
	}
	return s / float64(len(xs))
}

// Interval is a confidence interval. OK is false when the sample is too
// small for the requested confidence (then Low and High are NaN).
type Interval struct {
	Low, High float64
	// Level is the requested confidence level (e.g. 0.95).
	Level float64
	// Coverage is the exact coverage of the order-statistic interval
	// (>= Level when OK); for Wilson intervals it equals Level.
	Coverage float64
	OK       bool
}

// QuantileCIIndices returns the 1-based order-statistic indices j <= k of the
// distribution-free confidence interval [x(j), x(k)] for the p-quantile of
// n samples at confidence level, and its exact coverage. ok is false when no
// such interval exists (n too small).
func QuantileCIIndices(n int, p, level float64) (j, k int, coverage float64, ok bool) {
	if n <= 0 || p <= 0 || p >= 1 || level <= 0 || level >= 1 {
		return 0, 0, 0, false
	}
	alpha := (1 - level) / 2
	cdf := binomialCDF(n, p) // cdf[i] = P(B <= i), i = 0..n
	// j: largest with P(B <= j-1) <= alpha, j >= 1.
	j = 0
	for c := 1; c <= n; c++ {
		if cdf[c-1] <= alpha+1e-12 {
			j = c
		} else {
			break
		}
	}
	// k: smallest with P(B >= k) = 1 - P(B <= k-1) <= alpha, k <= n.
	k = 0
	for c := n; c >= 1; c-- {
		if 1-cdf[c-1] <= alpha+1e-12 {
			k = c
		} else {
			break
		}
	}
	if j == 0 || k == 0 || j > k {
		return 0, 0, 0, false
	}
	// Coverage = P(j <= B <= k-1).
	coverage = cdf[k-1] - cdf[j-1]
	return j, k, coverage, true
}

// binomialCDF returns P(B <= i) for i = 0..n, B ~ Binomial(n, p). The
// probability mass is computed at the mode with log-gamma and extended to
// both sides by the ratio pmf(i+1)/pmf(i) = (n-i)/(i+1) * p/(1-p), so large
// n neither underflows nor costs more than O(n) multiplications.
func binomialCDF(n int, p float64) []float64 {
	pmf := make([]float64, n+1)
	m := int(math.Floor(float64(n+1) * p))
	if m > n {
		m = n
	}
	lgN, _ := math.Lgamma(float64(n + 1))
	lgM, _ := math.Lgamma(float64(m + 1))
	lgNM, _ := math.Lgamma(float64(n - m + 1))
	pmf[m] = math.Exp(lgN - lgM - lgNM + float64(m)*math.Log(p) + float64(n-m)*math.Log1p(-p))
	odds := p / (1 - p)
	for i := m; i < n; i++ {
		pmf[i+1] = pmf[i] * float64(n-i) / float64(i+1) * odds
	}
	for i := m; i > 0; i-- {
		pmf[i-1] = pmf[i] * float64(i) / float64(n-i+1) / odds
	}
	var acc float64
	for i := range pmf {
		acc += pmf[i]
		pmf[i] = math.Min(acc, 1)
	}
	return pmf
}

// QuantileCI returns the distribution-free confidence interval for the
// p-quantile of ascending data (see the package comment).
func QuantileCI(sorted []float64, p, level float64) Interval {
	j, k, cov, ok := QuantileCIIndices(len(sorted), p, level)
	if !ok {
		return Interval{Low: math.NaN(), High: math.NaN(), Level: level}
	}
	return Interval{Low: sorted[j-1], High: sorted[k-1], Level: level, Coverage: cov, OK: true}
}

// MedianCI returns the distribution-free confidence interval for the median
// of ascending data. At 95 % it needs n >= 6.
func MedianCI(sorted []float64, level float64) Interval {
	return QuantileCI(sorted, 0.5, level)
}

// Wilson returns the Wilson score interval for a binomial proportion of k
// successes in n trials at the given confidence level. OK is false for
// n == 0.
func Wilson(k, n int, level float64) Interval {
	if n <= 0 || k < 0 || k > n || level <= 0 || level >= 1 {
		return Interval{Low: math.NaN(), High: math.NaN(), Level: level}
	}
	z := math.Sqrt2 * math.Erfinv(level)
	nf := float64(n)
	ph := float64(k) / nf
	den := 1 + z*z/nf
	center := (ph + z*z/(2*nf)) / den
	half := z / den * math.Sqrt(ph*(1-ph)/nf+z*z/(4*nf*nf))
	lo, hi := math.Max(0, center-half), math.Min(1, center+half)
	// At k = 0 and k = n the bound is exactly 0 or 1; rounding would
	// leave it a hair inside and the interval would miss a true 0 or 1.
	if k == 0 {
		lo = 0
	}
	if k == n {
		hi = 1
	}
	return Interval{
		Low:      lo,
		High:     hi,
		Level:    level,
		Coverage: level,
		OK:       true,
	}
}

// ClopperPearson returns the exact (Clopper–Pearson) interval for a
// binomial proportion of k successes in n trials: the bounds are the
// α/2 and 1−α/2 quantiles of Beta(k, n−k+1) and Beta(k+1, n−k), exactly
// 0 at k = 0 and 1 at k = n. Its coverage is at least level for every
// true proportion, also next to 0 and 1, where Wilson's falls to about
// 86 % (p = 0.004, n = 40: docs/experiments.md, "Intervals"). OK is false
// for n == 0.
func ClopperPearson(k, n int, level float64) Interval {
	if n <= 0 || k < 0 || k > n || level <= 0 || level >= 1 {
		return Interval{Low: math.NaN(), High: math.NaN(), Level: level}
	}
	a := (1 - level) / 2
	lo, hi := 0.0, 1.0
	if k > 0 {
		lo = betaQuantile(a, float64(k), float64(n-k+1))
	}
	if k < n {
		hi = betaQuantile(1-a, float64(k+1), float64(n-k))
	}
	return Interval{Low: lo, High: hi, Level: level, Coverage: level, OK: true}
}

// betaQuantile returns x with I_x(a, b) = q, by bisection (I is increasing
// in x), to 1e-12.
func betaQuantile(q, a, b float64) float64 {
	lo, hi := 0.0, 1.0
	for hi-lo > 1e-12 {
		m := (lo + hi) / 2
		if regIncBeta(a, b, m) < q {
			lo = m
		} else {
			hi = m
		}
	}
	return (lo + hi) / 2
}

// Point is one (x, y) point.
type Point struct{ X, Y float64 }

// ECDF returns the steps of the empirical CDF of ascending data: one point
// per distinct value x with Y = F(x) = #{xi <= x}/n. Empty data gives nil.
func ECDF(sorted []float64) []Point {
	n := len(sorted)
	var out []Point
	for i := 0; i < n; i++ {
		if i+1 < n && sorted[i+1] == sorted[i] {
			continue
		}
		out = append(out, Point{X: sorted[i], Y: float64(i+1) / float64(n)})
	}
	return out
}

// ECDFAt returns F(x) = #{xi <= x}/n for ascending data (NaN when empty).
func ECDFAt(sorted []float64, x float64) float64 {
	if len(sorted) == 0 {
		return math.NaN()
	}
	i, found := slices.BinarySearch(sorted, x)
	if found {
		for i < len(sorted) && sorted[i] == x {
			i++
		}
	}
	return float64(i) / float64(len(sorted))
}

// ECDFSampled returns at most max points of the ECDF of ascending data,
// for plotting large samples: the points at evenly spaced ranks, always
// including the first and last step. With max >= the number of distinct
// values it equals ECDF.
func ECDFSampled(sorted []float64, max int) []Point {
	n := len(sorted)
	if n == 0 || max <= 0 {
		return nil
	}
	if n <= max {
		return ECDF(sorted)
	}
	if max < 2 {
		max = 2
	}
	out := make([]Point, 0, max)
	last := -1
	for s := 0; s < max; s++ {
		i := int(math.Round(float64(s) * float64(n-1) / float64(max-1)))
		// move to the last index holding this value, so Y is F(x).
		for i+1 < n && sorted[i+1] == sorted[i] {
			i++
		}
		if i <= last {
			continue
		}
		last = i
		out = append(out, Point{X: sorted[i], Y: float64(i+1) / float64(n)})
	}
	return out
}

// Summary describes a sample.
type Summary struct {
	N                       int
	Min, P50, P90, P95, P99 float64
	Max, Mean               float64
	// MedianCI is the 95 % distribution-free interval of the median.
	MedianCI Interval
}

// Summarize sorts a copy of xs (NaN removed) and summarizes it. Fields are
// NaN for an empty sample.
func Summarize(xs []float64) Summary {
	return SummarizeSorted(Sorted(xs))
}

// SummarizeSorted summarizes ascending data without copying it.
func SummarizeSorted(sorted []float64) Summary {
	n := len(sorted)
	if n == 0 {
		nan := math.NaN()
		return Summary{Min: nan, P50: nan, P90: nan, P95: nan, P99: nan, Max: nan, Mean: nan,
			MedianCI: Interval{Low: nan, High: nan, Level: 0.95}}
	}
	return Summary{
		N:        n,
		Min:      sorted[0],
		P50:      Percentile(sorted, 0.50),
		P90:      Percentile(sorted, 0.90),
		P95:      Percentile(sorted, 0.95),
		P99:      Percentile(sorted, 0.99),
		Max:      sorted[n-1],
		Mean:     Mean(sorted),
		MedianCI: MedianCI(sorted, 0.95),
	}
}
