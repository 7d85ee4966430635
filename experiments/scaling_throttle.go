package experiments

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"sort"
	"strconv"
	"time"

	"github.com/faas-benchmarker/faas-benchmarker/engine"
	"github.com/faas-benchmarker/faas-benchmarker/providers"
)

// Throttle handling of the scaling experiment: how callers back off after
// a refusal, how refusals are counted by the platform's reason, and the
// check of the account's concurrency before anything is sent.
//
// Offered load. A step's offered load is its number of closed-loop
// callers, steps[k]: each caller has one request outstanding or is waiting
// out its backoff after a failure, and sends its next request as soon as
// the previous one is answered (or its backoff has passed). A throttled
// attempt is a refused request, not served load: every attempt is stored
// with its send time, and a refused one with the platform's reason
// (invocations.error_reason, e.g. Lambda's ConcurrentInvocationLimitExceeded
// or FunctionInvocationRateLimitExceeded).
//
// Backoff. After a failure a caller waits a "full jitter" capped
// exponential backoff (AWS Architecture Blog, Marc Brooker, "Exponential
// Backoff And Jitter", 2015,
// https://aws.amazon.com/blogs/architecture/exponential-backoff-and-jitter/):
// sleep = uniform(0, min(cap, backoff·2^attempt)), attempt counting the
// caller's consecutive failures from 0 and resetting on a success. The
// cap is max(backoff, 2·callers/throttle_budget): once every caller waits
// at the cap, the callers' retries together arrive at about
// throttle_budget per second whatever a step's size (a fixed 20 ms retry
// from 500 callers would send 25,000 refused calls per second into the
// account), and an instance the platform allows is taken after about
// 1/throttle_budget s on average, which bounds the resolution of the
// scale-out rate estimate (1 ms at the default 1000/s).

// jitterBackoff is one caller's capped exponential backoff with full
// jitter. It is not safe for concurrent use: each caller owns one.
type jitterBackoff struct {
	base    time.Duration
	attempt int
	rng     *rand.Rand
}

// newJitterBackoff returns the backoff of caller number caller of a run,
// its random stream derived from seed and caller.
func newJitterBackoff(base time.Duration, seed uint64, caller int) *jitterBackoff {
	return &jitterBackoff{base: base, rng: rand.New(rand.NewPCG(seed, uint64(caller)))}
}

// next returns the wait after one more failure: uniform in
// [0, min(limit, base·2^attempt)).
func (j *jitterBackoff) next(limit time.Duration) time.Duration {
	ceiling := limit
	if j.attempt < 30 { // base·2^30 exceeds any useful cap
		ceiling = min(limit, j.base<<j.attempt)
	}
	j.attempt++
	if ceiling <= 0 {
		return 0
	}
	return time.Duration(j.rng.Int64N(int64(ceiling)))
}

// reset starts over after a success.
func (j *jitterBackoff) reset() { j.attempt = 0 }

// backoffCap is the longest backoff of a step with callers callers: the
// callers' retries then arrive at about budget per second in all (the
// mean of uniform(0, cap) is cap/2).
func backoffCap(base time.Duration, callers int, budget float64) time.Duration {
	return max(base, time.Duration(2*float64(callers)/budget*float64(time.Second)))
}

// runSeed derives the callers' random streams from the run id, so that a
// run's backoffs are reproducible from its record.
func runSeed(runID string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(runID))
	return h.Sum64()
}

// unknownReason tags refusals the platform gave no reason for.
const unknownReason = "unknown"

// throttleReason is the platform's reason for a throttled result.
func throttleReason(r *engine.Result) string {
	if r.Record.ErrorReason != "" {
		return r.Record.ErrorReason
	}
	return unknownReason
}

// recordThrottles stores the metric "throttled" once per reason with
// count, tags plus the reason.
func recordThrottles(pb *engine.Benchmarker, counts map[string]int, tags map[string]string) {
	reasons := make([]string, 0, len(counts))
	for r := range counts {
		reasons = append(reasons, r)
	}
	sort.Strings(reasons)
	for _, r := range reasons {
		t := map[string]string{"reason": r}
		for k, v := range tags {
			t[k] = v
		}
		pb.Record("throttled", float64(counts[r]), t)
	}
}

