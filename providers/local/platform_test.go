package local_test

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/faas-benchmarker/faas-benchmarker/functions/lab"
	"github.com/faas-benchmarker/faas-benchmarker/localfaas"
	"github.com/faas-benchmarker/faas-benchmarker/localfaas/localfaastest"
	"github.com/faas-benchmarker/faas-benchmarker/providers"
	"github.com/faas-benchmarker/faas-benchmarker/providers/local"
)

func decode(t *testing.T, r *providers.Reply) lab.Response {
	t.Helper()
	var resp lab.Response
	if err := json.Unmarshal(r.Body, &resp); err != nil {
		t.Fatalf("decode %q: %v", r.Body, err)
	}
	return resp
}

func invoke(t *testing.T, p *local.Provider, fn string, payload string) *providers.Reply {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	r, err := p.Invoke(ctx, fn, []byte(payload))
	if err != nil {
		t.Fatalf("Invoke %s: %v", fn, err)
	}
	return r
}

// TestAgainstLocalPlatform runs the provider against the real embedded
// platform with the real lab binaries: cold then warm, REPORT parsing,
// ForceColdStart through the configuration API, errors.
func TestAgainstLocalPlatform(t *testing.T) {
	plat := localfaastest.Start(t, localfaas.Config{})
	p, err := local.New(local.Config{Endpoint: plat.URL(), Functions: map[string]string{"lab1": "function1"}})
	if err != nil {
		t.Fatal(err)
	}

	// 1. First call: cold, Init Duration reported, ids consistent.
	r1 := invoke(t, p, "lab1", `{}`)
	resp1 := decode(t, r1)
	if r1.StatusCode != 200 || r1.FunctionError != "" || resp1.Error != nil || !resp1.Instance.Cold || resp1.Function != "function1" {
		t.Fatalf("first reply %+v / %+v", r1, resp1)
	}
	if r1.Report == nil || r1.Report.InitDurationMS == nil || r1.Report.MemorySizeMB != 128 || r1.Report.DurationMS <= 0 {
		t.Fatalf("cold report = %+v", r1.Report)
	}
	if r1.RequestID == "" || r1.RequestID != resp1.RequestID {
		t.Errorf("request id %q, lab saw %q", r1.RequestID, resp1.RequestID)
	}

	// 2. Second call: warm, same instance, no Init Duration.
	r2 := invoke(t, p, "lab1", `{}`)
	resp2 := decode(t, r2)
	if resp2.Instance.Cold || resp2.Instance.ID != resp1.Instance.ID {
		t.Fatalf("second call: cold=%v instance %s (first %s)", resp2.Instance.Cold, resp2.Instance.ID, resp1.Instance.ID)
	}
	if r2.Report == nil || r2.Report.InitDurationMS != nil {
		t.Fatalf("warm report = %+v", r2.Report)
	}

	// 3. ForceColdStart: the next call is cold on a new instance.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := p.ForceColdStart(ctx, "lab1"); err != nil {
		t.Fatalf("ForceColdStart: %v", err)
	}
	r3 := invoke(t, p, "lab1", `{}`)
	resp3 := decode(t, r3)
	if !resp3.Instance.Cold || resp3.Instance.ID == resp1.Instance.ID || r3.Report == nil || r3.Report.InitDurationMS == nil {
		t.Fatalf("after ForceColdStart: cold=%v instance %s (before %s) report %+v", resp3.Instance.Cold, resp3.Instance.ID, resp1.Instance.ID, r3.Report)
	}
	evicted := false
	for _, ev := range plat.Events() {
		if ev.Kind == localfaas.EventEvicted && ev.Reason == localfaas.ReasonConfigUpdate && ev.InstanceID != "" {
			evicted = true
		}
	}
	if !evicted {
		t.Error("platform recorded no config_update eviction")
	}

	// 4. A lab input error is a function error with the body kept.
	r4 := invoke(t, p, "lab1", `{"sleep":-1}`)
	if r4.FunctionError == "" || len(r4.Body) == 0 {
		t.Errorf("bad input: reply %+v", r4)
	}

	// 5. Unknown function.
	if _, err := p.Invoke(ctx, "nope", []byte(`{}`)); providers.KindOf(err) != providers.KindNotFound {
		t.Errorf("unknown function: %v", err)
	}
}

// TestThrottledByLocalPlatform fills the only instance allowed and checks
// that the next call is classified as throttled.
func TestThrottledByLocalPlatform(t *testing.T) {
	plat := localfaastest.Start(t, localfaas.Config{MaxInstances: 1})
	p, err := local.New(local.Config{Endpoint: plat.URL()})
	if err != nil {
		t.Fatal(err)
	}
	invoke(t, p, "function2", `{}`) // start the instance outside the measured part

	var wg sync.WaitGroup
	wg.Add(1)
	var slowErr error
	go func() {
		defer wg.Done()
		_, slowErr = p.Invoke(context.Background(), "function2", []byte(`{"sleep":3}`))
	}()
	// Wait until the platform has handed the slow call to the instance.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var seq int64
	for busy := false; !busy; {
		evs, changed := plat.EventsSince(seq)
		for _, ev := range evs {
			seq = ev.Seq
			if ev.Kind == localfaas.EventInvoked && ev.Function == "function2" && !ev.Cold {
				busy = true
			}
		}
		if !busy {
			select {
			case <-changed:
			case <-ctx.Done():
				t.Fatal("slow invocation never reached the instance")
			}
		}
	}
	_, err = p.Invoke(ctx, "function2", []byte(`{}`))
	if providers.KindOf(err) != providers.KindThrottled {
		t.Errorf("second concurrent call: %v, want throttled", err)
	}
	wg.Wait()
	if slowErr != nil {
		t.Errorf("slow call: %v", slowErr)
	}
}
