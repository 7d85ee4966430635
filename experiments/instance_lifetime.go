package experiments

import (
	"context"
	"errors"
	"time"

	"github.com/faas-benchmarker/faas-benchmarker/engine"
	"github.com/faas-benchmarker/faas-benchmarker/functions/lab"
	"github.com/faas-benchmarker/faas-benchmarker/stats"
	"github.com/faas-benchmarker/faas-benchmarker/stats/survival"
)

// Estimate keys of instance-lifetime (seconds). A _low or _high key is
// absent when the data cannot bound that side.
const (
	// KeyLifetime is the median lifetime, with its 95% interval.
	KeyLifetime = "lifetime_s"
	// KeyLifetimeP5 is the 5% point: 95% of instances live at least this
	// long.
	KeyLifetimeP5 = "lifetime_p5_s"
	// KeyRecycles counts recycled instances whose birth was seen.
	KeyRecycles = "recycles"
	// KeyLifetimeCensored counts instances still alive at the end (0 or 1).
	KeyLifetimeCensored = "lifetime_censored"
	// KeyLifetimeMinObserved is how long the current instance has lived,
	// given when no recycle was seen: a lower bound, not an estimate.
	KeyLifetimeMinObserved = "lifetime_s_min_observed"
	// KeyLifetimeErrors counts failed invocations.
	KeyLifetimeErrors = "errors"
)

// MetricInstanceLifetime is one instance's lifetime (the middle of its
// bracket; tags low_s, high_s and censored=true for the instance still
// alive at the end, whose bracket is then its age so far).
const MetricInstanceLifetime = "instance_lifetime_s"

// InstanceLifetime measures how long a constantly used instance lives.
//
// Question: how long does an instance that is never idle for long live
// before the platform recycles it (Lambda: a few hours)?
//
// Method: one client invokes the function every `period` (well below the
// idle timeout), so a single instance serves everything. Each response
// names its instance; when the instance changes, the old one was recycled.
// An instance whose first invocation was seen cold was born during that
// invocation, it was alive at its last invocation's send and gone by the
// time the next invocation (on a new instance) returned, so its lifetime
// is bracketed by [last send − first receive, next receive − first send]
// on the client's monotonic clock. The instance still alive when the run
// ends (max_recycles recycles or `duration`) is right-censored at its age.
//
// Estimator (stats/survival): Kaplan–Meier, because the last lifetime is
// censored, with log-log (Greenwood) intervals inverted for quantiles
// (Brookmeyer–Crowley). The point estimates use the brackets' middles; the
// interval's low end comes from the fit of the brackets' low ends and its
// high end from the fit of their high ends, so the bracket resolution
// (one period plus a round trip) is inside the interval.
//
// Parameters: function (function1), period (100ms), duration (50s),
// max_recycles (10). For AWS Lambda use e.g. --set period=1m --set
// duration=24h --set max_recycles=10 (the log shows the time left).
//
// Estimates: lifetime_s (median) with _low/_high, lifetime_p5_s with
// _low/_high, recycles, lifetime_censored, errors; lifetime_s_min_observed
// when no recycle was seen.
//
// Known limits: a recycle caused by an error (crash, timeout) looks the
// same; errors are counted. A platform that recycles on invocation count
// rather than age shows a lifetime proportional to 1/period.
type InstanceLifetime struct{}

// Name implements Experiment.
func (InstanceLifetime) Name() string { return "instance-lifetime" }

// Summary implements Experiment.
func (InstanceLifetime) Summary() string {
	return "how long a constantly used instance lives before the platform recycles it (Kaplan–Meier median and 5% point)"
}

// Params implements Experiment. Every parameter of instance-lifetime is
// declared here and read in lifetimeParams.
func (InstanceLifetime) Params() []Param {
	return []Param{
		StringParam("function", "function1", "lab function to keep busy").Required(),
		DurationParam("period", "100ms", "time between invocations, well below the idle timeout").Above(0),
		DurationParam("duration", "50s", "longest run").Above(0),
		IntParam("max_recycles", "10", "stop after this many recycled instances").AtLeast(1),
	}
}

type lifetimeConfig struct {
	function    string
	period      time.Duration
	duration    time.Duration
	maxRecycles int
}

func lifetimeParams(p Params) (lifetimeConfig, error) {
	c := lifetimeConfig{function: p.String("function"), period: p.Duration("period"),
		duration: p.Duration("duration"), maxRecycles: p.Int("max_recycles")}
	return c, p.Err()
}

// lifeBracket is one instance's lifetime: [low, high] seconds, censored
// when it was still alive at the end.
type lifeBracket struct {
	low, high float64
	censored  bool
}

