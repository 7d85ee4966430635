package engine

import (
	"context"
	"encoding/json"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"unsafe"

	"github.com/faas-benchmarker/faas-benchmarker/functions/lab"
)

// labBody is a lab response as the lab functions write it.
const labBody = `{"schema_version":1,"function":"function1","request_id":"t-1","depth":0,"instance":{"id":"6f1c2a4e-0b7d-4c1e-9a55-3d2f1e0c9b8a","cold":true,"invocation_count":1,"init_started_at":1764576000123456789,"init_started_source":"proc","started_at":1764576000223456789,"boot_id":"b","host_boot_time":1764570000,"cgroup":"","hostname":"h","cpu_model":"AMD EPYC","cpus":2,"memory_limit_mb":128,"memory_limit_source":"env","platform":"local","runtime":"go","platform_hint":"x"},"timing":{"start":1764576000323456789,"end":1764576000333456789,"sleep_ms":0.5,"throughput":{"requested_s":0.25,"iterations":123456,"cpu_s":0.249}},"error":null}`

// checkFastAgainstStd fails t when decodeLabFast accepts body but
// encoding/json does not, or decodes it differently, or body is not valid
// JSON. It returns whether the fast path accepted body.
func checkFastAgainstStd(t *testing.T, body []byte, strs *stringCache) bool {
	t.Helper()
	got, ok := decodeLabFast(body, strs)
	if !ok {
		return false
	}
	if !json.Valid(body) {
		t.Fatalf("fast path accepted invalid JSON %q", body)
	}
	var want lab.Response
	if err := json.Unmarshal(body, &want); err != nil {
		t.Fatalf("fast path accepted %q, encoding/json refuses it: %v", body, err)
	}
	if !reflect.DeepEqual(*got, want) {
		t.Fatalf("decode of %q:\nfast %+v\nstd  %+v", body, *got, want)
	}
	return true
}

func TestDecodeLabFastMatchesEncodingJSON(t *testing.T) {
	tests := []struct {
		name     string
		body     string
		wantFast bool // the fast path handles it (else: the general decoder)
	}{
		{"lab function output", labBody, true},
		{"bench target output", `{"schema_version":1,"function":"function1","request_id":"t-7","depth":0,"instance":{"id":"i","cold":false,"invocation_count":1,"init_started_at":0,"started_at":0,"boot_id":"bench","host_boot_time":0,"cgroup":"","hostname":"bench","cpu_model":"","cpus":0,"memory_limit_mb":128,"platform":"http","runtime":"go","platform_hint":"bench-target"},"timing":{"start":1,"end":2,"sleep_ms":0},"error":null}`, true},
		{"whitespace everywhere", " {\n\t\"schema_version\" : 1 ,\r\n \"timing\" : { \"start\" : -5 , \"sleep_ms\" : -1.5e-3 } } \n", true},
		{"function error", `{"schema_version":1,"error":{"kind":"workload","message":"panic: boom"}}`, true},
		{"nulls leave fields alone", `{"schema_version":1,"function":null,"instance":null,"timing":{"throughput":null,"start":null},"nested":null,"result":null,"error":null}`, true},
		{"duplicate keys: last wins, objects merge", `{"schema_version":1,"error":{"kind":"a"},"error":{"message":"m"},"depth":1,"depth":2}`, true},
		{"empty object", `{}`, true},
		{"int64 extremes", `{"timing":{"start":-9223372036854775808,"end":9223372036854775807}}`, true},
		{"float forms", `{"timing":{"sleep_ms":1E+2}}`, true},
		{"negative zero", `{"depth":-0,"timing":{"sleep_ms":-0}}`, true},
		{"unknown key", `{"schema_version":1,"extra":1}`, false},
		{"key in another case", `{"Schema_Version":1}`, false},
		{"escape in a string", `{"schema_version":1,"function":"a\"b"}`, false},
		{"non-ASCII string", `{"schema_version":1,"function":"fünf"}`, false},
		{"nested calls", `{"schema_version":1,"nested":[{"function_name":"function2","duration_ns":5}]}`, false},
		{"monolith result", `{"schema_version":1,"result":{"name":"fib","value":[1,2]}}`, false},
		{"fraction in an integer field", `{"schema_version":1.0}`, false},
		{"int64 overflow", `{"timing":{"start":9223372036854775808}}`, false},
		{"negative int64 overflow", `{"timing":{"start":-9223372036854775809}}`, false},
		{"20 digits", `{"timing":{"start":12345678901234567890}}`, false},
		{"leading zero", `{"depth":01}`, false},
		{"float out of range", `{"timing":{"sleep_ms":1e400}}`, false},
		{"bad float", `{"timing":{"sleep_ms":1.}}`, false},
		{"string for a number", `{"depth":"1"}`, false},
		{"trailing comma", `{"depth":1,}`, false},
		{"trailing data", `{"depth":1} x`, false},
		{"two values", `{}{}`, false},
		{"unterminated", `{"depth":1`, false},
		{"array", `[1]`, false},
		{"control character in a string", "{\"function\":\"a\tb\"}", false},
		{"truncated literal", `{"error":nul}`, false},
		{"empty", ``, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := checkFastAgainstStd(t, []byte(tt.body), &stringCache{}); got != tt.wantFast {
				t.Errorf("fast path accepted = %v, want %v", got, tt.wantFast)
			}
		})
	}
}

