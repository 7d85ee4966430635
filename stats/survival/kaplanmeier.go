package survival

import (
	"fmt"
	"math"
	"slices"
)

// Lifetime is one right-censored observation: the subject lived Time and
// then had the event (Event), or was still alive at Time when observation
// ended (censored).
type Lifetime struct {
	Time  float64
	Event bool
}

// KMStep is the Kaplan–Meier survival estimate just after one event time,
// with its pointwise confidence interval.
type KMStep struct {
	Time      float64
	S         float64 // P(X > Time)
	Low, High float64
	AtRisk    int
	Events    int
}

// KaplanMeier is the product-limit fit of right-censored lifetimes.
type KaplanMeier struct {
	steps   []KMStep
	n       int
	maxTime float64
	level   float64
}

// FitKaplanMeier fits obs with pointwise level intervals (Greenwood's
// variance on the log(−log S) scale, which keeps the interval inside (0, 1)
// and behaves better than the plain Greenwood interval at small n).
func FitKaplanMeier(obs []Lifetime, level float64) (*KaplanMeier, error) {
	if len(obs) == 0 {
		return nil, ErrNoData
	}
	if !(level > 0 && level < 1) {
		return nil, fmt.Errorf("survival: level %v must be in (0, 1)", level)
	}
	sorted := slices.Clone(obs)
	for _, o := range sorted {
		if math.IsNaN(o.Time) || math.IsInf(o.Time, 0) || o.Time < 0 {
			return nil, fmt.Errorf("survival: lifetime %v must be finite and >= 0", o.Time)
		}
	}
	// Events before censorings at the same time (the usual convention).
	slices.SortFunc(sorted, func(a, b Lifetime) int {
		switch {
		case a.Time < b.Time:
			return -1
		case a.Time > b.Time:
			return 1
		case a.Event && !b.Event:
			return -1
		case !a.Event && b.Event:
			return 1
		}
		return 0
	})
	z := math.Sqrt2 * math.Erfinv(level)
	km := &KaplanMeier{n: len(sorted), maxTime: sorted[len(sorted)-1].Time, level: level}
	s, green := 1.0, 0.0
	atRisk := len(sorted)
	for i := 0; i < len(sorted); {
		t := sorted[i].Time
		d, c := 0, 0
		for ; i < len(sorted) && sorted[i].Time == t; i++ {
			if sorted[i].Event {
				d++
			} else {
				c++
			}
		}
		if d > 0 {
			s *= 1 - float64(d)/float64(atRisk)
			if atRisk > d {
				green += float64(d) / (float64(atRisk) * float64(atRisk-d))
			}
			lo, hi := logLogBand(s, green, z)
			km.steps = append(km.steps, KMStep{Time: t, S: s, Low: lo, High: hi, AtRisk: atRisk, Events: d})
		}
		atRisk -= d + c
	}
	return km, nil
}

// logLogBand is the log(−log S) interval for S with Greenwood sum green.
func logLogBand(s, green, z float64) (lo, hi float64) {
	switch {
	case s <= 0:
		return 0, 0
	case s >= 1:
		return 1, 1
	}
	ls := math.Log(s)
	se := math.Sqrt(green) / math.Abs(ls)
	return math.Pow(s, math.Exp(z*se)), math.Pow(s, math.Exp(-z*se))
}

// Steps returns the fit after each event time, in increasing time.
func (k *KaplanMeier) Steps() []KMStep { return slices.Clone(k.steps) }

// N returns the number of observations.
func (k *KaplanMeier) N() int { return k.n }

// Quantile returns the q-quantile of the lifetime (the first time at which
// the estimated survival is at most 1−q) with the interval from inverting
// the pointwise band (Brookmeyer & Crowley 1982): the times t whose band
// contains 1−q, from the first time the band's lower end is at most 1−q to
// the first time its upper end is. When the lower end never gets there the
// quantile lies beyond the longest time observed, which is then the lower
// bound; when the upper end never gets there the interval is unbounded
// above. Before the first event the exact binomial bound replaces the band
// (see below), so extreme quantiles of small samples are honestly
// unbounded below.
func (k *KaplanMeier) Quantile(q float64) Estimate {
	target := 1 - q
	first := func(val func(KMStep) float64) (float64, bool) {
		for _, st := range k.steps {
			if val(st) <= target+1e-12 {
				return st.Time, true
			}
		}
		return math.Inf(1), false
	}
	e := Estimate{Value: math.NaN()}
	if v, ok := first(func(s KMStep) float64 { return s.S }); ok {
		e.Value = v
	}
	e.Low, e.LowFound = first(func(s KMStep) float64 { return s.Low })
	// Before the first event the log-log band is [1, 1], overconfident:
	// with n at risk and no event yet, the exact (Clopper–Pearson) lower
	// bound of S is (α/2)^(1/n). When even that admits 1−q, the quantile
	// may lie before the first event and the interval starts at 0.
	if zero := math.Pow((1-k.level)/2, 1/float64(k.n)); zero <= target {
		e.Low, e.LowFound = 0, false
	} else if !e.LowFound {
		e.Low, e.LowFound = k.maxTime, true
	}
	e.High, e.HighFound = first(func(s KMStep) float64 { return s.High })
	return e
}
