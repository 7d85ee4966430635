package localfaas_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/faas-benchmarker/faas-benchmarker/localfaas"
	"github.com/faas-benchmarker/faas-benchmarker/localfaas/localfaastest"
)

// TestIdleTimeout: with idle timeout 2 s an instance idle about 1 s is
// reused and one idle 3 s is replaced by a cold one, and the eviction is
// never early. The checks read the platform's own event times, not the
// test's sleeps, so a stalled machine cannot make them fail: the time an
// invocation reached its instance is no later than when the instance was
// released afterwards, so "next invocation minus this one" bounds the idle
// time from above, and "eviction minus the last invocation" too.
func TestIdleTimeout(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	cfg.IdleTimeout = 2 * time.Second
	p := startPlatform(t, cfg)
	c := sdkClient(p)
	invoked := func(n int) localfaas.Event { // the n-th invocation's event, from 1
		t.Helper()
		seen := 0
		return waitEvent(t, p, 0, 10*time.Second, func(e localfaas.Event) bool {
			if e.Kind == localfaas.EventInvoked && e.Function == "echo" {
				seen++
			}
			return seen == n
		})
	}

	first := invoke(t, c, "echo", map[string]any{})
	id1 := header(first, localfaas.HeaderInstanceID)
	time.Sleep(time.Second)
	warm := invoke(t, c, "echo", map[string]any{})
	if gap := invoked(2).Time.Sub(invoked(1).Time); gap < cfg.IdleTimeout {
		// Idle less than the timeout: the instance must be reused.
		if got := header(warm, localfaas.HeaderInstanceID); got != id1 {
			t.Fatalf("idle < %v: served by %s, want the same instance %s", gap, got, id1)
		}
		if _, rep := tailReport(t, warm); rep.InitDuration != nil || header(warm, localfaas.HeaderCold) != "false" {
			t.Errorf("idle < %v: warm invocation reported as cold", gap)
		}
	} else {
		t.Logf("the machine stalled: the second invocation came %v after the first; reuse not checked", gap)
	}
	last := invoked(2)
	if last.InstanceID != id1 {
		last = invoked(1)
	}
	time.Sleep(3 * time.Second)
	ev := waitEvent(t, p, 0, 10*time.Second, func(e localfaas.Event) bool {
		return e.Kind == localfaas.EventEvicted && e.InstanceID == id1
	})
	if ev.Reason != localfaas.ReasonIdle {
		t.Errorf("evicted for %s, want idle", ev.Reason)
	}
	if idle := ev.Time.Sub(last.Time); idle < cfg.IdleTimeout {
		t.Errorf("evicted %v after its last invocation arrived, before the 2 s idle timeout", idle)
	}
	cold := invoke(t, c, "echo", map[string]any{})
	r := decodeReply(t, cold)
	if got := header(cold, localfaas.HeaderInstanceID); got == id1 || !r.Cold {
		t.Errorf("idle 3 s: served by %s (cold=%v), want a new cold instance", got, r.Cold)
	}
	if _, rep := tailReport(t, cold); rep.InitDuration == nil {
		t.Errorf("idle 3 s: no Init Duration on the cold start")
	}
}

// TestMaxInstances: 10 concurrent requests with max-instances 4 give exactly
// 4 instances and 6 throttles.
func TestMaxInstances(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	cfg.MaxInstances = 4
	p := startPlatform(t, cfg)
	c := sdkClient(p)

	const n = 10
	var (
		wg        sync.WaitGroup
		mu        sync.Mutex
		ok        int
		throttled int
		instances = map[string]bool{}
		other     []error
	)
	start := make(chan struct{})
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			out, err := c.Invoke(context.Background(), &lambda.InvokeInput{FunctionName: aws.String("echo"),
				Payload: []byte(`{"sleep_ms":4000}`)})
			mu.Lock()
			defer mu.Unlock()
			var tm *types.TooManyRequestsException
			switch {
			case err == nil && out.FunctionError == nil:
				ok++
				instances[header(out, localfaas.HeaderInstanceID)] = true
			case errors.As(err, &tm):
				throttled++
			default:
				other = append(other, err)
			}
		}()
	}
	close(start)
	wg.Wait()
	if ok != 4 || throttled != 6 || len(instances) != 4 || len(other) != 0 {
		t.Errorf("ok %d throttled %d instances %d other %v; want 4, 6, 4, none", ok, throttled, len(instances), other)
	}
	if got := localfaastest.CountEvents(p, "echo", localfaas.EventCreated, false); got != 4 {
		t.Errorf("%d created events, want 4", got)
	}
	if got := localfaastest.CountEvents(p, "echo", localfaas.EventThrottled, false); got != 6 {
		t.Errorf("%d throttled events, want 6", got)
	}
}