// Run implements Experiment.
func (InstanceLifetime) Run(ctx context.Context, b *engine.Benchmarker, p Params) (Estimates, error) {
	c, err := lifetimeParams(p)
	if err != nil {
		return nil, err
	}
	b.Expect(int64(c.duration / c.period))
	pb := b.WithPhase("lifetime")
	type life struct {
		id                  string
		born                bool // first invocation seen cold
		firstSent, firstRcv time.Duration
		lastSent, lastRcv   time.Duration
	}
	var cur *life
	var lives []lifeBracket
	recycles := 0
	start := b.Elapsed()
	lastLog := start
	errs := 0
	for b.Elapsed()-start < c.duration && recycles < c.maxRecycles {
		r := pb.Invoke(ctx, c.function, lab.Request{})
		if ctx.Err() != nil {
			break
		}
		sent := time.Duration(r.Record.SentNS)
		rcv := sent + r.Latency()
		if r.OK() && r.InstanceID() != "" {
			cold, _ := r.Cold()
			switch {
			case cur == nil || cur.id != r.InstanceID():
				if cur != nil && cur.born {
					lo, hi := (cur.lastSent - cur.firstRcv).Seconds(), (rcv - cur.firstSent).Seconds()
					lives = append(lives, lifeBracket{low: lo, high: hi})
					recycles++
					pb.Record(MetricInstanceLifetime, (lo+hi)/2, map[string]string{"low_s": fmtFloat(lo), "high_s": fmtFloat(hi)})
					b.Logger().Info("instance recycled", "lifetime_s", (lo+hi)/2, "recycles", recycles)
				}
				cur = &life{id: r.InstanceID(), born: cold, firstSent: sent, firstRcv: rcv, lastSent: sent, lastRcv: rcv}
			default:
				cur.lastSent, cur.lastRcv = sent, rcv
			}
		} else {
			errs++
		}
		if b.Elapsed()-lastLog > time.Minute {
			lastLog = b.Elapsed()
			b.Logger().Info("instance-lifetime progress", "elapsed", (lastLog - start).Round(time.Second),
				"left", (c.duration - (lastLog - start)).Round(time.Second), "recycles", recycles)
		}
		if err := b.Sleep(ctx, c.period); err != nil {
			break
		}
	}
	est := newEstimates()
	est.set(KeyRecycles, float64(recycles))
	est.set(KeyLifetimeErrors, float64(errs))
	est.set(KeyLifetimeCensored, 0)
	if cur != nil && cur.born && recycles > 0 {
		// Alive for at least (last send − first receive); the high end
		// of its age is (last receive − first send).
		lo, hi := (cur.lastSent - cur.firstRcv).Seconds(), (cur.lastRcv - cur.firstSent).Seconds()
		lives = append(lives, lifeBracket{low: lo, high: hi, censored: true})
		est.set(KeyLifetimeCensored, 1)
		pb.Record(MetricInstanceLifetime, (lo+hi)/2, map[string]string{"low_s": fmtFloat(lo), "high_s": fmtFloat(hi), "censored": "true"})
	}
	if recycles == 0 {
		if cur != nil {
			est.set(KeyLifetimeMinObserved, (cur.lastSent - cur.firstRcv).Seconds())
		}
		return est.result(ctx.Err())
	}
	med, p5, err := lifetimeEstimates(lives)
	if err != nil {
		return est.result(errors.Join(ctx.Err(), err))
	}
	putLifetime(est, KeyLifetime, med)
	putLifetime(est, KeyLifetimeP5, p5)
	return est.result(ctx.Err())
}

// putLifetime stores e under key with its interval (stats.IntervalKeys):
// the value where it exists, the low end always (0 where the data do not
// bound it below: a lifetime is at least 0), the high end where found.
func putLifetime(est *estimates, key string, e survival.Estimate) {
	lk, hk := stats.IntervalKeys(key)
	if e.Found() {
		est.set(key, e.Value)
	}
	est.set(lk, e.Low)
	if e.HighFound {
		est.set(hk, e.High)
	}
}

// lifetimeEstimates returns the median and the 5% point of the lifetimes
// with 95% intervals: points from the brackets' middles, the intervals' low
// ends from the brackets' low ends, high ends from their high ends (see
// InstanceLifetime).
func lifetimeEstimates(lives []lifeBracket) (median, p5 survival.Estimate, err error) {
	fit := func(at func(lifeBracket) float64) (*survival.KaplanMeier, error) {
		obs := make([]survival.Lifetime, len(lives))
		for i, l := range lives {
			obs[i] = survival.Lifetime{Time: max(0, at(l)), Event: !l.censored}
		}
		return survival.FitKaplanMeier(obs, level)
	}
	mid, err := fit(func(l lifeBracket) float64 { return (l.low + l.high) / 2 })
	if err != nil {
		return median, p5, err
	}
	lo, err := fit(func(l lifeBracket) float64 { return l.low })
	if err != nil {
		return median, p5, err
	}
	hi, err := fit(func(l lifeBracket) float64 { return l.high })
	if err != nil {
		return median, p5, err
	}
	combine := func(q float64) survival.Estimate {
		e := mid.Quantile(q)
		l, h := lo.Quantile(q), hi.Quantile(q)
		e.Low, e.LowFound = l.Low, l.LowFound
		e.High, e.HighFound = h.High, h.HighFound
		return e
	}
	return combine(0.5), combine(0.05), nil
}
