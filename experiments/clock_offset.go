package experiments

import (
	"context"
	"errors"
	"math"
	"time"

	"github.com/faas-benchmarker/faas-benchmarker/engine"
	"github.com/faas-benchmarker/faas-benchmarker/functions/lab"
	"github.com/faas-benchmarker/faas-benchmarker/stats"
)

// ClockOffsetExp estimates the offset between the client's clock and the
// function's clock.
//
// Question: by how much does the function's wall clock differ from the
// client's, so that wall-clock fields a function reports (handler start and
// end, process start, nested sent/received times) can be placed on the
// client's timeline?
//
// Method: NTP-style ping-pong on warm invocations. For each invocation the
// client knows its send time t0 and receive time t3 (wall clock at send,
// plus the monotonic round trip), the function reports its handler entry t1
// and exit t2 on its own clock. The offset is ((t1−t0)+(t2−t3))/2 and its
// error is at most half the network delay (t3−t0)−(t2−t1); the sample with
// the smallest delay is the estimate (the minimum-RTT filter of NTP and
// Cristian's algorithm), and half its delay is the uncertainty.
//
// Parameters: function (function1), samples (20).
//
// Estimates: clock_offset_ms (function clock minus client clock),
// clock_offset_uncertainty_ms, rtt_min_ms (smallest network delay).
// clock_offset_ms_low/_high are offset ∓ uncertainty: a hard bound (it
// holds for any path asymmetry while the clocks do not drift), not a
// statistical interval; rtt_min_ms is an observed minimum, which no
// interval describes.
//
// Known limits: the error bound assumes nothing about path symmetry, so it
// is half the RTT: a few ms on the internet, tens of µs locally. The
// function's clock may drift during long runs; measure again at the end.
type ClockOffsetExp struct{}

// Name implements Experiment.
func (ClockOffsetExp) Name() string { return "clock-offset" }

// Summary implements Experiment.
func (ClockOffsetExp) Summary() string {
	return "client/function clock offset by minimum-RTT ping-pong, to place function timestamps on the client timeline"
}

// Params implements Experiment.
func (ClockOffsetExp) Params() []Param {
	return []Param{
		StringParam("function", "function1", "lab function to ping").Required(),
		IntParam("samples", "20", "warm ping-pong invocations").AtLeast(1),
	}
}

// Run implements Experiment.
func (ClockOffsetExp) Run(ctx context.Context, b *engine.Benchmarker, p Params) (Estimates, error) {
	n := p.Int("samples")
	b.Expect(int64(n + 1))
	off, err := MeasureClockOffset(ctx, b.WithPhase("clock-offset"), p.String("function"), n)
	est := newEstimates()
	if err == nil {
		est.set("clock_offset_ms", msOf(off.Offset))
		// A bound, not a statistical interval: the offset lies within half
		// the minimum round trip whatever the path's asymmetry.
		lo, hi := stats.IntervalKeys("clock_offset_ms")
		est.set(lo, msOf(off.Offset-off.Uncertainty))
		est.set(hi, msOf(off.Offset+off.Uncertainty))
		est.set("clock_offset_uncertainty_ms", msOf(off.Uncertainty))
		est.set("rtt_min_ms", msOf(off.Delay))
		b.Record("clock_offset_ms", msOf(off.Offset), map[string]string{"uncertainty_ms": fmtFloat(msOf(off.Uncertainty))})
	}
	return est.result(err)
}

// ClockOffset is an estimated clock offset: function clock = client clock
// + Offset, within ±Uncertainty.
type ClockOffset struct {
	Offset, Uncertainty, Delay time.Duration
	Samples                    int
}

// ToClient converts a function-clock epoch-ns timestamp to the client's
// clock.
func (o ClockOffset) ToClient(fnEpochNS int64) int64 { return fnEpochNS - int64(o.Offset) }

// pingSample is one ping-pong: client send/receive and function entry/exit,
// all epoch ns.
type pingSample struct{ t0, t1, t2, t3 int64 }

// offsetFromSamples applies the minimum-delay filter.
func offsetFromSamples(ss []pingSample) (ClockOffset, bool) {
	best := ClockOffset{Delay: time.Duration(math.MaxInt64)}
	for _, s := range ss {
		delay := (s.t3 - s.t0) - (s.t2 - s.t1)
		if delay < 0 || s.t2 < s.t1 || s.t3 < s.t0 {
			continue
		}
		if time.Duration(delay) < best.Delay {
			best.Delay = time.Duration(delay)
			best.Offset = time.Duration(((s.t1 - s.t0) + (s.t2 - s.t3)) / 2)
			best.Uncertainty = time.Duration(delay / 2)
		}
		best.Samples++
	}
	return best, best.Samples > 0
}

// MeasureClockOffset estimates the offset of fn's clock to the client's
// with n warm ping-pong invocations (one more warms the instance). Other
// experiments call it where they compare clocks.
func MeasureClockOffset(ctx context.Context, b *engine.Benchmarker, fn string, n int) (ClockOffset, error) {
	b.Invoke(ctx, fn, lab.Request{}) // warm
	var ss []pingSample
	for i := 0; i < n && ctx.Err() == nil; i++ {
		r := b.Invoke(ctx, fn, lab.Request{})
		if !r.OK() || r.Response == nil || r.Response.Timing.Start == 0 {
			continue
		}
		t0 := r.Record.SentUnixNS
		ss = append(ss, pingSample{t0, r.Response.Timing.Start, r.Response.Timing.End, t0 + r.Record.LatencyNS})
	}
	if err := ctx.Err(); err != nil {
		return ClockOffset{}, err
	}
	off, ok := offsetFromSamples(ss)
	if !ok {
		return ClockOffset{}, errors.New("clock offset: no usable ping-pong sample")
	}
	return off, nil
}
