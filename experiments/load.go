package experiments

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/faas-benchmarker/faas-benchmarker/engine"
	"github.com/faas-benchmarker/faas-benchmarker/functions/lab"
)

// Load runs open-loop arrival-rate profiles.
//
// Question: how do latency, cold starts and errors behave while the
// request rate follows a profile — constant, a ramp, a pyramid up and down,
// or spikes of growing size — with uniform or Poisson arrivals?
//
// Method: the profile is a sequence of steps of step_duration, step k at
// rate r_k (phase "step-<k>", the metric offered_rate = r_k recorded under
// it; the engine's InvokeAtRate records scheduled, dropped and late under
// it too). Each step is sent open-loop by the engine (InvokeAtRate): request i
// goes out when it is due whether or not earlier ones have returned, so a
// slow platform cannot slow the arrivals (no coordinated omission); each
// record keeps its due and actual send time. Profiles, with r = rate and
// P = peak: constant (r every step), ramp (r to P linearly, each step a
// linear ramp from r_k to r_k+1), pyramid (r up to P at the middle step and
// back), spikes (odd steps r, even steps spikes growing to P), poisson
// (constant r with Poisson arrivals). arrivals=poisson makes any profile's
// arrivals Poisson (seeded: the same seed gives the same schedule).
//
// Parameters: function (function1), profile (pyramid), rate (5), peak
// (20), steps (5), step_duration (3s), sleep (0s: handler sleep, a
// duration as in scaling; a plain number is seconds, the old spelling),
// arrivals (uniform), seed (1).
//
// Estimates: per step k: step_<k>_offered_rate, step_<k>_sent_rate
// (sent / step duration), step_<k>_p50_ms, step_<k>_p99_ms, step_<k>_cold
// (responses flagged cold), step_<k>_errors; overall p50_ms, p95_ms,
// p99_ms, cold_starts, errors, throttled, dropped (due but not sent: the
// engine's in-flight bound), late (sent > 1 ms after due). Percentiles
// carry 95 % order-statistic intervals where the step has enough requests
// (p99 needs about 300); rates and counts are exact counts of what was
// sent and seen.
//
// Known limits: a client machine that cannot keep up shows as late and
// dropped requests, which are counted, never hidden. Percentiles of a step
// with few requests are rough; use longer steps for p99.
type Load struct{}

// Name implements Experiment.
func (Load) Name() string { return "load" }

// Summary implements Experiment.
func (Load) Summary() string {
	return "open-loop arrival-rate profiles (constant, ramp, pyramid, spikes, Poisson): latency, cold starts, errors per step"
}

// Params implements Experiment.
func (Load) Params() []Param {
	return []Param{
		StringParam("function", "function1", "lab function to load").Required(),
		StringParam("profile", "pyramid", "constant, ramp, pyramid, spikes or poisson").OneOf(loadProfiles...),
		FloatParam("rate", "5.0", "base rate, requests per second").Above(0).WithUnit("requests/s"),
		FloatParam("peak", "20.0", "peak rate, requests per second").Above(0).WithUnit("requests/s"),
		IntParam("steps", "5", "number of steps").AtLeast(1),
		DurationParam("step_duration", "3s", "duration of each step").Above(0),
		DurationParam("sleep", "0s", "handler sleep of every request (a plain number is seconds, as before)").AtLeast(0).Seconds(),
		StringParam("arrivals", "uniform", "uniform or poisson").OneOf("uniform", "poisson"),
		IntParam("seed", "1", "seed of Poisson arrivals").AtLeast(0),
	}
}

// loadProfiles are the accepted values of load's profile parameter.
var loadProfiles = []string{"constant", "ramp", "pyramid", "spikes", "poisson"}

