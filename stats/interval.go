package stats

import (
	"math"
	"slices"
	"strings"
)

// Interval bounds of an estimate are stored beside it: the estimate K has
// the interval [K_low, K_high] when those keys exist (one of them alone is
// a one-sided bound). Every producer and reader of estimates (experiments,
// report, study, exports) uses these names.
const (
	SuffixLow  = "_low"
	SuffixHigh = "_high"
)

// IntervalKeys returns the keys of key's interval bounds.
func IntervalKeys(key string) (low, high string) { return key + SuffixLow, key + SuffixHigh }

// BaseKey strips an interval suffix ("x_low" → "x"); other keys are
// returned as they are.
func BaseKey(k string) string {
	if b, ok := strings.CutSuffix(k, SuffixLow); ok && b != "" {
		return b
	}
	if b, ok := strings.CutSuffix(k, SuffixHigh); ok && b != "" {
		return b
	}
	return k
}

// IsBound reports whether k names an interval bound.
func IsBound(k string) bool { return BaseKey(k) != k }

// EstimateText renders estimate key of m with its interval: "30.5",
// "30.5 [28.1, 33.0]", "[≥ 16.0]", "12 [≤ 20.0]"; "–" when absent.
func EstimateText(m map[string]float64, key string) string {
	lk, hk := IntervalKeys(key)
	v, hasV := m[key]
	lo, hasLo := m[lk]
	hi, hasHi := m[hk]
	out := ""
	if hasV {
		out = Format(v)
	}
	switch {
	case hasLo && hasHi:
		out += " [" + Format(lo) + ", " + Format(hi) + "]"
	case hasLo:
		out += " [≥ " + Format(lo) + "]"
	case hasHi:
		out += " [≤ " + Format(hi) + "]"
	}
	if out = strings.TrimSpace(out); out == "" {
		return "–"
	}
	return out
}

// EstimateKeys returns the base keys of m (bounds folded into their
// estimate), sorted.
func EstimateKeys(m map[string]float64) []string {
	seen := map[string]bool{}
	var out []string
	for k := range m {
		b := BaseKey(k)
		if !seen[b] {
			seen[b] = true
			out = append(out, b)
		}
	}
	slices.Sort(out)
	return out
}

// MedianSE is the distribution-free standard error of the median of
// ascending data by Bonett & Price (2002): with c = round((n+1)/2 − √n),
// SE = (x(n−c+1) − x(c)) / (2·z_c), where z_c is the normal quantile of the
// exact coverage of the order-statistic interval [x(c), x(n−c+1)]. ok is
// false when n < 4 (no such c ≥ 1).
func MedianSE(sorted []float64) (se float64, ok bool) {
	n := len(sorted)
	c := int(math.Round(float64(n+1)/2 - math.Sqrt(float64(n))))
	if n < 4 || c < 1 {
		return math.NaN(), false
	}
	cdf := binomialCDF(n, 0.5)
	cov := 1 - 2*cdf[c-1] // P(c <= B <= n-c)
	z := math.Sqrt2 * math.Erfinv(cov)
	if z <= 0 || math.IsNaN(z) {
		return math.NaN(), false
	}
	return (sorted[n-c] - sorted[c-1]) / (2 * z), true
}

// MinDiffSamples is the smallest sample size per group DiffMedianCI
// accepts: below it the simulated coverage at 95 % falls under 90 % for
// skewed latency distributions (docs/experiments.md, "Intervals").
const MinDiffSamples = 6

// DiffMedianCI returns the interval of Price & Bonett (2002, "Distribution-
// free confidence intervals for difference and ratio of medians", J.
// Statist. Comput. Simul. 72) for median(a) − median(b) of two independent
// ascending samples: the difference of the sample medians ± z·√(SE_a² +
// SE_b²) with MedianSE. It assumes neither a shape nor a shift model, so it
// fits cold and warm latencies, whose shapes differ. Not OK when either
// sample has fewer than MinDiffSamples values.
func DiffMedianCI(a, b []float64, level float64) Interval {
	nan := Interval{Low: math.NaN(), High: math.NaN(), Level: level}
	if len(a) < MinDiffSamples || len(b) < MinDiffSamples || level <= 0 || level >= 1 {
		return nan
	}
	sa, okA := MedianSE(a)
	sb, okB := MedianSE(b)
	if !okA || !okB {
		return nan
	}
	z := math.Sqrt2 * math.Erfinv(level)
	d := Median(a) - Median(b)
	h := z * math.Sqrt(sa*sa+sb*sb)
	return Interval{Low: d - h, High: d + h, Level: level, Coverage: level, OK: true}
}

