package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/faas-benchmarker/faas-benchmarker/functions/lab"
	"github.com/faas-benchmarker/faas-benchmarker/providers"
	"github.com/faas-benchmarker/faas-benchmarker/results"
)

// memSink keeps records in memory.
type memSink struct {
	mu      sync.Mutex
	invs    []results.Invocation
	metrics []results.Metric
}

func (m *memSink) Add(v results.Invocation) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.invs = append(m.invs, v)
	return nil
}

func (m *memSink) AddMetric(v results.Metric) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.metrics = append(m.metrics, v)
	return nil
}

func (m *memSink) metric(name string) []results.Metric {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []results.Metric
	for _, x := range m.metrics {
		if x.Name == name {
			out = append(out, x)
		}
	}
	return out
}

// fakeInvoker answers with a lab response; behaviour is set per test.
type fakeInvoker struct {
	fn       func(ctx context.Context, function string, payload []byte) (*providers.Reply, error)
	inFlight atomic.Int64
	peak     atomic.Int64
}

func (f *fakeInvoker) Platform() string { return "fake" }

func (f *fakeInvoker) Invoke(ctx context.Context, function string, payload []byte) (*providers.Reply, error) {
	n := f.inFlight.Add(1)
	defer f.inFlight.Add(-1)
	for {
		p := f.peak.Load()
		if n <= p || f.peak.CompareAndSwap(p, n) {
			break
		}
	}
	return f.fn(ctx, function, payload)
}

func labReply(t testing.TB, resp lab.Response) *providers.Reply {
	t.Helper()
	resp.SchemaVersion = lab.SchemaVersion
	b, err := json.Marshal(resp)
	if err != nil {
		t.Fatal(err)
	}
	return &providers.Reply{StatusCode: 200, Body: b}
}

func newBench(t testing.TB, inv providers.Invoker, cfg Config) (*Benchmarker, *memSink) {
	t.Helper()
	sink := &memSink{}
	cfg.Invoker, cfg.Sink, cfg.RunID = inv, sink, "run"
	b, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return b, sink
}

func TestNewValidates(t *testing.T) {
	for _, cfg := range []Config{{}, {Invoker: &fakeInvoker{}}, {Invoker: &fakeInvoker{}, Sink: &memSink{}}} {
		if _, err := New(cfg); err == nil {
			t.Errorf("New(%+v) succeeded", cfg)
		}
	}
}