// TestScaleRate: burst 2, then one new instance per 3 s.
func TestScaleRate(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	cfg.ScaleBurst = 2
	cfg.ScaleRate = 1.0 / 3
	p := startPlatform(t, cfg)
	c := sdkClient(p)

	// busy sends n concurrent long invocations and counts the outcomes.
	busy := func(n int) (ok, throttled int) {
		var wg sync.WaitGroup
		var mu sync.Mutex
		for range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := c.Invoke(context.Background(), &lambda.InvokeInput{FunctionName: aws.String("echo"),
					Payload: []byte(`{"sleep_ms":8000}`)})
				var tm *types.TooManyRequestsException
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					ok++
				case errors.As(err, &tm) && tm.Reason == "FunctionInvocationRateLimitExceeded":
					throttled++
				default:
					t.Errorf("unexpected: %v", err)
				}
			}()
		}
		wg.Wait()
		return ok, throttled
	}
	began := time.Now()
	var wg sync.WaitGroup
	wg.Add(1)
	var ok1, thr1 int
	go func() { defer wg.Done(); ok1, thr1 = busy(5) }()
	// While those two instances are busy, wait for the bucket to refill one
	// token (3 s) but not two (6 s): exactly one more instance may start.
	first := waitEvent(t, p, 0, 20*time.Second, func(e localfaas.Event) bool { return e.Kind == localfaas.EventThrottled })
	time.Sleep(time.Until(first.Time.Add(3500 * time.Millisecond)))
	sent := time.Now()
	ok2, thr2 := busy(2)
	wg.Wait()
	if ok1 != 2 || thr1 != 3 {
		t.Errorf("burst: %d ok, %d throttled; want 2 and 3", ok1, thr1)
	}
	// The two burst tokens were taken between began and the first
	// throttle; the check holds only if the second batch came 3-6 s later.
	if sent.Sub(first.Time) >= 3*time.Second && sent.Sub(began) < 6*time.Second {
		if ok2 != 1 || thr2 != 1 {
			t.Errorf("3.5 s after the burst at 1 per 3 s: %d ok, %d throttled; want 1 and 1", ok2, thr2)
		}
	} else {
		t.Logf("machine too slow for the refill check (second batch %v after start)", sent.Sub(began))
	}
	if got := localfaastest.CountEvents(p, "echo", localfaas.EventCreated, false); got != 2+ok2 {
		t.Errorf("%d instances created, want %d", got, 2+ok2)
	}
}