// profileRates returns the rate of each step (and, for ramp, the rate at
// the end of each step).
func profileRates(profile string, rate, peak float64, steps int) (start, end []float64, err error) {
	start, end = make([]float64, steps), make([]float64, steps)
	lerp := func(f float64) float64 { return rate + (peak-rate)*f }
	for k := 0; k < steps; k++ {
		switch profile {
		case "constant", "poisson":
			start[k] = rate
		case "ramp":
			start[k] = lerp(float64(k) / float64(steps))
			end[k] = lerp(float64(k+1) / float64(steps))
			continue
		case "pyramid":
			if steps == 1 {
				start[k] = peak
				break
			}
			start[k] = lerp(1 - math.Abs(2*float64(k)/float64(steps-1)-1))
		case "spikes":
			if k%2 == 0 {
				start[k] = rate
			} else {
				spikes := steps / 2
				start[k] = lerp(float64((k+1)/2) / float64(spikes))
			}
		default:
			return nil, nil, fmt.Errorf("load: unknown profile %q (constant, ramp, pyramid, spikes, poisson)", profile)
		}
		end[k] = start[k]
	}
	return start, end, nil
}

// Run implements Experiment.
func (Load) Run(ctx context.Context, b *engine.Benchmarker, p Params) (Estimates, error) {
	fn, profile, arrivals := p.String("function"), p.String("profile"), p.String("arrivals")
	rate, peak, steps, stepDur := p.Float("rate"), p.Float("peak"), p.Int("steps"), p.Duration("step_duration")
	sleep, seed := p.Duration("sleep"), p.Int("seed")
	if profile == "poisson" {
		arrivals = "poisson"
	}
	startR, endR, err := profileRates(profile, rate, peak, steps)
	if err != nil {
		return nil, err
	}
	var total float64
	for k := range startR {
		total += (startR[k] + endR[k]) / 2 * stepDur.Seconds()
	}
	b.Expect(int64(total))
	est := newEstimates()
	var all []float64
	var cold, errs, thr, dropped, late int
	req := lab.Request{Sleep: sleep.Seconds()}
	for k := 0; k < steps && ctx.Err() == nil; k++ {
		pb := b.WithPhase(fmt.Sprintf("step-%d", k+1))
		offered := (startR[k] + endR[k]) / 2
		pb.Record(MetricOfferedRate, offered, map[string]string{"profile": profile, "arrivals": arrivals})
		var pacer engine.Pacer
		switch {
		case arrivals == "poisson":
			pacer = engine.NewPoissonPacer(offered, uint64(seed)+uint64(k))
		case startR[k] != endR[k]:
			pacer = engine.LinearPacer{Start: startR[k], Slope: (endR[k] - startR[k]) / stepDur.Seconds()}
		default:
			pacer = engine.ConstantPacer{Rate: startR[k]}
		}
		rep := pb.InvokeAtRate(ctx, fn, pacer, stepDur, req)
		var lat []float64
		sc, se := 0, 0
		for _, r := range rep.Results {
			if !r.OK() {
				se++
				if isThrottled(r) {
					thr++
				}
				continue
			}
			lat = append(lat, latencyMS(r))
			if c, _ := r.Cold(); c {
				sc++
			}
		}
		se += rep.Dropped
		all = append(all, lat...)
		cold, errs, dropped, late = cold+sc, errs+se, dropped+rep.Dropped, late+rep.Late
		pre := fmt.Sprintf("step_%d_", k+1)
		est.set(pre+"offered_rate", offered)
		est.set(pre+"sent_rate", float64(rep.Sent)/stepDur.Seconds())
		est.quantile(pre+"p50_ms", lat, 0.5)
		est.quantile(pre+"p99_ms", lat, 0.99)
		est.set(pre+"cold", float64(sc))
		est.set(pre+"errors", float64(se))
		if elapsed := b.Elapsed(); k+1 < steps {
			b.Logger().Info("load step done", "step", k+1, "of", steps, "elapsed", elapsed.Round(time.Second),
				"left", (time.Duration(steps-k-1) * stepDur).Round(time.Second))
		}
	}
	est.quantile("p50_ms", all, 0.5)
	est.quantile("p95_ms", all, 0.95)
	est.quantile("p99_ms", all, 0.99)
	est.logNotes(b.Logger())
	est.set("cold_starts", float64(cold))
	est.set("errors", float64(errs))
	est.set("throttled", float64(thr))
	est.set("dropped", float64(dropped))
	est.set("late", float64(late))
	return est.result(ctx.Err())
}