// Values of the over_limit parameter.
const (
	overLimitRefuse = "refuse"
	overLimitAllow  = "allow"
)

// checkConcurrency reads, on a platform whose functions share an account's
// pool (providers.AccountConcurrency: AWS Lambda), the account's concurrency limits
// before anything is sent, records them (metrics account_concurrency,
// unreserved_concurrency, reserved_concurrency) and compares the most
// concurrent requests the run makes (need) with what the function can
// get. A function with reserved concurrency throttles itself only
// (ReservedFunctionConcurrentInvocationLimitExceeded): that is measured.
// Otherwise a need above the unreserved pool would measure the account's
// limit, not the platform, and would take the pool from every other
// function of the account in the region: refused unless over_limit=allow
// (then a warning), which belongs in an account of its own. Limits that
// cannot be read are refused the same way. Other platforms have no
// account shared with other functions (the local platform's limit is the
// subject of its experiments) and are not checked.
func checkConcurrency(ctx context.Context, b *engine.Benchmarker, fn string, need int, policy string) error {
	if !b.Has(providers.AccountConcurrency) || need == 0 {
		return nil
	}
	lim, err := b.ConcurrencyLimits(ctx, fn)
	if err != nil {
		if policy == overLimitAllow {
			b.Logger().Warn("scaling: the account's Lambda concurrency limits could not be read; running anyway (over_limit=allow)", "err", err)
			return nil
		}
		if errors.Is(err, engine.ErrNotSupported) {
			return fmt.Errorf("scaling: %w", err)
		}
		return fmt.Errorf("scaling: cannot read the account's Lambda concurrency limits (%v): allow lambda:GetAccountSettings, or set over_limit=allow in an account of its own", err)
	}
	pb := b.WithPhase("limits")
	pb.Record("account_concurrency", float64(lim.Account), nil)
	pb.Record("unreserved_concurrency", float64(lim.Unreserved), nil)
	if lim.HasReserved {
		pb.Record("reserved_concurrency", float64(lim.Reserved), map[string]string{"function": fn})
		if need > lim.Reserved {
			b.Logger().Info("scaling: demand above the function's reserved concurrency is throttled by the function's own limit",
				"function", fn, "reserved", lim.Reserved, "demand", need)
		}
		return nil
	}
	if need <= lim.Unreserved {
		return nil
	}
	msg := fmt.Sprintf("scaling: up to %d concurrent requests exceed the %d unreserved concurrent executions of the account (of %d): the run would measure the account's limit and throttle every other function of the account in this region",
		need, lim.Unreserved, lim.Account)
	if policy == overLimitAllow {
		b.Logger().Warn(msg + " (over_limit=allow)")
		pb.Record("over_limit", float64(need), map[string]string{"unreserved": strconv.Itoa(lim.Unreserved)})
		return nil
	}
	return errors.New(msg + "; lower bursts/steps, give the function reserved concurrency, or run in an account of its own with over_limit=allow")
}

// MaxConcurrency is the most requests the scaling experiment has in flight
// at once with parameters p: its largest burst or step. It returns 0 with
// over_limit=allow, which accepts exceeding the account's concurrency.
// It implements ConcurrencyNeeder.
func (Scaling) MaxConcurrency(p Params) int {
	if p.String("over_limit") == overLimitAllow {
		return 0
	}
	return maxOf(p.Ints("bursts"), p.Ints("steps"))
}

func maxOf(lists ...[]int) int {
	m := 0
	for _, l := range lists {
		for _, v := range l {
			m = max(m, v)
		}
	}
	return m
}

// ConcurrencyNeeder is implemented by experiments whose parameters say how
// many requests they have in flight at once that must fit into the
// account's concurrency: the preflight (doctor) compares it with the
// account's unreserved concurrency before a stack is deployed. 0 means
// not to check.
type ConcurrencyNeeder interface {
	MaxConcurrency(p Params) int
}
