package localfaas

import (
	"math"
	"time"
)

// Eviction is the idle-eviction model of a Config, in one place so that the
// platform, simulations and tests use the same rules and the same true
// distribution:
//
//   - an instance released (its invocation ended) at r has the deadline
//     d = r + Timeout + J, J uniform in [0, Jitter) drawn per idle period
//     — or, with Persistent, drawn once per instance: each instance then
//     has its own fixed timeout Timeout + J for life;
//   - without Sweep it is reclaimed at d; with Sweep, only sweeps at
//     origin + SweepPhase + k·Sweep reclaim, so at the first sweep at or
//     after d;
//   - at that moment it is evicted with probability Fraction; otherwise it
//     survives, and its next deadline is that moment + Timeout (no new
//     jitter), again rounded up to a sweep.
//
// Timeout 0 disables idle eviction.
type Eviction struct {
	Timeout    time.Duration
	Jitter     time.Duration
	Sweep      time.Duration
	SweepPhase time.Duration
	Fraction   float64
	Persistent bool
}

// Eviction returns c's idle-eviction model.
func (c Config) Eviction() Eviction {
	return Eviction{Timeout: c.IdleTimeout, Jitter: c.IdleJitter, Sweep: c.IdleSweep, SweepPhase: c.IdleSweepPhase,
		Fraction: c.IdleEvictFraction, Persistent: c.IdlePersistent}
}

// maxSurvivals bounds the partial-eviction loop: with Fraction f an
// instance survives k checks with probability (1−f)^k, and Validate keeps
// f > 0; the bound only guards against f within rounding of 0.
const maxSurvivals = 1 << 16

// EvictAt returns when an instance released at released is evicted, with
// sweeps at origin + SweepPhase + k·Sweep and uniform [0, 1) numbers from
// uniform (one for the jitter when Jitter > 0 and not Persistent, one per
// check when Fraction < 1). own is the instance's own uniform [0, 1)
// number, drawn once when it started: with Persistent it is its jitter.
// ok is false when idle eviction is disabled.
func (e Eviction) EvictAt(released, origin time.Time, own float64, uniform func() float64) (at time.Time, ok bool) {
	if e.Timeout <= 0 {
		return time.Time{}, false
	}
	d := released.Add(e.Timeout)
	switch {
	case e.Jitter > 0 && e.Persistent:
		d = d.Add(time.Duration(own * float64(e.Jitter)))
	case e.Jitter > 0:
		d = d.Add(time.Duration(uniform() * float64(e.Jitter)))
	}
	for range maxSurvivals {
		t := e.sweepAtOrAfter(d, origin)
		if e.Fraction >= 1 || uniform() < e.Fraction {
			return t, true
		}
		d = t.Add(e.Timeout)
	}
	return e.sweepAtOrAfter(d, origin), true
}

// sweepAtOrAfter returns the first sweep at or after d (d itself without
// sweeps).
func (e Eviction) sweepAtOrAfter(d, origin time.Time) time.Time {
	if e.Sweep <= 0 {
		return d
	}
	origin = origin.Add(e.SweepPhase)
	since := d.Sub(origin)
	k := since / e.Sweep
	if since%e.Sweep != 0 && since > 0 {
		k++
	}
	return origin.Add(k * e.Sweep)
}

// sweepWait is the wait after a survival's new deadline until the next
// sweep: a survivor was checked at a sweep, its next deadline is Timeout
// later, and the next sweep after that comes ceil(Timeout/Sweep)·Sweep −
// Timeout later.
func (e Eviction) sweepWait() float64 {
	if e.Sweep <= 0 {
		return 0
	}
	s, t := e.Sweep.Seconds(), e.Timeout.Seconds()
	return math.Ceil(t/s-1e-12)*s - t
}

// CDF returns P(X ≤ t) for the idle time X (seconds) after which an
// instance is evicted, when its release is independent of the sweep phase
// (the phase is then uniform): the distribution over newly started
// instances of their first idle period (with Persistent, of every idle
// period of an instance drawn at random when it started). With K the number of checks until eviction
// (geometric with parameter Fraction), J the jitter and W the wait for the
// first sweep (uniform in [0, Sweep)):
//
//	X = Timeout + J + W + (K−1)·(Timeout + c),  c = ceil(Timeout/Sweep)·Sweep − Timeout
//
// (c = 0 and W = 0 without sweeps). J + W has a trapezoidal distribution.
// It returns 0 for every t when idle eviction is disabled.
func (e Eviction) CDF(t float64) float64 {
	if e.Timeout <= 0 {
		return 0
	}
	f := min(max(e.Fraction, 0), 1)
	T, step := e.Timeout.Seconds(), e.Timeout.Seconds()+e.sweepWait()
	total, w := 0.0, f
	for k := 0; w > 1e-15 && k < maxSurvivals; k++ {
		total += w * sumUniformCDF(t-T-float64(k)*step, e.Jitter.Seconds(), e.Sweep.Seconds())
		w *= 1 - f
		if f >= 1 {
			break
		}
	}
	return min(total, 1)
}

// sumUniformCDF is P(A + B ≤ x) for independent A ~ U[0, a), B ~ U[0, b).
func sumUniformCDF(x, a, b float64) float64 {
	if a > b {
		a, b = b, a
	}
	switch {
	case x < 0:
		return 0
	case x >= a+b:
		return 1
	case b == 0:
		return 1
	case a == 0:
		return x / b
	case x < a:
		return x * x / (2 * a * b)
	case x < b:
		return (x - a/2) / b
	default:
		r := a + b - x
		return 1 - r*r/(2*a*b)
	}
}

// Quantile returns inf{t : CDF(t) ≥ q} in seconds (0 < q < 1), or +Inf when
// the CDF never reaches q (idle eviction disabled).
func (e Eviction) Quantile(q float64) float64 {
	return e.invert(func(t float64) bool { return e.CDF(t) >= q })
}

// QuantileUpper returns sup{t : CDF(t) ≤ q}: where the CDF is flat at q on
// an interval (partial eviction with Fraction q) every point between
// Quantile(q) and QuantileUpper(q) is a q-quantile.
func (e Eviction) QuantileUpper(q float64) float64 {
	return e.invert(func(t float64) bool { return e.CDF(t) > q })
}

// invert returns the boundary of the monotone predicate above on [0, ∞).
func (e Eviction) invert(above func(float64) bool) float64 {
	if e.Timeout <= 0 {
		return math.Inf(1)
	}
	lo, hi := 0.0, e.Timeout.Seconds()+e.Jitter.Seconds()+e.Sweep.Seconds()
	for i := 0; !above(hi); i++ {
		if i > 60 {
			return math.Inf(1)
		}
		lo, hi = hi, 2*hi
	}
	for range 80 {
		mid := (lo + hi) / 2
		if above(mid) {
			hi = mid
		} else {
			lo = mid
		}
	}
	return hi
}
