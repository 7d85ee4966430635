package experiments

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/faas-benchmarker/faas-benchmarker/engine"
	"github.com/faas-benchmarker/faas-benchmarker/providers"
)

// rateLimited is a local-platform-like invoker whose every forced cold
// start is refused refusals times (Lambda's throttle, reason
// FunctionInvocationRateLimitExceeded) before the platform allows the new
// instance: a refused request starts nothing, so the function stays cold.
type rateLimited struct {
	refusals int

	mu      sync.Mutex
	left    int  // refusals left before the next instance is allowed
	cold    bool // the next allowed invocation starts an instance
	refused int
	next    int // instance ids
}

func (f *rateLimited) Platform() string { return "local" }

func (f *rateLimited) ForceColdStart(context.Context, string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.cold, f.left = true, f.refusals
	return nil
}

func (f *rateLimited) Invoke(_ context.Context, fn string, _ []byte) (*providers.Reply, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.cold && f.left > 0 {
		f.left--
		f.refused++
		return nil, &providers.Error{Platform: "local", Kind: providers.KindThrottled, StatusCode: 429,
			Reason: "FunctionInvocationRateLimitExceeded", Message: "Rate Exceeded."}
	}
	rep := &providers.Report{DurationMS: 1}
	cold := f.cold
	if cold {
		f.next++
		init := 30.0
		rep.InitDurationMS = &init
		f.cold = false
	}
	body := fmt.Sprintf(`{"schema_version":1,"function":%q,"instance":{"id":"i-%d","cold":%t}}`, fn, f.next, cold)
	return &providers.Reply{StatusCode: 200, Body: []byte(body), Report: rep}, nil
}

// TestColdStartWaitsOutThrottles: a cold request the platform refused
// started no instance — it is counted in cold_throttled (and the metric
// "throttled" by reason), never in cold_failed, and the sample is sent
// again until the platform allows it, so every sample is a cold start.
func TestColdStartWaitsOutThrottles(t *testing.T) {
	for _, refusals := range []int{0, 1, 3} {
		t.Run(fmt.Sprintf("refusals=%d", refusals), func(t *testing.T) {
			f := &rateLimited{refusals: refusals}
			b, sink := newTestBench(t, f, engine.Config{Capabilities: []providers.Capability{providers.ForceColdStart}})
			p, err := Resolve(ColdStart{}, map[string]string{"samples": "3"})
			if err != nil {
				t.Fatal(err)
			}
			est, err := ColdStart{}.Run(context.Background(), b, p)
			if err != nil {
				t.Fatal(err)
			}
			want := map[string]float64{"samples": 3, "cold_failed": 0, "failed": 0, "cold_throttled": float64(3 * refusals),
				"warm_samples": 3, "cold_fraction_flag": 1}
			for k, v := range want {
				if est[k] != v {
					t.Errorf("%s = %v, want %v", k, est[k], v)
				}
			}
			if got := metricSum(sink, "throttled", "reason", "FunctionInvocationRateLimitExceeded"); got != float64(3*refusals) {
				t.Errorf("metric throttled{FunctionInvocationRateLimitExceeded} = %v, want %d", got, 3*refusals)
			}
		})
	}
}

// TestColdSenderGivesUp: a sample the platform keeps refusing is sent
// coldThrottleAttempts times, then given up (no result, every refusal
// counted), and the waits between attempts grow.
func TestColdSenderGivesUp(t *testing.T) {
	f := &rateLimited{refusals: 1000}
	b, _ := newTestBench(t, f, engine.Config{Capabilities: []providers.Capability{providers.ForceColdStart}})
	s := newColdSender(b)
	s.backoff.base = time.Microsecond // the attempts, not the waits, are under test
	if err := b.ForceColdStart(context.Background(), "function1"); err != nil {
		t.Fatal(err)
	}
	if rs := s.send(context.Background(), b, "function1", 2); len(rs) != 0 {
		t.Errorf("%d results from a sample refused whole, want 0", len(rs))
	}
	if s.total() != 2*coldThrottleAttempts || f.refused != 2*coldThrottleAttempts {
		t.Errorf("counted %d refusals, platform refused %d, want %d", s.total(), f.refused, 2*coldThrottleAttempts)
	}
	if s.backoff.attempt != coldThrottleAttempts {
		t.Errorf("backoff at attempt %d, want %d (it grows with every refused attempt)", s.backoff.attempt, coldThrottleAttempts)
	}
}

// metricSum adds the values of the stored metrics named name whose tag
// key has value val.
func metricSum(s *memSink, name, key, val string) float64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	sum := 0.0
	for _, m := range s.metrics {
		if m.Name == name && m.Tags[key] == val {
			sum += m.Value
		}
	}
	return sum
}
