package experiments

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/faas-benchmarker/faas-benchmarker/engine"
	"github.com/faas-benchmarker/faas-benchmarker/functions/lab"
	"github.com/faas-benchmarker/faas-benchmarker/stats"
)

// Scaling measures how a function scales out.
//
// Question: how many instances does a function get at once, how fast does
// the platform add more, where is the concurrency limit, and what happens
// to requests beyond it (throttled, or waiting behind an initialisation)?
//
// Method: two parts, each starting from zero instances (forced cold).
// Bursts (phases "burst-<n>"): for each size n, n requests released
// together behind a barrier, each sleeping `sleep` so that they overlap;
// the distinct instances answering and the throttles are counted. Step
// load (phases "step-<k>"): closed-loop callers, each invoking with
// `sleep` again and again, retrying a failed request after a jittered
// exponential backoff (base `backoff`, all callers' retries capped at about
// `throttle_budget` per second; scaling_throttle.go defines it and the
// step's offered load); at step k the number of callers rises to steps[k]
// and stays for step_duration. Every throttled attempt is stored with its
// time and the platform's reason, and counted per step and reason (metric
// throttled). An instance is born with its cold request; the sorted
// birth times (the send time of the request that came back cold on a new
// instance id) give the instances over time. The first birth whose caller
// had been throttled before shows that the scale-out budget is exhausted;
// from then on demand exceeds supply and births happen as soon as the
// platform allows, so scale_rate_per_s is the
// inverse of the median gap between those births (needs n >= 3).
// The metric instances (tag step) is the count of distinct instances at
// the end of each step.
//
// Parameters: function (function2), bursts (5,10,20), steps (10,20),
// step_duration (3s), sleep (500ms), backoff (20ms), throttle_budget
// (1000/s), over_limit (refuse), idle_wait (0s, for platforms that cannot
// force cold starts). Defaults suit the local platform's defaults (burst
// 100, limit 100), which they do not reach: to see the limit and the rate
// there, lower the local knobs (--local-scale-burst 5
// --local-max-instances 20). On AWS the run first reads the account's
// concurrency (checkConcurrency) and refuses a burst or step above the
// unreserved pool, which would measure the account, not Lambda, and starve
// every other function of the account. Lambda adds up to 1,000 execution
// environments per function every 10 s, so its rate shows only above
// 1,000 concurrent requests, in an account of its own whose concurrency
// quota was raised (docs/experiments.md, "scaling on AWS").
//
// Estimates: max_instances (distinct instances during the step load),
// limit_reached (1 when requests were still throttled more than
// max(1 s, 3 token periods) after the last new instance: max_instances is
// then the concurrency limit),
// burst_max_instances (most distinct instances a burst obtained),
// scale_rate_per_s (absent when the budget was never exhausted; its 95 %
// interval inverts the order-statistic interval of the median gap between
// rate-limited births, one gap per token of the scale-out budget, and needs
// 7 births),
// time_to_max_instances_s (step start to the last birth), throttled (all
// throttled requests), waited_for_init (requests of the step load that
// came back cold: they waited behind their instance's initialisation),
// rate_births (births the rate is computed from).
//
// Known limits: max_instances equals the concurrency limit only when the
// demand exceeded it (limit_reached). The rate resolution is about
// 1/throttle_budget while every caller is throttled, coarser when few
// are. On platforms that queue instead of throttling
// (OpenFaaS, Azure) there are no throttles and no rate estimate; the
// instances-over-time metrics still show the scale-out.
type Scaling struct{}

// Name implements Experiment.
func (Scaling) Name() string { return "scaling" }

// Summary implements Experiment.
func (Scaling) Summary() string {
	return "bursts and a step load: instances over time, scale-out rate, concurrency limit, throttles"
}

// Params implements Experiment.
func (Scaling) Params() []Param {
	return []Param{
		StringParam("function", "function2", "lab function to scale").Required(),
		IntListParam("bursts", "5,10,20", "burst sizes (empty: none)").AtLeast(1),
		IntListParam("steps", "10,20", "callers per step of the step load (empty: none)").AtLeast(1),
		DurationParam("step_duration", "3s", "duration of each step").Above(0),
		DurationParam("sleep", "500ms", "handler sleep of every request (holds an instance)").AtLeast(0).Seconds(),
		DurationParam("backoff", "20ms", "base of the jittered exponential backoff after a throttled request").Above(0),
		FloatParam("throttle_budget", "1000", "throttled retries per second all callers together send at most (caps each caller's backoff)").Above(0),
		StringParam("over_limit", overLimitRefuse, "AWS: a burst or step above the account's unreserved concurrency is refused, or allowed (an account of its own)").OneOf(overLimitRefuse, overLimitAllow),
		DurationParam("idle_wait", "0s", "wait this long for zero instances where cold starts cannot be forced").AtLeast(0),
	}
}

