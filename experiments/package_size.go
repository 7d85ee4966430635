package experiments

import (
	"context"
	"errors"

	"github.com/faas-benchmarker/faas-benchmarker/engine"
	"github.com/faas-benchmarker/faas-benchmarker/functions/lab"
)

// PackageSize compares the cold start of a small function with a large one.
//
// Question: how much does a bigger deployment package (the monolith, with
// every workload linked in) add to a cold start compared with the small
// lab function?
//
// Method: the two functions are measured alternately, so slow drifts of
// the platform hit both alike: each round makes the small function cold
// and invokes it (phase "cold/<small>") then invokes it warm (phase
// "warm/<small>"), and does the same for the large one ("cold/<large>",
// "warm/<large>"). Cold starts are forced the platform's way, or by
// waiting idle_wait. Samples whose cold flag or platform Init Duration
// says they were not cold are excluded from the cold statistics and
// counted.
//
// Parameters: small (function1), large (monolith), samples (8), idle_wait
// (0s).
//
// Estimates: cold_p50_ms_small, cold_p50_ms_large, warm_p50_ms_small,
// warm_p50_ms_large, init_p50_ms_small, init_p50_ms_large (platform Init
// Duration), package_penalty_ms (cold p50 large − small),
// package_init_penalty_ms (init p50 large − small), not_cold (cold-phase
// samples that were not cold by both signals), cold_failed (cold starts
// that failed or timed out), cold_throttled (requests the platform's
// throttle refused; waited out and sent again as in cold-start).
// Latencies exclude connection set-up as in cold-start. Medians carry 95 % order-statistic intervals, the penalties
// Price–Bonett intervals of a difference of medians (6 samples each).
//
// Known limits: on the local platform started by fbrun both functions run
// the fbrun binary, so the penalty is about zero there by construction;
// the experiment is meant for deployments whose packages differ.
type PackageSize struct{}

// Name implements Experiment.
func (PackageSize) Name() string { return "package-size" }

// Summary implements Experiment.
func (PackageSize) Summary() string {
	return "cold start of the small lab function vs the large monolith package"
}

// Params implements Experiment.
func (PackageSize) Params() []Param {
	return []Param{
		StringParam("small", "function1", "the small function").Required(),
		StringParam("large", "monolith", "the large function").Required(),
		IntParam("samples", "8", "cold starts per function").AtLeast(1),
		DurationParam("idle_wait", "0s", "wait this long instead where the platform cannot force cold starts").AtLeast(0),
	}
}

// Run implements Experiment.
func (PackageSize) Run(ctx context.Context, b *engine.Benchmarker, p Params) (Estimates, error) {
	small, large, samples, idleWait := p.String("small"), p.String("large"), p.Int("samples"), p.Duration("idle_wait")
	b.Expect(int64(4 * samples))
	type series struct{ cold, warm, init []float64 }
	data := map[string]*series{small: {}, large: {}}
	notCold, coldFailed := 0, 0
	sender := newColdSender(b)
	for i := 0; i < samples && ctx.Err() == nil; i++ {
		for _, fn := range []string{small, large} {
			if err := makeCold(ctx, b, fn, idleWait); err != nil {
				if ctx.Err() != nil {
					break
				}
				return nil, err
			}
			s := data[fn]
			if _, err := b.Preconnect(ctx, fn, 1); err != nil && ctx.Err() == nil {
				b.Logger().Warn("package-size: could not open a connection ahead", "err", err)
			}
			rs := sender.send(ctx, b.WithPhase("cold/"+fn), fn, 1)
			switch {
			case len(rs) == 0:
				// Refused whole (counted in cold_throttled): no instance
				// was started, so there is none to be warm either.
				continue
			case !rs[0].OK():
				coldFailed++
			default:
				r := rs[0]
				sig := signalsOf(r)
				if (sig.FlagKnown && !sig.Flag) || (sig.PlatformKnown && !sig.Platform) {
					notCold++
				} else {
					s.cold = append(s.cold, serviceMS(r))
					if sig.Platform {
						s.init = append(s.init, msOf(sig.Init))
					}
				}
			}
			if w := b.WithPhase("warm/"+fn).Invoke(ctx, fn, lab.Request{}); w.OK() {
				s.warm = append(s.warm, serviceMS(w))
			}
		}
	}
	est := newEstimates()
	est.set("not_cold", float64(notCold))
	for _, x := range []struct {
		suffix string
		s      *series
	}{{"small", data[small]}, {"large", data[large]}} {
		est.quantile("cold_p50_ms_"+x.suffix, x.s.cold, 0.5)
		est.quantile("warm_p50_ms_"+x.suffix, x.s.warm, 0.5)
		est.quantile("init_p50_ms_"+x.suffix, x.s.init, 0.5)
	}
	est.diffMedians("package_penalty_ms", data[large].cold, data[small].cold)
	est.diffMedians("package_init_penalty_ms", data[large].init, data[small].init)
	est.set("cold_failed", float64(coldFailed))
	sender.record(est)
	est.logNotes(b.Logger())
	if err := ctx.Err(); err != nil {
		return est.result(err)
	}
	if len(data[small].cold) == 0 || len(data[large].cold) == 0 {
		return est.result(errors.New("package-size: no successful cold sample of one of the functions"))
	}
	return est.result(nil)
}