// TestDecodeLabFastRoundTrip: random responses written by encoding/json (as
// the lab functions write them) all take the fast path and decode to the
// value written.
func TestDecodeLabFastRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	strs := &stringCache{} // shared: hits and slot collisions both occur
	const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.:/ @#$%^*()[]{}=+;',?~`|!"
	str := func() string {
		b := make([]byte, rng.IntN(40))
		for i := range b {
			b[i] = alphabet[rng.IntN(len(alphabet))]
		}
		return string(b)
	}
	i64 := func() int64 {
		switch rng.IntN(4) {
		case 0:
			return 0
		case 1:
			return rng.Int64() // up to 19 digits
		case 2:
			return -rng.Int64()
		}
		return rng.Int64N(1000)
	}
	f64 := func() float64 {
		switch rng.IntN(4) {
		case 0:
			return 0
		case 1:
			return rng.Float64() * 1e3
		case 2:
			return -rng.ExpFloat64() * 1e-9
		}
		return math.Ldexp(rng.Float64(), rng.IntN(200)-100)
	}
	for n := 0; n < 2000; n++ {
		r := lab.Response{SchemaVersion: 1 + rng.IntN(3), Function: str(), RequestID: str(), Parent: str(), Depth: rng.IntN(5),
			Instance: lab.Instance{ID: str(), Cold: rng.IntN(2) == 0, InvocationCount: i64(), InitStartedAt: i64(),
				InitStartedSource: str(), StartedAt: i64(), BootID: str(), HostBootTime: i64(), Cgroup: str(), Hostname: str(),
				CPUModel: str(), CPUs: rng.IntN(64), MemoryLimitMB: rng.IntN(10240), MemoryLimitSource: str(), Platform: str(),
				Runtime: str(), PlatformHint: str()},
			Timing: lab.Timing{Start: i64(), End: i64(), SleepMS: f64()}}
		if rng.IntN(3) == 0 {
			r.Timing.Throughput = &lab.Throughput{RequestedS: f64(), Iterations: i64(), CPUS: f64()}
		}
		if rng.IntN(3) == 0 {
			r.Error = &lab.Error{Kind: str(), Message: str()}
		}
		body, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(body), `\u`) { // encoding/json escapes <, >, &: not the fast path's
			continue
		}
		//lint:ignore SA4000 the same call twice on purpose: the second decode is served from the string cache
		if !checkFastAgainstStd(t, body, strs) || !checkFastAgainstStd(t, body, strs) {
			t.Fatalf("fast path refused encoding/json output %s", body)
		}
	}
}