// Run implements Experiment.
func (Scaling) Run(ctx context.Context, b *engine.Benchmarker, p Params) (Estimates, error) {
	fn := p.String("function")
	bursts, steps := p.Ints("bursts"), p.Ints("steps")
	stepDur, sleep, backoff, idleWait := p.Duration("step_duration"), p.Duration("sleep"), p.Duration("backoff"), p.Duration("idle_wait")
	if err := checkConcurrency(ctx, b, fn, maxOf(bursts, steps), p.String("over_limit")); err != nil {
		return nil, err
	}
	var planned int64
	for _, n := range bursts {
		planned += int64(n)
	}
	if len(steps) > 0 && sleep > 0 {
		planned += int64(float64(slices.Max(steps)) * float64(len(steps)) * stepDur.Seconds() / sleep.Seconds())
	}
	b.Expect(planned)
	req := lab.Request{Sleep: sleep.Seconds()}
	est := newEstimates()
	throttled := 0

	if len(bursts) > 0 {
		burstMax, thr, err := scalingBursts(ctx, b, fn, req, bursts, idleWait)
		if err != nil {
			return est.result(err)
		}
		throttled += thr
		est.set("burst_max_instances", float64(burstMax))
	}
	if len(steps) > 0 && ctx.Err() == nil {
		if err := makeCold(ctx, b, fn, idleWait); err != nil {
			est.set("throttled", float64(throttled))
			return est.result(err)
		}
		st := stepLoad(ctx, b, fn, req, steps, stepDur, backoff, p.Float("throttle_budget"))
		throttled += st.throttled
		setStepEstimates(est, st, b.Logger())
	}
	est.set("throttled", float64(throttled))
	return est.result(ctx.Err())
}

// scalingBursts sends each burst of n concurrent requests to a cold fn and
// records how many instances served it and the throttles; it returns the
// most instances of any burst and the throttled requests.
func scalingBursts(ctx context.Context, b *engine.Benchmarker, fn string, req lab.Request, bursts []int, idleWait time.Duration) (burstMax, throttled int, err error) {
	for _, n := range bursts {
		if err := makeCold(ctx, b, fn, idleWait); err != nil {
			return burstMax, throttled, err
		}
		pb := b.WithPhase(fmt.Sprintf("burst-%d", n))
		rs := pb.InvokeConcurrently(ctx, fn, n, req)
		inst, thr, reasons := distinctInstances(rs), 0, map[string]int{}
		for _, r := range rs {
			if isThrottled(r) {
				thr++
				reasons[throttleReason(r)]++
			}
		}
		recordThrottles(pb, reasons, map[string]string{"n": fmt.Sprint(n)})
		throttled += thr
		burstMax = max(burstMax, inst)
		pb.Record("burst_instances", float64(inst), map[string]string{"n": fmt.Sprint(n), "throttled": fmt.Sprint(thr)})
		if ctx.Err() != nil {
			break
		}
	}
	return burstMax, throttled, nil
}

// setStepEstimates sets the estimates of the step load: the instances
// reached, how fast (scale_rate_per_s with its interval) and whether the
// platform's limit was reached.
func setStepEstimates(est *estimates, st stepResult, logger *slog.Logger) {
	est.set("max_instances", float64(len(st.births)))
	est.set("waited_for_init", float64(st.coldServed))
	if len(st.births) > 0 {
		est.set("time_to_max_instances_s", (st.births[len(st.births)-1] - st.start).Seconds())
	}
	firstWaited := time.Duration(-1)
	if len(st.waitedBirths) > 0 {
		firstWaited = st.waitedBirths[0]
	}
	rate, n, ok := scaleRate(st.births, firstWaited)
	if ok {
		est.set("scale_rate_per_s", rate)
		est.set("rate_births", float64(n))
		est.interval("scale_rate_per_s", stats.RateFromGapsCI(limitedBirthsS(st.births, firstWaited), IntervalLevel), n)
		est.logNotes(logger)
	}
	if len(st.births) > 0 {
		// Throttles long after the last birth: demand was refused while
		// no instance could be added, so max_instances is the limit. A
		// platform still scaling would have added one within a few
		// token periods.
		margin := time.Second
		if ok {
			margin = max(margin, time.Duration(3/rate*float64(time.Second)))
		}
		limited := 0.0
		if st.lastThrottle > st.births[len(st.births)-1]+margin {
			limited = 1
		}
		est.set("limit_reached", limited)
	}
}

type stepResult struct {
	start         time.Duration
	births        []time.Duration // sorted send times of requests that were served by a new instance
	waitedBirths  []time.Duration // sorted births whose caller had been throttled before: rate-limited
	firstThrottle time.Duration   // -1 when none
	lastThrottle  time.Duration   // -1 when none
	throttled     int
	coldServed    int
}