// RatioMedianCI is the Price–Bonett interval for median(a) / median(b) of
// positive ascending samples: DiffMedianCI of the logarithms (the median
// commutes with a monotone transform), exponentiated. Not OK when a value
// is not positive.
func RatioMedianCI(a, b []float64, level float64) Interval {
	la, lb := logs(a), logs(b)
	if la == nil || lb == nil {
		return Interval{Low: math.NaN(), High: math.NaN(), Level: level}
	}
	iv := DiffMedianCI(la, lb, level)
	if iv.OK {
		iv.Low, iv.High = math.Exp(iv.Low), math.Exp(iv.High)
	}
	return iv
}

func logs(xs []float64) []float64 {
	out := make([]float64, len(xs))
	for i, x := range xs {
		if !(x > 0) {
			return nil
		}
		out[i] = math.Log(x)
	}
	return out
}

// RateFromGaps returns the rate of events (per unit of the times) from the
// ascending event times: one over the median gap between consecutive
// events, the estimate whose interval RateFromGapsCI gives. NaN with fewer
// than 2 events or a median gap that is not positive.
func RateFromGaps(times []float64) float64 {
	if len(times) < 2 {
		return math.NaN()
	}
	gaps := make([]float64, 0, len(times)-1)
	for i := 1; i < len(times); i++ {
		gaps = append(gaps, times[i]-times[i-1])
	}
	m := Median(Sorted(gaps))
	if !(m > 0) {
		return math.NaN()
	}
	return 1 / m
}

// RateFromGapsCI returns the interval of a rate of events (per unit of the
// times) from the ascending event times: the order-statistic interval of
// the median gap between consecutive events, inverted (rate = 1 / gap),
// the interval of RateFromGaps's estimate.
// The gap is the unit the process produces (one new instance per token of
// a scale-out budget), so the interval respects how the events were made
// rather than treating cumulative counts as independent points. Not OK
// with fewer than 7 events (6 gaps) at 95 %.
func RateFromGapsCI(times []float64, level float64) Interval {
	nan := Interval{Low: math.NaN(), High: math.NaN(), Level: level}
	if len(times) < 2 {
		return nan
	}
	gaps := make([]float64, 0, len(times)-1)
	for i := 1; i < len(times); i++ {
		gaps = append(gaps, times[i]-times[i-1])
	}
	iv := MedianCI(Sorted(gaps), level)
	if !iv.OK {
		return nan
	}
	lo, hi := iv.Low, iv.High
	out := Interval{Level: level, Coverage: iv.Coverage, OK: true, Low: 1 / hi, High: math.Inf(1)}
	if lo > 0 {
		out.High = 1 / lo
	}
	if !(hi > 0) {
		return nan
	}
	return out
}

// StudentTwoSidedP returns P(|T| ≥ |t|) for Student's t with df degrees of
// freedom (df = +Inf: the normal distribution), through the regularized
// incomplete beta function: P = I_{df/(df+t²)}(df/2, 1/2).
func StudentTwoSidedP(t, df float64) float64 {
	t = math.Abs(t)
	switch {
	case math.IsNaN(t) || math.IsNaN(df) || df <= 0:
		return math.NaN()
	case math.IsInf(df, 1):
		return math.Erfc(t / math.Sqrt2)
	case math.IsInf(t, 1):
		return 0
	}
	return regIncBeta(df/2, 0.5, df/(df+t*t))
}

// regIncBeta is the regularized incomplete beta function I_x(a, b), by the
// continued fraction of Numerical Recipes (§6.4, betacf, modified Lentz).
func regIncBeta(a, b, x float64) float64 {
	if x <= 0 {
		return 0
	}
	if x >= 1 {
		return 1
	}
	la, _ := math.Lgamma(a)
	lb, _ := math.Lgamma(b)
	lab, _ := math.Lgamma(a + b)
	front := math.Exp(lab - la - lb + a*math.Log(x) + b*math.Log1p(-x))
	if x > (a+1)/(a+b+2) {
		return 1 - regIncBeta(b, a, 1-x)
	}
	const tiny, eps = 1e-300, 1e-15
	c, d := 1.0, 1-(a+b)*x/(a+1)
	if math.Abs(d) < tiny {
		d = tiny
	}
	d = 1 / d
	f := d
	for m := 1; m <= 300; m++ {
		fm := float64(m)
		num := fm * (b - fm) * x / ((a + 2*fm - 1) * (a + 2*fm))
		for i := 0; i < 2; i++ {
			d = 1 + num*d
			if math.Abs(d) < tiny {
				d = tiny
			}
			c = 1 + num/c
			if math.Abs(c) < tiny {
				c = tiny
			}
			d = 1 / d
			f *= d * c
			num = -(a + fm) * (a + b + fm) * x / ((a + 2*fm) * (a + 2*fm + 1))
			if i == 1 && math.Abs(d*c-1) < eps {
				return front * f / a
			}
		}
	}
	return front * f / a
}