func TestInvokeClassification(t *testing.T) {
	initMS := 12.5
	tests := []struct {
		name       string
		reply      func(t *testing.T) (*providers.Reply, error)
		wantStatus string
		wantKind   string
		wantCold   *bool
		wantErr    bool
	}{
		{"ok cold", func(t *testing.T) (*providers.Reply, error) {
			r := labReply(t, lab.Response{Function: "function1", Instance: lab.Instance{ID: "i1", Cold: true}})
			r.Report = &providers.Report{DurationMS: 1, InitDurationMS: &initMS}
			return r, nil
		}, results.InvOK, "", ptr(true), false},
		{"function error in body", func(t *testing.T) (*providers.Reply, error) {
			r := labReply(t, lab.Response{Instance: lab.Instance{ID: "i1"}, Error: &lab.Error{Kind: lab.ErrInput, Message: "bad"}})
			r.FunctionError, r.StatusCode = "Unhandled", 200
			return r, nil
		}, results.InvFunctionError, lab.ErrInput, ptr(false), true},
		{"lambda error envelope", func(t *testing.T) (*providers.Reply, error) {
			inner, _ := json.Marshal(lab.Response{SchemaVersion: 1, Instance: lab.Instance{ID: "i2", Cold: true}, Error: &lab.Error{Kind: lab.ErrWorkload, Message: "boom"}})
			env, _ := json.Marshal(map[string]string{"errorMessage": string(inner), "errorType": "LabError"})
			return &providers.Reply{StatusCode: 200, Body: env, FunctionError: "Unhandled"}, nil
		}, results.InvFunctionError, lab.ErrWorkload, ptr(true), true},
		{"not a lab response", func(t *testing.T) (*providers.Reply, error) {
			return &providers.Reply{StatusCode: 200, Body: []byte("hello")}, nil
		}, results.InvFunctionError, "bad_response", nil, true},
		{"throttled", func(t *testing.T) (*providers.Reply, error) {
			return nil, &providers.Error{Platform: "fake", Kind: providers.KindThrottled, StatusCode: 429, Message: "rate"}
		}, results.InvError, "throttled", nil, true},
		{"unclassified error", func(t *testing.T) (*providers.Reply, error) {
			return nil, errors.New("connection reset")
		}, results.InvError, "transport", nil, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			inv := &fakeInvoker{fn: func(context.Context, string, []byte) (*providers.Reply, error) { return tc.reply(t) }}
			b, sink := newBench(t, inv, Config{})
			r := b.WithPhase("p").Invoke(context.Background(), "function1", lab.Request{})
			if (r.Err != nil) != tc.wantErr {
				t.Fatalf("err = %v", r.Err)
			}
			if len(sink.invs) != 1 {
				t.Fatalf("%d records", len(sink.invs))
			}
			rec := sink.invs[0]
			if rec.Status != tc.wantStatus || rec.ErrorKind != tc.wantKind || rec.Phase != "p" || rec.Seq != 1 || rec.ScheduledNS != -1 {
				t.Errorf("record = %+v", rec)
			}
			if fmt.Sprint(deref(rec.Cold)) != fmt.Sprint(deref(tc.wantCold)) {
				t.Errorf("cold = %v, want %v", deref(rec.Cold), deref(tc.wantCold))
			}
			if tc.name == "ok cold" {
				if d, ok := r.PlatformInit(); !ok || d != 12500*time.Microsecond {
					t.Errorf("PlatformInit = %v %v", d, ok)
				}
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

func deref(b *bool) any {
	if b == nil {
		return nil
	}
	return *b
}

func TestTimeoutIsClassified(t *testing.T) {
	inv := &fakeInvoker{fn: func(ctx context.Context, _ string, _ []byte) (*providers.Reply, error) {
		<-ctx.Done()
		return nil, &providers.Error{Platform: "fake", Kind: providers.KindCanceled, Err: ctx.Err()}
	}}
	b, sink := newBench(t, inv, Config{Timeout: 20 * time.Millisecond})
	r := b.Invoke(context.Background(), "f", lab.Request{})
	if providers.KindOf(r.Err) != providers.KindTimeout || sink.invs[0].ErrorKind != "timeout" {
		t.Fatalf("err = %v, record kind %q", r.Err, sink.invs[0].ErrorKind)
	}
	// A cancellation by the caller stays a cancellation.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r = b.Invoke(ctx, "f", lab.Request{})
	if providers.KindOf(r.Err) != providers.KindCanceled {
		t.Fatalf("cancelled: err = %v", r.Err)
	}
}

func TestNestedFlattening(t *testing.T) {
	inv := &fakeInvoker{fn: func(context.Context, string, []byte) (*providers.Reply, error) {
		return labReply(t, lab.Response{Function: "function1", Instance: lab.Instance{ID: "a"}, Nested: []lab.NestedResult{
			{FunctionName: "function2", SentAt: 10, ReceivedAt: 30, DurationNS: 20, Response: &lab.Response{
				Function: "function2", Instance: lab.Instance{ID: "b", Cold: true},
				Nested: []lab.NestedResult{{FunctionName: "function3", DurationNS: 5, Response: &lab.Response{Function: "function3", Instance: lab.Instance{ID: "c"}}}},
			}},
			{FunctionName: "monolith", DurationNS: 7, Error: &lab.Error{Kind: lab.ErrGuard, Message: "no"}},
		}}), nil
	}}
	b, sink := newBench(t, inv, Config{})
	b.Invoke(context.Background(), "function1", lab.Request{})
	got := map[string]results.Invocation{}
	for _, v := range sink.invs {
		got[v.Function] = v
	}
	if len(sink.invs) != 4 {
		t.Fatalf("%d records, want 4", len(sink.invs))
	}
	root, f2, f3, mono := got["function1"], got["function2"], got["function3"], got["monolith"]
	if root.Depth != 0 || f2.ParentSeq != root.Seq || f2.Depth != 1 || f3.ParentSeq != f2.Seq || f3.Depth != 2 || mono.ParentSeq != root.Seq {
		t.Errorf("tree wrong: %+v", sink.invs)
	}
	if f2.LatencyNS != 20 || f2.CallerSentNS != 10 || f2.CallerReceivedNS != 30 || f2.InstanceID != "b" || !*f2.Cold {
		t.Errorf("function2 record = %+v", f2)
	}
	if mono.Status != results.InvError || mono.ErrorKind != lab.ErrGuard {
		t.Errorf("monolith record = %+v", mono)
	}
}

func TestInvokeConcurrentlyBarrier(t *testing.T) {
	const n = 16
	var arrived atomic.Int64
	all := make(chan struct{})
	inv := &fakeInvoker{fn: func(ctx context.Context, _ string, _ []byte) (*providers.Reply, error) {
		if arrived.Add(1) == n {
			close(all)
		}
		select { // every request must be in flight at once
		case <-all:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		return labReply(t, lab.Response{Instance: lab.Instance{ID: "x"}}), nil
	}}
	b, sink := newBench(t, inv, Config{Timeout: 30 * time.Second})
	rs := b.InvokeConcurrently(context.Background(), "f", n, lab.Request{})
	if len(rs) != n || len(sink.invs) != n {
		t.Fatalf("%d results, %d records", len(rs), len(sink.invs))
	}
	for _, r := range rs {
		if !r.OK() {
			t.Fatal(r.Err)
		}
	}
	if inv.peak.Load() != n {
		t.Errorf("peak concurrency %d, want %d", inv.peak.Load(), n)
	}
	if len(sink.metric("send_spread_ms")) != 1 {
		t.Error("no send_spread_ms metric")
	}
}

func TestInvokeAtRateIsOpenLoop(t *testing.T) {
	// Each request takes 100 ms while one is due every 10 ms: a closed
	// loop would send about 2; open loop sends all 20, overlapping.
	inv := &fakeInvoker{fn: func(ctx context.Context, _ string, _ []byte) (*providers.Reply, error) {
		select {
		case <-time.After(100 * time.Millisecond):
		case <-ctx.Done():
		}
		return labReply(t, lab.Response{Instance: lab.Instance{ID: "x"}}), nil
	}}
	b, sink := newBench(t, inv, Config{})
	p := ConstantPacer{Rate: 100}
	rep := b.InvokeAtRate(context.Background(), "f", p, 200*time.Millisecond, lab.Request{})
	if rep.Scheduled != 20 || rep.Sent != 20 || rep.Dropped != 0 || len(rep.Results) != 20 {
		t.Fatalf("report = %+v", rep)
	}
	if inv.peak.Load() < 2 {
		t.Errorf("peak in-flight %d: requests were not overlapped", inv.peak.Load())
	}
	base := rep.Results[0].Record.ScheduledNS
	for k, r := range rep.Results {
		due, _ := p.Due(uint64(k))
		if r.Record.ScheduledNS-base != int64(due) {
			t.Errorf("request %d scheduled at +%d, pacer says %d", k, r.Record.ScheduledNS-base, due)
		}
		if r.Record.SentNS < r.Record.ScheduledNS {
			t.Errorf("request %d sent before it was due", k)
		}
	}
	for _, name := range []string{"scheduled", "dropped", "late"} {
		if len(sink.metric(name)) != 1 {
			t.Errorf("metric %s missing", name)
		}
	}
}

func TestInvokeAtRateDropsBeyondMaxInFlight(t *testing.T) {
	release := make(chan struct{})
	inv := &fakeInvoker{fn: func(ctx context.Context, _ string, _ []byte) (*providers.Reply, error) {
		<-release
		return labReply(t, lab.Response{Instance: lab.Instance{ID: "x"}}), nil
	}}
	b, sink := newBench(t, inv, Config{MaxInFlight: 2})
	done := make(chan *RateReport)
	go func() {
		done <- b.InvokeAtRate(context.Background(), "f", ConstantPacer{Rate: 200}, 50*time.Millisecond, lab.Request{})
	}()
	// Release the two in-flight requests once the other 8 were dropped
	// (10 due: 2 sent, 8 dropped).
	deadline := time.Now().Add(30 * time.Second)
	for {
		sink.mu.Lock()
		n := len(sink.invs)
		sink.mu.Unlock()
		if n >= 8 || time.Now().After(deadline) {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	close(release)
	rep := <-done
	if rep.Scheduled != 10 || rep.Sent != 2 || rep.Dropped != 8 {
		t.Fatalf("report = %+v", rep)
	}
	dropped := 0
	for _, v := range sink.invs {
		if v.ErrorKind == KindDropped {
			dropped++
			if v.ScheduledNS < 0 {
				t.Error("dropped record without its due time")
			}
		}
	}
	if dropped != 8 || len(sink.invs) != 10 {
		t.Errorf("%d dropped records of %d", dropped, len(sink.invs))
	}
}

func TestInvokeAtRateStopsOnCancel(t *testing.T) {
	inv := &fakeInvoker{fn: func(ctx context.Context, _ string, _ []byte) (*providers.Reply, error) {
		return labReply(t, lab.Response{Instance: lab.Instance{ID: "x"}}), nil
	}}
	b, _ := newBench(t, inv, Config{})
	ctx, cancel := context.WithCancel(context.Background())
	go func() { time.Sleep(50 * time.Millisecond); cancel() }()
	start := time.Now()
	rep := b.InvokeAtRate(ctx, "f", ConstantPacer{Rate: 10}, time.Hour, lab.Request{})
	if time.Since(start) > 10*time.Second {
		t.Fatalf("cancel took %v", time.Since(start))
	}
	if rep.Scheduled < 1 || rep.Scheduled > 100 {
		t.Errorf("scheduled %d", rep.Scheduled)
	}
}

func TestSleepHonoursContext(t *testing.T) {
	b, _ := newBench(t, &fakeInvoker{}, Config{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := b.Sleep(ctx, time.Hour); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
	if err := b.Sleep(context.Background(), time.Millisecond); err != nil {
		t.Fatal(err)
	}
}

func TestForceColdStartNotSupported(t *testing.T) {
	b, _ := newBench(t, &fakeInvoker{}, Config{})
	if b.CanForceColdStart() {
		t.Fatal("fake invoker claims cold starts")
	}
	if err := b.ForceColdStart(context.Background(), "f"); !errors.Is(err, ErrNotSupported) {
		t.Fatalf("err = %v", err)
	}
}

// coldInvoker can force cold starts.
type coldInvoker struct {
	fakeInvoker
	forced int
}

func (c *coldInvoker) ForceColdStart(context.Context, string) error { c.forced++; return nil }

// TestCapabilitiesAreDeclared: the Benchmarker offers what the platform
// declares, not what its invoker happens to implement; a declaration the
// invoker cannot honour is refused; with no declaration the invoker's
// methods decide.
func TestCapabilitiesAreDeclared(t *testing.T) {
	inv := &coldInvoker{}
	b, err := New(Config{RunID: "r", Invoker: inv, Sink: &memSink{}, Capabilities: []providers.Capability{}})
	if err != nil {
		t.Fatal(err)
	}
	if b.CanForceColdStart() || b.Has(providers.ForceColdStart) {
		t.Error("a capability the platform does not declare is offered")
	}
	if err := b.ForceColdStart(context.Background(), "f"); !errors.Is(err, ErrNotSupported) || inv.forced != 0 {
		t.Errorf("undeclared cold start: err %v, forced %d", err, inv.forced)
	}
	if _, err := New(Config{RunID: "r", Invoker: &fakeInvoker{}, Sink: &memSink{}, Capabilities: []providers.Capability{providers.SetMemory}}); err == nil {
		t.Error("a declared capability the invoker lacks was accepted")
	}
	b, err = New(Config{RunID: "r", Invoker: inv, Sink: &memSink{}})
	if err != nil {
		t.Fatal(err)
	}
	if !b.CanForceColdStart() || b.ForceColdStart(context.Background(), "f") != nil || inv.forced != 1 {
		t.Errorf("derived capabilities: cold start not offered (forced %d)", inv.forced)
	}
}

func TestRecordLabelsPhase(t *testing.T) {
	b, sink := newBench(t, &fakeInvoker{}, Config{})
	b.WithPhase("x").Record("m", 2, map[string]string{"k": "v"})
	ms := sink.metric("m")
	if len(ms) != 1 || ms[0].Phase != "x" || ms[0].Value != 2 || ms[0].Tags["k"] != "v" || ms[0].RunID != "run" {
		t.Fatalf("metrics = %+v", ms)
	}
}

type timedProgress struct {
	nopProgress
	until time.Time
}

func (p *timedProgress) ExpectUntil(t time.Time) { p.until = t }

func TestExpectFor(t *testing.T) {
	tp := &timedProgress{}
	b, _ := newBench(t, &fakeInvoker{}, Config{Progress: tp})
	b.ExpectFor(time.Hour)
	if d := time.Until(tp.until); d < 59*time.Minute || d > time.Hour {
		t.Errorf("expected end in %v, want about 1h", d)
	}
	// A display without the capability is left alone: it is told nothing
	// (not an Expect of some count in place of the time).
	cp := &countingProgress{}
	b2, _ := newBench(t, &fakeInvoker{}, Config{Progress: cp})
	cp.calls.Store(0)
	b2.ExpectFor(time.Hour)
	if n := cp.calls.Load(); n != 0 {
		t.Errorf("a display without ExpectUntil was called %d times", n)
	}
}

// countingProgress counts every call; it has no ExpectUntil.
type countingProgress struct{ calls atomic.Int64 }

func (p *countingProgress) Expect(int64) { p.calls.Add(1) }
func (p *countingProgress) Done(bool)    { p.calls.Add(1) }
func (p *countingProgress) Phase(string) { p.calls.Add(1) }

// TestMarshalRequest: the shortcut for the zero request sends exactly what
// encoding/json would, and any non-zero field is encoded.
func TestMarshalRequest(t *testing.T) {
	code := 200
	tests := []lab.Request{
		{},
		{Sleep: 0.5},
		{StatusCode: &code},
		{InvokeNested: []lab.NestedCall{{}}},
		{InvokeNested: []lab.NestedCall{}}, // empty, not nil: omitted by encoding/json too
		{Parent: "p", Depth: 1, NestedBudget: 2},
	}
	for _, req := range tests {
		want, err := json.Marshal(req)
		if err != nil {
			t.Fatal(err)
		}
		if got := marshalRequest(&req); string(got) != string(want) {
			t.Errorf("marshalRequest(%+v) = %s, want %s", req, got, want)
		}
	}
}

// TestIsZeroRequestCoversEveryField: setting any one field of lab.Request
// makes the request non-zero, so a field added to lab.Request without
// updating isZeroRequest fails here.
func TestIsZeroRequestCoversEveryField(t *testing.T) {
	if !isZeroRequest(&lab.Request{}) {
		t.Fatal("the zero request is not zero")
	}
	typ := reflect.TypeOf(lab.Request{})
	for i := 0; i < typ.NumField(); i++ {
		var req lab.Request
		f := reflect.ValueOf(&req).Elem().Field(i)
		switch f.Kind() {
		case reflect.Pointer, reflect.Slice:
			if f.Kind() == reflect.Pointer {
				f.Set(reflect.New(f.Type().Elem()))
			} else {
				f.Set(reflect.MakeSlice(f.Type(), 0, 0))
			}
		case reflect.String:
			f.SetString("x")
		case reflect.Int, reflect.Int64:
			f.SetInt(1)
		case reflect.Float64:
			f.SetFloat(1)
		default:
			t.Fatalf("field %s has kind %s: extend this test", typ.Field(i).Name, f.Kind())
		}
		if isZeroRequest(&req) {
			t.Errorf("isZeroRequest ignores field %s", typ.Field(i).Name)
		}
	}
}