// TestConfigUpdateForcesColdStart: UpdateFunctionConfiguration retires the
// instances, the SDK's FunctionUpdatedV2 waiter succeeds, and the next
// invocation is cold on a new instance with the new settings.
func TestConfigUpdateForcesColdStart(t *testing.T) {
	t.Parallel()
	p := startPlatform(t, testConfig(t))
	c := sdkClient(p)
	ctx := context.Background()

	out := invoke(t, c, "echo", map[string]any{})
	id1 := header(out, localfaas.HeaderInstanceID)
	if header(invoke(t, c, "echo", map[string]any{}), localfaas.HeaderInstanceID) != id1 {
		t.Fatal("second invocation not warm")
	}
	seq := lastSeq(p)
	upd, err := c.UpdateFunctionConfiguration(ctx, &lambda.UpdateFunctionConfigurationInput{
		FunctionName: aws.String("echo"),
		MemorySize:   aws.Int32(512),
		Environment:  &types.Environment{Variables: map[string]string{"FB_COLD_NONCE": "1"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToInt32(upd.MemorySize) != 512 || upd.LastUpdateStatus != types.LastUpdateStatusSuccessful || upd.State != types.StateActive {
		t.Errorf("update output: memory %d status %s state %s", aws.ToInt32(upd.MemorySize), upd.LastUpdateStatus, upd.State)
	}
	w := lambda.NewFunctionUpdatedV2Waiter(c)
	if err := w.Wait(ctx, &lambda.GetFunctionInput{FunctionName: aws.String("echo")}, 10*time.Second); err != nil {
		t.Fatalf("FunctionUpdatedV2 waiter: %v", err)
	}
	ev := waitEvent(t, p, seq, 10*time.Second, func(e localfaas.Event) bool {
		return e.Kind == localfaas.EventEvicted && e.InstanceID == id1
	})
	if ev.Reason != localfaas.ReasonConfigUpdate {
		t.Errorf("evicted for %s, want config_update", ev.Reason)
	}
	out = invoke(t, c, "echo", map[string]any{})
	r := decodeReply(t, out)
	_, rep := tailReport(t, out)
	if header(out, localfaas.HeaderInstanceID) == id1 || !r.Cold || rep.InitDuration == nil {
		t.Errorf("after the update: instance %s cold %v init %v; want a new cold instance",
			header(out, localfaas.HeaderInstanceID), r.Cold, rep.InitDuration)
	}
	if r.Env["FB_COLD_NONCE"] != "1" || r.Env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] != "512" || rep.MemoryMB != 512 {
		t.Errorf("new settings not applied: env %q memory %s report %d", r.Env["FB_COLD_NONCE"],
			r.Env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"], rep.MemoryMB)
	}
	got, err := c.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String("echo")})
	if err != nil {
		t.Fatal(err)
	}
	if got.Environment == nil || got.Environment.Variables["FB_COLD_NONCE"] != "1" || aws.ToInt32(got.MemorySize) != 512 {
		t.Errorf("GetFunctionConfiguration does not show the update: %+v", got)
	}
}

// TestMaxLifetime: an instance older than the max lifetime is retired once
// idle.
func TestMaxLifetime(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	cfg.MaxLifetime = time.Second
	p := startPlatform(t, cfg)
	c := sdkClient(p)
	id := header(invoke(t, c, "echo", map[string]any{}), localfaas.HeaderInstanceID)
	ev := waitEvent(t, p, 0, 10*time.Second, func(e localfaas.Event) bool {
		return e.Kind == localfaas.EventEvicted && e.InstanceID == id
	})
	if ev.Reason != localfaas.ReasonLifetime {
		t.Errorf("evicted for %s, want lifetime", ev.Reason)
	}
}

// TestBusyInstanceIsNotEvicted: the idle timeout never interrupts an
// invocation longer than it.
func TestBusyInstanceIsNotEvicted(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	cfg.IdleTimeout = 300 * time.Millisecond
	p := startPlatform(t, cfg)
	c := sdkClient(p)
	out := invoke(t, c, "echo", map[string]any{"sleep_ms": 1500})
	decodeReply(t, out)
	for _, e := range p.Events() {
		if e.Kind == localfaas.EventEvicted {
			t.Fatalf("evicted while busy: %+v", e)
		}
	}
}

// TestExtraInitDelay: the extra init delay is part of Init Duration, in the
// REPORT line and in the init_done event alike.
func TestExtraInitDelay(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	cfg.ExtraInitDelay = 300 * time.Millisecond
	p := startPlatform(t, cfg)
	out := invoke(t, sdkClient(p), "echo", map[string]any{})
	_, rep := tailReport(t, out)
	if rep.InitDuration == nil || *rep.InitDuration < 300 {
		t.Errorf("Init Duration %v ms, want >= 300", rep.InitDuration)
	}
	ev := waitEvent(t, p, 0, time.Second, func(e localfaas.Event) bool { return e.Kind == localfaas.EventInitDone })
	if ev.InitDurationMS < 300 || (rep.InitDuration != nil && ev.InitDurationMS != roundMS(*rep.InitDuration, ev.InitDurationMS)) {
		t.Errorf("init_done event %v ms vs REPORT %v ms", ev.InitDurationMS, rep.InitDuration)
	}
}

// roundMS returns exact when report is exact rounded to 2 decimals (the
// REPORT line prints 2 decimals), else report.
func roundMS(report, exact float64) float64 {
	if d := report - exact; d > -0.006 && d < 0.006 {
		return exact
	}
	return report
}

// TestPerFunctionMaxInstances: FunctionSpec.MaxInstances overrides the
// global limit for that function only.
func TestPerFunctionMaxInstances(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	cfg.Functions[0].MaxInstances = 1
	cfg.Functions = append(cfg.Functions, echoSpec(t, "other", "lambda"))
	p := startPlatform(t, cfg)
	c := sdkClient(p)
	done := make(chan error, 2)
	for _, fn := range []string{"echo", "other"} {
		go func() {
			_, err := c.Invoke(context.Background(), &lambda.InvokeInput{FunctionName: aws.String(fn), Payload: []byte(`{"sleep_ms":3000}`)})
			done <- err
		}()
	}
	for _, fn := range []string{"echo", "other"} {
		waitEvent(t, p, 0, 20*time.Second, func(e localfaas.Event) bool { return e.Function == fn && e.Kind == localfaas.EventInvoked })
	}
	_, err := c.Invoke(context.Background(), &lambda.InvokeInput{FunctionName: aws.String("echo"), Payload: []byte(`{}`)})
	var tm *types.TooManyRequestsException
	if !errors.As(err, &tm) {
		t.Errorf("echo (limit 1) while busy: %v, want throttled", err)
	}
	if out, err := c.Invoke(context.Background(), &lambda.InvokeInput{FunctionName: aws.String("other"), Payload: []byte(`{}`)}); err != nil || out.FunctionError != nil {
		t.Errorf("other (global limit) while busy: %v", err)
	}
	for range 2 {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
}
