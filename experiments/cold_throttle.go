package experiments

import (
	"context"
	"time"

	"github.com/faas-benchmarker/faas-benchmarker/engine"
	"github.com/faas-benchmarker/faas-benchmarker/functions/lab"
)

// Throttled cold samples. A platform limits how fast a function may start
// new instances (Lambda: 1,000 execution environments per function every
// 10 seconds, https://docs.aws.amazon.com/lambda/latest/dg/scaling-behavior.html;
// the local platform: scale_burst, then scale_rate per second) and refuses
// an invocation that would need one beyond it (HTTP 429,
// TooManyRequestsException, reason FunctionInvocationRateLimitExceeded).
// Every cold sample needs a new instance, so a run of quick cold samples
// meets the limit: a refused request started no instance — it is neither
// a cold start nor a failed one. The cold-sample experiments therefore
// count refusals apart (cold_throttled, and the metric "throttled" per
// reason) and wait them out like any client of the platform: a sample
// every request of which was refused is sent again, after a full-jitter
// capped exponential backoff (see scaling_throttle.go), since the function
// is still cold; after a partly refused burst the next sample waits the
// backoff too.

const (
	// coldThrottleBase and coldThrottleCap bound the backoff after a
	// refused cold sample: 100 ms doubling up to 5 s, about the time the
	// local platform's default rate (10 per second) and Lambda's (100 per
	// second) take to allow a few more instances.
	coldThrottleBase = 100 * time.Millisecond
	coldThrottleCap  = 5 * time.Second
	// coldThrottleAttempts is how often one sample is sent while every
	// request of it is refused (about 15 s of backoff in all), before the
	// sample is given up as throttled.
	coldThrottleAttempts = 8
)

// coldSender sends cold samples and waits out the platform's throttles.
// It is not safe for concurrent use.
type coldSender struct {
	b         *engine.Benchmarker
	backoff   *jitterBackoff
	throttled map[string]int // refused requests by the platform's reason
}

// newColdSender returns a sender for the cold samples of b's run, its
// backoff reproducible from the run id; the metric "throttled" is stored
// in b's phase.
func newColdSender(b *engine.Benchmarker) *coldSender {
	return &coldSender{b: b, backoff: newJitterBackoff(coldThrottleBase, runSeed(b.RunID()), 0), throttled: map[string]int{}}
}

// send invokes fn once (conc 1) or with a burst of conc requests behind a
// barrier, in pb's phase, and returns the results the platform did not
// refuse. Refused requests are counted by reason; a sample refused whole
// is sent again after the backoff, up to coldThrottleAttempts times.
func (s *coldSender) send(ctx context.Context, pb *engine.Benchmarker, fn string, conc int) []*engine.Result {
	for attempt := 1; ; attempt++ {
		var rs []*engine.Result
		if conc == 1 {
			rs = []*engine.Result{pb.Invoke(ctx, fn, lab.Request{})}
		} else {
			rs = pb.InvokeConcurrently(ctx, fn, conc, lab.Request{})
		}
		kept := rs[:0]
		for _, r := range rs {
			if isThrottled(r) {
				s.throttled[throttleReason(r)]++
				continue
			}
			kept = append(kept, r)
		}
		if len(kept) == len(rs) {
			s.backoff.reset()
			return kept
		}
		wait := s.backoff.next(coldThrottleCap)
		s.b.Logger().Debug("cold sample throttled; waiting", "function", fn, "refused", len(rs)-len(kept),
			"of", len(rs), "attempt", attempt, "wait", wait)
		if err := s.b.Sleep(ctx, wait); err != nil || len(kept) > 0 || attempt == coldThrottleAttempts {
			return kept
		}
		s.b.Expect(int64(conc))
	}
}

// total returns the number of refused requests.
func (s *coldSender) total() int {
	n := 0
	for _, c := range s.throttled {
		n += c
	}
	return n
}

// record sets the estimate cold_throttled and stores the metric
// "throttled" once per reason.
func (s *coldSender) record(est *estimates) {
	est.set("cold_throttled", float64(s.total()))
	recordThrottles(s.b, s.throttled, nil)
}
