package experiments

import (
	"context"
	"time"

	"github.com/faas-benchmarker/faas-benchmarker/engine"
	"github.com/faas-benchmarker/faas-benchmarker/functions/lab"
)

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
// on the client's monotonic clock. Each recycled instance is stored as the
// metric instance_lifetime_s (the middle of its bracket, tags low_s,
// high_s). The run stops after max_recycles recycles or `duration`.
//
// Parameters: function (function1), period (100ms), duration (50s),
// max_recycles (3). For AWS Lambda use e.g. --set period=1m --set
// duration=8h --set max_recycles=2 (the log shows the time left).
//
// Estimates: lifetime_s (median of the recycled instances' midpoints),
// lifetime_s_low / lifetime_s_high (smallest low, largest high bound),
// recycles; lifetime_s_min_observed (how long the current instance has
// lived so far) when no recycle was seen: a lower bound, not an estimate.
//
// Known limits: the resolution is the period plus one round trip. A
// recycle caused by an error (crash, timeout) looks the same; errors are
// counted in the run's records. The instance is busy only a tiny fraction
// of the time, as in real use; a platform that recycles on invocation
// count rather than age would show as a lifetime proportional to 1/period.
type InstanceLifetime struct{}

// Name implements Experiment.
func (InstanceLifetime) Name() string { return "instance-lifetime" }

// Summary implements Experiment.
func (InstanceLifetime) Summary() string {
	return "how long a constantly used instance lives before the platform recycles it"
}

// Params implements Experiment.
func (InstanceLifetime) Params() []Param {
	return []Param{
		StringParam("function", "function1", "lab function to keep busy").Required(),
		DurationParam("period", "100ms", "time between invocations (well below the idle timeout)").Above(0),
		DurationParam("duration", "50s", "longest run").Above(0),
		IntParam("max_recycles", "3", "stop after this many recycled instances").AtLeast(1),
	}
}

// Run implements Experiment.
func (InstanceLifetime) Run(ctx context.Context, b *engine.Benchmarker, p Params) (Estimates, error) {
	fn, period, duration, maxRec := p.String("function"), p.Duration("period"), p.Duration("duration"), p.Int("max_recycles")
	b.Expect(int64(duration / period))
	pb := b.WithPhase("lifetime")
	type life struct {
		id                  string
		born                bool // first invocation seen cold
		firstSent, firstRcv time.Duration
		lastSent            time.Duration
	}
	var cur *life
	var mids, lows, highs []float64
	start := b.Elapsed()
	lastLog := start
	errs := 0
	for b.Elapsed()-start < duration && len(mids) < maxRec {
		r := pb.Invoke(ctx, fn, lab.Request{})
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
					mid := (lo + hi) / 2
					mids, lows, highs = append(mids, mid), append(lows, lo), append(highs, hi)
					pb.Record(MetricInstanceLifetime, mid, map[string]string{"low_s": fmtFloat(lo), "high_s": fmtFloat(hi)})
					b.Logger().Info("instance recycled", "lifetime_s", mid, "recycles", len(mids))
				}
				cur = &life{id: r.InstanceID(), born: cold, firstSent: sent, firstRcv: rcv, lastSent: sent}
			default:
				cur.lastSent = sent
			}
		} else {
			errs++
		}
		if b.Elapsed()-lastLog > time.Minute {
			lastLog = b.Elapsed()
			b.Logger().Info("instance-lifetime progress", "elapsed", (lastLog - start).Round(time.Second),
				"left", (duration - (lastLog - start)).Round(time.Second), "recycles", len(mids))
		}
		if err := b.Sleep(ctx, period); err != nil {
			break
		}
	}
	est := newEstimates()
	est.set("recycles", float64(len(mids)))
	est.set("errors", float64(errs))
	if len(mids) > 0 {
		est.stat("lifetime_s", median(mids))
		est.stat("lifetime_s_low", minOf(lows))
		est.stat("lifetime_s_high", maxOf(highs))
	} else if cur != nil {
		est.set("lifetime_s_min_observed", (cur.lastSent - cur.firstRcv).Seconds())
	}
	return est.result(ctx.Err())
}

func minOf(xs []float64) float64 {
	m := xs[0]
	for _, x := range xs {
		m = min(m, x)
	}
	return m
}

func maxOf(xs []float64) float64 {
	m := xs[0]
	for _, x := range xs {
		m = max(m, x)
	}
	return m
}