// FuzzDecodeLabFast: whatever the fast path accepts, encoding/json accepts
// too and decodes to the same value.
func FuzzDecodeLabFast(f *testing.F) {
	f.Add([]byte(labBody))
	f.Add([]byte(`{"schema_version":1,"error":{"kind":"workload","message":"x"},"timing":{"sleep_ms":1e-3}}`))
	f.Add([]byte(`{"depth":-0,"timing":{"start":-9223372036854775808}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		checkFastAgainstStd(t, body, nil)
	})
}

// TestDecodeResponseFallsBack: bodies outside the fast path's form still
// decode, through the general decoder.
func TestDecodeResponseFallsBack(t *testing.T) {
	tests := []struct {
		name string
		body string
		want func(*lab.Response) bool
	}{
		{"nested", `{"schema_version":1,"nested":[{"function_name":"function2","response":{"schema_version":1,"function":"function2"}}]}`,
			func(r *lab.Response) bool { return len(r.Nested) == 1 && r.Nested[0].Response.Function == "function2" }},
		{"escaped string", `{"schema_version":1,"function":"a\u00e9b"}`, func(r *lab.Response) bool { return r.Function == "aéb" }},
		{"unknown field", `{"schema_version":2,"future":{"x":[1]}}`, func(r *lab.Response) bool { return r.SchemaVersion == 2 }},
		{"lambda error envelope", `{"errorMessage":"{\"schema_version\":1,\"error\":{\"kind\":\"input\"}}","errorType":"input"}`,
			func(r *lab.Response) bool { return r.Error != nil && r.Error.Kind == "input" }},
		{"fast path decodes", labBody, func(r *lab.Response) bool { return r.Instance.Cold && r.Timing.Throughput.Iterations == 123456 }},
	}
	for _, tt := range tests {
		r := DecodeResponse([]byte(tt.body))
		if r == nil || !tt.want(r) {
			t.Errorf("%s: DecodeResponse = %+v", tt.name, r)
		}
	}
	for _, body := range []string{`{"schema_version":0}`, `not json`, `{"depth":1}`} {
		if r := DecodeResponse([]byte(body)); r != nil {
			t.Errorf("DecodeResponse(%s) = %+v, want nil", body, r)
		}
	}
}

// TestStringCache: a cached string equals its bytes, is shared on the next
// lookup (no allocation), and long strings are not kept.
func TestStringCache(t *testing.T) {
	var c stringCache
	a := c.get([]byte("function1"))
	b := c.get([]byte("function1"))
	if a != "function1" || b != "function1" || unsafe.StringData(a) != unsafe.StringData(b) {
		t.Errorf("get = %q, %q (shared: %v)", a, b, unsafe.StringData(a) == unsafe.StringData(b))
	}
	if n := testing.AllocsPerRun(100, func() { c.get([]byte("function1")) }); n != 0 {
		t.Errorf("a cached string costs %v allocations", n)
	}
	long := strings.Repeat("x", maxCachedString+1)
	if x, y := c.get([]byte(long)), c.get([]byte(long)); x != long || unsafe.StringData(x) == unsafe.StringData(y) {
		t.Errorf("long string cached or wrong")
	}
	var nilCache *stringCache
	if got := nilCache.get([]byte("x")); got != "x" {
		t.Errorf("nil cache: %q", got)
	}
}

// TestDecodeLabFastTakesHandlerOutput: what the lab functions really answer
// (lab.Handler's response on this machine's sandbox, marshalled as the
// adapters do) takes the fast path and decodes as encoding/json decodes it.
// It fails when a field is added to the response schema without a member in
// the fast decoder's tables, which would silently send every real response
// to the general decoder.
func TestDecodeLabFastTakesHandlerOutput(t *testing.T) {
	h, err := lab.New(lab.Config{Function: lab.Function1, Sandbox: lab.NewSandbox(lab.SandboxConfig{Platform: "local"})})
	if err != nil {
		t.Fatal(err)
	}
	strs := &stringCache{}
	for _, tt := range []struct{ name, request string }{
		{"empty", `{}`},
		{"sleep", `{"sleep":0.001}`},
		{"throughput", `{"throughput_time":0.001}`},
		{"input error", `{"StatusCode":500}`},
	} {
		resp := h.Handle(context.Background(), "req-"+tt.name, []byte(tt.request))
		if tt.name != "input error" && resp.Error != nil {
			t.Fatalf("%s: handler failed: %v", tt.name, resp.Error)
		}
		body, err := json.Marshal(resp)
		if err != nil {
			t.Fatal(err)
		}
		if !checkFastAgainstStd(t, body, strs) {
			t.Errorf("%s: the fast path refused the handler's response %s", tt.name, body)
		}
	}
}
