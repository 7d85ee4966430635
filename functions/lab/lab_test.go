package lab

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func newTestHandler(t *testing.T, mod func(*Config)) *Handler {
	t.Helper()
	cfg := Config{Function: Function1, Sandbox: NewSandbox(SandboxConfig{Platform: PlatformLocal})}
	if mod != nil {
		mod(&cfg)
	}
	h, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestDecodeRequest(t *testing.T) {
	lim := Limits{Timeout: 10 * time.Second}
	tests := []struct {
		name    string
		body    string
		wantErr string // substring of the error message; "" = valid
		check   func(*Request) error
	}{
		{name: "empty body is valid", body: ""},
		{name: "null is valid", body: "null"},
		{name: "empty object", body: "{}"},
		{name: "status 200", body: `{"StatusCode":200}`, check: func(r *Request) error {
			if r.StatusCode == nil || *r.StatusCode != 200 {
				return errors.New("StatusCode not decoded")
			}
			return nil
		}},
		{name: "status not 200", body: `{"StatusCode":500}`, wantErr: "StatusCode must be 200"},
		{name: "status wrong type", body: `{"StatusCode":"200"}`, wantErr: `field "StatusCode"`},
		{name: "sleep", body: `{"sleep":1.5}`, check: func(r *Request) error {
			if r.Sleep != 1.5 {
				return fmt.Errorf("sleep = %v", r.Sleep)
			}
			return nil
		}},
		{name: "sleep negative", body: `{"sleep":-1}`, wantErr: "sleep must not be negative"},
		{name: "sleep wrong type", body: `{"sleep":"1"}`, wantErr: `field "sleep": expected a number, got JSON string`},
		{name: "sleep beyond timeout", body: `{"sleep":10}`, wantErr: "not shorter than the function timeout"},
		{name: "sleep absurd", body: `{"sleep":1e300}`, wantErr: "not shorter than the function timeout"},
		{name: "throughput", body: `{"throughput_time":0.5}`},
		{name: "throughput negative", body: `{"throughput_time":-0.1}`, wantErr: "throughput_time must not be negative"},
		{name: "sleep plus throughput beyond timeout", body: `{"sleep":6,"throughput_time":6}`, wantErr: "sleep + throughput_time"},
		{name: "unknown fields ignored", body: `{"whatever":[1,2],"sleep":0}`},
		{name: "not an object", body: `[1,2]`, wantErr: "must be a JSON object"},
		{name: "a string", body: `"hi"`, wantErr: "must be a JSON object"},
		{name: "malformed", body: `{"sleep":`, wantErr: "malformed JSON"},
		{name: "trailing garbage", body: `{} x`, wantErr: "malformed JSON"},
		{name: "nested mode parallel", body: `{"nested_mode":"parallel"}`},
		{name: "nested mode sequential", body: `{"nested_mode":"sequential"}`},
		{name: "nested mode bad", body: `{"nested_mode":"random"}`, wantErr: "nested_mode must be"},
		{name: "invoke_nested ok", body: `{"invoke_nested":[{"function_name":"function2","invoke_payload":{"sleep":0.1}}]}`, check: func(r *Request) error {
			if len(r.InvokeNested) != 1 || r.InvokeNested[0].FunctionName != "function2" {
				return errors.New("invoke_nested not decoded")
			}
			return nil
		}},
		{name: "invoke_nested not a list", body: `{"invoke_nested":{"function_name":"f"}}`, wantErr: `field "invoke_nested": expected an array`},
		{name: "invoke_nested missing name", body: `{"invoke_nested":[{"invoke_payload":{}}]}`, wantErr: "function_name is missing"},
		{name: "invoke_payload not an object", body: `{"invoke_nested":[{"function_name":"function2","invoke_payload":[1]}]}`, wantErr: "invoke_payload must be a JSON object"},
		{name: "fanout too large", body: `{"invoke_nested":[` + strings.TrimSuffix(strings.Repeat(`{"function_name":"function2"},`, DefaultMaxFanout+1), ",") + `]}`, wantErr: "more than the maximum"},
		{name: "monolith fields", body: `{"run_function":"fib","args":30,"seed":7}`, check: func(r *Request) error {
			if r.RunFunction != "fib" || r.Args != 30 || r.Seed != 7 {
				return errors.New("monolith fields not decoded")
			}
			return nil
		}},
		{name: "args negative", body: `{"args":-3}`, wantErr: "args must not be negative"},
		{name: "args fractional", body: `{"args":1.5}`, wantErr: `field "args": expected an integer`},
		{name: "depth negative", body: `{"depth":-1}`, wantErr: "depth must not be negative"},
		{name: "budget negative", body: `{"nested_budget":-1}`, wantErr: "nested_budget must not be negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := DecodeRequest([]byte(tt.body), lim)
			if tt.wantErr != "" {
				var le *Error
				if !errors.As(err, &le) || le.Kind != ErrInput {
					t.Fatalf("err = %v, want an input *Error", err)
				}
				if !strings.Contains(le.Message, tt.wantErr) {
					t.Fatalf("message %q does not contain %q", le.Message, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if tt.check != nil {
				if err := tt.check(r); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

func FuzzDecodeRequest(f *testing.F) {
	for _, s := range []string{"", "null", "{}", `{"sleep":0.1,"throughput_time":0.1}`, `{"StatusCode":200}`,
		`{"invoke_nested":[{"function_name":"function2","invoke_payload":{"sleep":1}}],"nested_mode":"sequential"}`,
		`{"run_function":"fib","args":20,"seed":1}`, `{"sleep":-1}`, `[`, `{"depth":3,"nested_budget":2}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		r, err := DecodeRequest(body, Limits{Timeout: time.Minute})
		if err != nil {
			var le *Error
			if !errors.As(err, &le) || le.Kind != ErrInput || le.Message == "" {
				t.Fatalf("error is not a described input error: %#v", err)
			}
			return
		}
		if r.Sleep < 0 || r.ThroughputTime < 0 || r.Sleep+r.ThroughputTime >= 60 || r.Args < 0 || r.Depth < 0 {
			t.Fatalf("invalid request accepted: %+v", r)
		}
	})
}

func TestNormalizeName(t *testing.T) {
	tests := []struct{ in, want string }{
		{"function1", "function1"},
		{"fb-run42-function1", "function1"},
		{"fb_run_monolith", "monolith"},
		{"FB-Run-Function3", "function3"},
		{"myfunction1", "myfunction1"}, // no separator: not a lab name
		{"function4", "function4"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := NormalizeName(tt.in); got != tt.want {
			t.Errorf("NormalizeName(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	if p := DeployedPrefix("fb-run42-function1"); p != "fb-run42-" {
		t.Errorf("DeployedPrefix = %q", p)
	}
	if p := DeployedPrefix("function1"); p != "" {
		t.Errorf("DeployedPrefix(function1) = %q", p)
	}
}

func TestDetectPlatform(t *testing.T) {
	tests := []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{}, PlatformHTTP},
		{map[string]string{"AWS_LAMBDA_RUNTIME_API": "127.0.0.1:9001"}, PlatformAWSLambda},
		{map[string]string{"AWS_LAMBDA_RUNTIME_API": "x", "FB_PLATFORM": "local"}, PlatformLocal},
		{map[string]string{"FUNCTIONS_CUSTOMHANDLER_PORT": "3000"}, PlatformAzureFunctions},
		{map[string]string{"fprocess": "./httpfn"}, PlatformOpenFaaS},
	}
	for _, tt := range tests {
		if got := DetectPlatform(func(k string) string { return tt.env[k] }); got != tt.want {
			t.Errorf("DetectPlatform(%v) = %q, want %q", tt.env, got, tt.want)
		}
	}
}

func TestSandboxIdentity(t *testing.T) {
	proc := t.TempDir()
	cg := t.TempDir()
	write := func(dir, name, content string) {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(proc, "sys/kernel/random/boot_id", "3f1c8a52-0000-4000-8000-000000000001\n")
	write(proc, "stat", "cpu  1 2 3\nbtime 1764100000\nprocesses 5\n")
	write(proc, "self/cgroup", "0::/lambda/sandbox-1\n1:cpu:/x\n")
	write(proc, "cpuinfo", "processor\t: 0\nCPU implementer\t: 0x41\nCPU part\t: 0xd0c\n")
	write(proc, "meminfo", "MemTotal:        2097152 kB\n")
	write(cg, "memory.max", "max\n")
	env := map[string]string{"CONTAINER_NAME": "azure-instance-7"}
	s := NewSandbox(SandboxConfig{Platform: PlatformAzureFunctions, ProcDir: proc, CgroupDir: cg, Getenv: func(k string) string { return env[k] }})
	got := s.Begin()
	if got.BootID != "3f1c8a52-0000-4000-8000-000000000001" || got.HostBootTime != 1764100000 ||
		got.Cgroup != "0::/lambda/sandbox-1" || got.CPUModel != "implementer 0x41 part 0xd0c" ||
		got.MemoryLimitMB != 2048 || got.MemoryLimitSource != "meminfo" || got.PlatformHint != "azure-instance-7" ||
		got.Platform != PlatformAzureFunctions {
		t.Fatalf("identity = %+v", got)
	}
	// The fake proc dir has no self/stat: the runtime fallback is used.
	if got.InitStartedSource != "runtime" || got.InitStartedAt > got.StartedAt {
		t.Fatalf("init start = %d (%s), started = %d", got.InitStartedAt, got.InitStartedSource, got.StartedAt)
	}

	write(cg, "memory.max", "536870912\n")
	if got := NewSandbox(SandboxConfig{ProcDir: proc, CgroupDir: cg, Getenv: func(string) string { return "" }}).Begin(); got.MemoryLimitMB != 512 || got.MemoryLimitSource != "cgroup" {
		t.Fatalf("cgroup memory = %d %s", got.MemoryLimitMB, got.MemoryLimitSource)
	}
	lambdaEnv := map[string]string{"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128", "AWS_LAMBDA_LOG_STREAM_NAME": "2026/11/26/[$LATEST]abc"}
	if got := NewSandbox(SandboxConfig{ProcDir: proc, CgroupDir: cg, Getenv: func(k string) string { return lambdaEnv[k] }}).Begin(); got.MemoryLimitMB != 128 || got.PlatformHint != "2026/11/26/[$LATEST]abc" || got.Platform != PlatformHTTP {
		t.Fatalf("lambda env identity = %+v", got)
	}
}

func TestSandboxRealProcessStart(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("no /proc")
	}
	s := NewSandbox(SandboxConfig{})
	got := s.Begin()
	now := time.Now().UnixNano()
	if got.InitStartedSource != "proc" {
		t.Fatalf("source = %q, want proc", got.InitStartedSource)
	}
	// The test process started before this test ran, and (generously)
	// less than an hour ago; resolution is one 10 ms tick.
	if got.InitStartedAt > got.StartedAt+int64(20*time.Millisecond) || got.InitStartedAt < now-int64(time.Hour) {
		t.Fatalf("init_started_at %d not plausible (started_at %d, now %d)", got.InitStartedAt, got.StartedAt, now)
	}
	if got.InitStartedAt > packageInitTime.UnixNano()+int64(20*time.Millisecond) {
		t.Fatalf("kernel start %d is after package init %d", got.InitStartedAt, packageInitTime.UnixNano())
	}
}

func TestStatStartTicks(t *testing.T) {
	line := []byte("1234 (my (odd) name) S 1 1234 1234 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 98765 1000 10 18446744073709551615")
	if v, ok := statStartTicks(line); !ok || v != 98765 {
		t.Fatalf("statStartTicks = %d, %v", v, ok)
	}
	if _, ok := statStartTicks([]byte("garbage")); ok {
		t.Fatal("garbage accepted")
	}
}

func TestColdOnlyOnceUnderConcurrency(t *testing.T) {
	h := newTestHandler(t, nil)
	const n = 50
	var cold atomic.Int32
	seen := make([]bool, n+1)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			r := h.Handle(context.Background(), "r", nil)
			if r.Instance.Cold {
				cold.Add(1)
			}
			mu.Lock()
			seen[r.Instance.InvocationCount] = true
			mu.Unlock()
		})
	}
	wg.Wait()
	if cold.Load() != 1 {
		t.Fatalf("%d cold responses, want exactly 1", cold.Load())
	}
	for i := 1; i <= n; i++ {
		if !seen[i] {
			t.Fatalf("invocation count %d never reported", i)
		}
	}
}

func TestHandleBasics(t *testing.T) {
	h := newTestHandler(t, nil)
	r := h.Handle(context.Background(), "req-1", []byte(`{"sleep":0.01,"throughput_time":0.01}`))
	if r.Error != nil {
		t.Fatalf("error: %v", r.Error)
	}
	if r.SchemaVersion != SchemaVersion || r.Function != Function1 || r.RequestID != "req-1" || r.Instance.ID == "" || !r.Instance.Cold {
		t.Fatalf("response = %+v", r)
	}
	if r.Timing.SleepMS < 10 || r.Timing.Throughput == nil || r.Timing.Throughput.Iterations < 1 || r.Timing.Throughput.RequestedS != 0.01 {
		t.Fatalf("timing = %+v / %+v", r.Timing, r.Timing.Throughput)
	}
	if r.Timing.End < r.Timing.Start || r.Timing.End-r.Timing.Start < int64(20*time.Millisecond) {
		t.Fatalf("start/end = %d/%d", r.Timing.Start, r.Timing.End)
	}
	r2 := h.Handle(context.Background(), "req-2", nil)
	if r2.Instance.Cold || r2.Instance.InvocationCount != 2 || r2.Instance.ID != r.Instance.ID {
		t.Fatalf("second invocation instance = %+v", r2.Instance)
	}
	// Results must survive a JSON round trip with "error": null.
	b, _ := json.Marshal(r2)
	if !strings.Contains(string(b), `"error":null`) {
		t.Fatalf("error field not null: %s", b)
	}
}

func TestHandleErrors(t *testing.T) {
	h := newTestHandler(t, nil)
	tests := []struct {
		name, body, kind string
	}{
		{"bad status", `{"StatusCode":404}`, ErrInput},
		{"bad type", `{"sleep":true}`, ErrInput},
		{"run_function on function1", `{"run_function":"fib"}`, ErrInput},
		{"nested without invoker", `{"invoke_nested":[{"function_name":"function2"}]}`, ErrGuard},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := h.Handle(context.Background(), "x", []byte(tt.body))
			if r.Error == nil || r.Error.Kind != tt.kind {
				t.Fatalf("error = %+v, want kind %s", r.Error, tt.kind)
			}
			if r.Instance.ID == "" || r.SchemaVersion != SchemaVersion {
				t.Fatalf("error response lacks identity: %+v", r)
			}
		})
	}
}

func TestHandleDeadline(t *testing.T) {
	h := newTestHandler(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	// A sleep longer than the remaining time is refused up front.
	r := h.Handle(ctx, "x", []byte(`{"sleep":5}`))
	if r.Error == nil || r.Error.Kind != ErrInput || !strings.Contains(r.Error.Message, "timeout") {
		t.Fatalf("error = %+v", r.Error)
	}
	// A context cancelled during the sleep reports a timeout.
	ctx2, cancel2 := context.WithCancel(context.Background())
	cancel2()
	r = h.Handle(ctx2, "x", []byte(`{"sleep":1}`))
	if r.Error == nil || r.Error.Kind != ErrTimeout {
		t.Fatalf("error = %+v", r.Error)
	}
}

type panicWorkloads struct{}

func (panicWorkloads) Validate(string, int) error { return nil }
func (panicWorkloads) Run(context.Context, string, int, int64) (string, json.RawMessage, error) {
	var m map[string]int
	//lint:ignore SA5000 a nil map write on purpose: a real runtime panic
	m["boom"]++
	return "", nil, nil
}

func TestWorkloadPanicIsRecovered(t *testing.T) {
	h := newTestHandler(t, func(c *Config) { c.Function = Monolith; c.Workloads = panicWorkloads{} })
	r := h.Handle(context.Background(), "x", []byte(`{"run_function":"anything"}`))
	if r.Error == nil || r.Error.Kind != ErrWorkload || !strings.Contains(r.Error.Message, "panicked") {
		t.Fatalf("error = %+v", r.Error)
	}
	if r.Result == nil || r.Result.Name != "anything" {
		t.Fatalf("result = %+v", r.Result)
	}
	// The instance survives and serves the next request.
	if r2 := h.Handle(context.Background(), "y", nil); r2.Error != nil || r2.Instance.InvocationCount != 2 {
		t.Fatalf("next invocation = %+v", r2)
	}
}

// loopInvoker routes nested calls to in-process handlers, like a platform
// would, and counts them.
type loopInvoker struct {
	handlers map[string]*Handler
	calls    atomic.Int64
	inflight atomic.Int64
	maxPar   atomic.Int64
	fail     string // function name whose Invoke fails at transport level
	// barrier, when set, makes each call wait until barrierN calls are in
	// flight at once (or fail after a generous timeout): proof of
	// parallelism without timing assumptions.
	barrierN int
	arrived  chan struct{}
	release  chan struct{}
	once     sync.Once
}

func (l *loopInvoker) awaitBarrier() error {
	l.arrived <- struct{}{}
	if len(l.arrived) == l.barrierN {
		l.once.Do(func() { close(l.release) })
	}
	select {
	case <-l.release:
		return nil
	case <-time.After(30 * time.Second):
		return errors.New("barrier: the other calls never ran concurrently")
	}
}

func (l *loopInvoker) Invoke(ctx context.Context, fn string, payload []byte) ([]byte, error) {
	l.calls.Add(1)
	cur := l.inflight.Add(1)
	defer l.inflight.Add(-1)
	for {
		m := l.maxPar.Load()
		if cur <= m || l.maxPar.CompareAndSwap(m, cur) {
			break
		}
	}
	if l.barrierN > 0 {
		if err := l.awaitBarrier(); err != nil {
			return nil, err
		}
	}
	if fn == l.fail {
		return nil, errors.New("connection refused")
	}
	h, ok := l.handlers[fn]
	if !ok {
		return nil, fmt.Errorf("no function %s", fn)
	}
	r := h.Handle(ctx, "child", payload)
	b, err := json.Marshal(r)
	if err != nil {
		return nil, err
	}
	if r.Error != nil {
		return b, errors.New("function error")
	}
	return b, nil
}

func newLoop(t *testing.T, g Guards) *loopInvoker {
	t.Helper()
	l := &loopInvoker{handlers: map[string]*Handler{}}
	sb := NewSandbox(SandboxConfig{Platform: PlatformLocal})
	for _, n := range []string{Function1, Function2, Function3} {
		h, err := New(Config{Function: n, Sandbox: sb, Invoker: l, Guards: g})
		if err != nil {
			t.Fatal(err)
		}
		l.handlers[n] = h
	}
	return l
}

func TestNestedCalls(t *testing.T) {
	l := newLoop(t, Guards{})
	body := `{"invoke_nested":[
		{"function_name":"function2","invoke_payload":{"sleep":0.02,"depth":0,"Depth":0,"nested_budget":1000}},
		{"function_name":"function3","invoke_payload":{"invoke_nested":[{"function_name":"function2"}]}}]}`
	r := l.handlers[Function1].Handle(context.Background(), "root", []byte(body))
	if r.Error != nil {
		t.Fatalf("error: %+v", r.Error)
	}
	if len(r.Nested) != 2 {
		t.Fatalf("nested = %+v", r.Nested)
	}
	n0, n1 := r.Nested[0], r.Nested[1]
	if n0.FunctionName != Function2 || n0.Response == nil || n0.Response.Function != Function2 || n0.Response.Depth != 1 || n0.Response.Parent != "root" {
		t.Fatalf("nested[0] = %+v / %+v", n0, n0.Response)
	}
	if n0.DurationNS < int64(20*time.Millisecond) || n0.ReceivedAt-n0.SentAt != n0.DurationNS {
		t.Fatalf("nested[0] timing = %+v", n0)
	}
	if n0.Response.Timing.SleepMS < 20 {
		t.Fatalf("payload not forwarded: %+v", n0.Response.Timing)
	}
	if len(n1.Response.Nested) != 1 || n1.Response.Nested[0].Response.Depth != 2 {
		t.Fatalf("recursive nesting = %+v", n1.Response)
	}
	if l.calls.Load() != 3 {
		t.Fatalf("calls = %d, want 3", l.calls.Load())
	}
}

func TestNestedModes(t *testing.T) {
	for _, tt := range []struct {
		mode    string
		wantPar bool
	}{{"", true}, {NestedParallel, true}, {NestedSequential, false}} {
		t.Run("mode="+tt.mode, func(t *testing.T) {
			l := newLoop(t, Guards{})
			if tt.wantPar {
				l.barrierN, l.arrived, l.release = 4, make(chan struct{}, 4), make(chan struct{})
			}
			calls := strings.TrimSuffix(strings.Repeat(`{"function_name":"function2","invoke_payload":{"sleep":0.01}},`, 4), ",")
			r := l.handlers[Function1].Handle(context.Background(), "root", []byte(`{"nested_mode":"`+tt.mode+`","invoke_nested":[`+calls+`]}`))
			if r.Error != nil {
				t.Fatal(r.Error)
			}
			// Sequential calls never overlap; parallel ones all pass the
			// barrier, so all four were in flight together.
			if par := l.maxPar.Load(); (tt.wantPar && par != 4) || (!tt.wantPar && par != 1) {
				t.Fatalf("max concurrent nested calls = %d", par)
			}
			if !tt.wantPar {
				for i := 1; i < len(r.Nested); i++ {
					if r.Nested[i].SentAt < r.Nested[i-1].ReceivedAt {
						t.Fatalf("sequential call %d sent before %d returned", i, i-1)
					}
				}
			}
		})
	}
}

func TestNestedFailureIsReported(t *testing.T) {
	l := newLoop(t, Guards{})
	l.fail = Function3
	r := l.handlers[Function1].Handle(context.Background(), "root", []byte(`{"nested_mode":"sequential","invoke_nested":[
		{"function_name":"function3"},{"function_name":"function2","invoke_payload":{"StatusCode":500}},{"function_name":"function2"}]}`))
	if r.Error == nil || r.Error.Kind != ErrNested || !strings.Contains(r.Error.Message, "2 of 3") {
		t.Fatalf("error = %+v", r.Error)
	}
	if r.Nested[0].Error == nil || !strings.Contains(r.Nested[0].Error.Message, "connection refused") {
		t.Fatalf("nested[0] = %+v", r.Nested[0])
	}
	if r.Nested[1].Response == nil || r.Nested[1].Response.Error == nil || r.Nested[1].Response.Error.Kind != ErrInput {
		t.Fatalf("callee error not kept: %+v", r.Nested[1])
	}
	if r.Nested[2].Error != nil {
		t.Fatalf("third call failed: %+v", r.Nested[2])
	}
}

// bomb builds a payload that nests function1 -> function1 -> ... depth
// times, fanout calls per level.
func bomb(depth, fanout int) string {
	p := `{}`
	for range depth {
		calls := strings.TrimSuffix(strings.Repeat(`{"function_name":"function1","invoke_payload":`+p+`},`, fanout), ",")
		p = `{"invoke_nested":[` + calls + `]}`
	}
	return p
}

func TestGuards(t *testing.T) {
	tests := []struct {
		name      string
		guards    Guards
		body      string
		wantKind  string // error kind at the root; "" = success
		wantCalls int64  // nested calls actually made
	}{
		{name: "depth within limit", guards: Guards{MaxDepth: 3}, body: bomb(3, 1), wantCalls: 3},
		{name: "depth beyond limit refused at the deepest caller", guards: Guards{MaxDepth: 3}, body: bomb(5, 1), wantKind: ErrNested, wantCalls: 3},
		{name: "default depth 8", body: bomb(9, 1), wantKind: ErrNested, wantCalls: 8},
		{name: "root fanout beyond budget refused before any call", guards: Guards{MaxNestedCalls: 3}, body: bomb(1, 4), wantKind: ErrGuard, wantCalls: 0},
		{name: "exponential bomb capped by the total budget", guards: Guards{MaxNestedCalls: 10, MaxDepth: 8}, body: bomb(4, 3), wantKind: ErrNested, wantCalls: 3 + 3}, // budgets 3,2,2 after the root's 3: only the first child can fan out
		{name: "client cannot raise its budget", guards: Guards{MaxNestedCalls: 2}, body: `{"nested_budget":100,"invoke_nested":[{"function_name":"function2"},{"function_name":"function2"},{"function_name":"function2"}]}`, wantKind: ErrGuard},
		{name: "client can lower its budget", body: `{"nested_budget":1,"invoke_nested":[{"function_name":"function2"},{"function_name":"function2"}]}`, wantKind: ErrGuard},
		{name: "nested request with no budget left", body: `{"depth":2,"invoke_nested":[{"function_name":"function2"}]}`, wantKind: ErrGuard},
		{name: "allowlist refuses other functions", body: `{"invoke_nested":[{"function_name":"function2"},{"function_name":"billing-prod"}]}`, wantKind: ErrGuard},
		{name: "custom allowlist", guards: Guards{Allowed: []string{Function2}}, body: `{"invoke_nested":[{"function_name":"function3"}]}`, wantKind: ErrGuard},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := newLoop(t, tt.guards)
			r := l.handlers[Function1].Handle(context.Background(), "root", []byte(tt.body))
			switch {
			case tt.wantKind == "" && r.Error != nil:
				t.Fatalf("error = %+v", r.Error)
			case tt.wantKind != "" && (r.Error == nil || r.Error.Kind != tt.wantKind):
				t.Fatalf("error = %+v, want kind %s", r.Error, tt.wantKind)
			}
			if l.calls.Load() != tt.wantCalls {
				t.Fatalf("calls made = %d, want %d", l.calls.Load(), tt.wantCalls)
			}
			if tt.wantKind == ErrGuard && l.calls.Load() != 0 {
				t.Fatalf("a refused request still made %d calls", l.calls.Load())
			}
		})
	}
}

func TestSplitBudget(t *testing.T) {
	for _, tt := range []struct{ rem, n int }{{0, 3}, {7, 3}, {2, 5}, {10, 1}, {-1, 2}} {
		b := splitBudget(tt.rem, tt.n)
		sum := 0
		for _, v := range b {
			sum += v
			if v < 0 {
				t.Fatalf("negative share in %v", b)
			}
		}
		if want := max(tt.rem, 0); sum != want {
			t.Fatalf("splitBudget(%d,%d) = %v, sum %d", tt.rem, tt.n, b, sum)
		}
	}
}