// stepLoad runs closed-loop callers, rising to steps[k] at step k; a
// failed request is retried after a jittered backoff (scaling_throttle.go).
func stepLoad(ctx context.Context, b *engine.Benchmarker, fn string, req lab.Request, steps []int, stepDur, backoff time.Duration, budget float64) stepResult {
	var (
		mu      sync.Mutex
		res     = stepResult{start: b.Elapsed(), firstThrottle: -1, lastThrottle: -1}
		seen    = map[string]bool{}
		reasons = map[string]int{} // throttles of the current step by reason
		phase   atomic.Pointer[engine.Benchmarker]
		capNS   atomic.Int64 // the current step's longest backoff
		wg      sync.WaitGroup
		seed    = runSeed(b.RunID())
	)
	// Callers finish their request in flight when the load ends: stopping
	// ends the loop, only ctx (Ctrl-C) cancels requests.
	var stopping atomic.Bool
	caller := func(id int) {
		defer wg.Done()
		bo := newJitterBackoff(backoff, seed, id)
		waited := false // this caller has been throttled: its next birth waited for the rate
		for !stopping.Load() && ctx.Err() == nil {
			r := phase.Load().Invoke(ctx, fn, req)
			if ctx.Err() != nil {
				return
			}
			sent := time.Duration(r.Record.SentNS)
			mu.Lock()
			switch {
			case isThrottled(r):
				res.throttled++
				reasons[throttleReason(r)]++
				waited = true
				if res.firstThrottle < 0 || sent < res.firstThrottle {
					res.firstThrottle = sent
				}
				res.lastThrottle = max(res.lastThrottle, sent)
			case r.OK() && r.InstanceID() != "":
				if !seen[r.InstanceID()] {
					seen[r.InstanceID()] = true
					res.births = append(res.births, sent)
					if waited {
						res.waitedBirths = append(res.waitedBirths, sent)
					}
				}
				waited = false
				if c, _ := r.Cold(); c {
					res.coldServed++
				}
			}
			mu.Unlock()
			if r.OK() {
				bo.reset()
			} else if b.Sleep(ctx, bo.next(time.Duration(capNS.Load()))) != nil {
				return
			}
		}
	}
	running, step := 0, 0
	for k, n := range steps {
		step = k + 1
		pb := b.WithPhase(fmt.Sprintf("step-%d", k+1))
		phase.Store(pb)
		pb.Record("callers", float64(n), map[string]string{"step": fmt.Sprint(k + 1)})
		capNS.Store(int64(backoffCap(backoff, n, budget)))
		for ; running < n; running++ {
			wg.Add(1)
			go caller(running)
		}
		if b.Sleep(ctx, stepDur) != nil {
			break
		}
		mu.Lock()
		pb.Record("instances", float64(len(seen)), map[string]string{"step": fmt.Sprint(k + 1)})
		recordThrottles(pb, reasons, map[string]string{"step": fmt.Sprint(k + 1)})
		clear(reasons)
		mu.Unlock()
	}
	stopping.Store(true)
	wg.Wait()
	// Requests still in flight when the load ended were answered after
	// the last step's record: their throttles count with that step, so
	// the stored metrics add up to the throttled estimate.
	if pb := phase.Load(); pb != nil && len(reasons) > 0 {
		recordThrottles(pb, reasons, map[string]string{"step": fmt.Sprint(step)})
	}
	slices.Sort(res.births)
	slices.Sort(res.waitedBirths)
	return res
}

// limitedBirthsS are the rate-limited births (from firstWaited on) in
// seconds, the events of scale_rate_per_s's interval.
func limitedBirthsS(births []time.Duration, firstWaited time.Duration) []float64 {
	var out []float64
	for _, t := range births {
		if t >= firstWaited {
			out = append(out, t.Seconds())
		}
	}
	return out
}

// scaleRate is the rate of the rate-limited births: one over the median
// gap between consecutive ones (stats.RateFromGaps), the estimate whose
// interval stats.RateFromGapsCI gives, over every birth from the first one
// whose caller had been throttled (and retried every backoff until the
// platform let it create an instance) on. That birth shows the scale-out
// budget was exhausted; from then on demand exceeds supply, so each new
// token is taken within one backoff and the births are spaced by the
// platform's scale-out rate: a gap is one token period plus the difference
// of two pickup delays. Earlier births got their token at once (the initial
// burst) and say nothing about the rate. The median gap, not a least-squares
// slope of the birth count, because one late pickup or a pause moves it
// little and because its order-statistic interval is exact for it (a slope
// would need an interval for cumulative counts, which are not independent
// points). Needs 3 births.
func scaleRate(births []time.Duration, firstWaited time.Duration) (rate float64, n int, ok bool) {
	if firstWaited < 0 {
		return 0, 0, false
	}
	limited := limitedBirthsS(births, firstWaited)
	n = len(limited)
	if n < 3 {
		return 0, n, false
	}
	rate = stats.RateFromGaps(limited)
	if math.IsNaN(rate) {
		return 0, n, false
	}
	return rate, n, true
}
