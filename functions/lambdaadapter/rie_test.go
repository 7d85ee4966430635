package lambdaadapter_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/faas-benchmarker/faas-benchmarker/functions/internal/proctest"
	"github.com/faas-benchmarker/faas-benchmarker/functions/lab"
	"github.com/faas-benchmarker/faas-benchmarker/functions/lab/workloads"
	"github.com/faas-benchmarker/faas-benchmarker/functions/lambdaadapter"
	"github.com/faas-benchmarker/faas-benchmarker/internal/testtools"
)

const (
	bootstrapPkg = "github.com/faas-benchmarker/faas-benchmarker/functions/cmd/bootstrap"
	monolithPkg  = "github.com/faas-benchmarker/faas-benchmarker/functions/cmd/monolith"
)

var builder *proctest.Builder

func TestMain(m *testing.M) {
	var err error
	if builder, err = proctest.NewBuilder(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	_ = builder.Close()
	os.Exit(code)
}

// rie is one Runtime Interface Emulator running one function binary.
type rie struct {
	proc *testtools.Proc
	addr string
}

// startRIE runs bin under the emulator, bound to loopback, with env added
// to a minimal Lambda-like environment.
func startRIE(t *testing.T, bin string, env ...string) *rie {
	t.Helper()
	p, addr := testtools.StartRIE(t, []string{bin}, append([]string{
		"HOME=" + t.TempDir(),
		"AWS_ACCESS_KEY_ID=AKIDTEST", "AWS_SECRET_ACCESS_KEY=secret", "AWS_REGION=us-east-1",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE=128",
		"AWS_EC2_METADATA_DISABLED=true",
	}, env...)...)
	return &rie{proc: p, addr: addr}
}

// invoke sends one request (the emulator serves one at a time) and
// returns the lab Response and whether Lambda reported a function error.
func (r *rie) invoke(t *testing.T, payload string) (*lab.Response, bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+r.addr+testtools.RIEInvokePath, strings.NewReader(payload))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("invoke: %v", err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	failed := false
	if inner, ok := lambdaadapter.DecodeErrorPayload(body); ok {
		body, failed = inner, true
	}
	var resp lab.Response
	if err := json.Unmarshal(body, &resp); err != nil || resp.SchemaVersion != lab.SchemaVersion {
		t.Fatalf("invoke: status %d, body is not a lab response (%v): %s", res.StatusCode, err, body)
	}
	return &resp, failed
}

func TestRIEColdWarmAndRestart(t *testing.T) {
	bin := builder.Build(t, bootstrapPkg, "bootstrap", "lambda.norpc")
	env := []string{"AWS_LAMBDA_FUNCTION_NAME=fb-test-function1"}
	r := startRIE(t, bin, env...)

	first, failed := r.invoke(t, `{"sleep":0.01}`)
	if failed || first.Error != nil {
		t.Fatalf("first invocation failed: %+v", first.Error)
	}
	in := first.Instance
	if !in.Cold || in.InvocationCount != 1 || in.ID == "" {
		t.Fatalf("first invocation instance = %+v", in)
	}
	if first.Function != lab.Function1 || in.Platform != lab.PlatformAWSLambda || first.RequestID == "" {
		t.Fatalf("first response = function %q platform %q request %q", first.Function, in.Platform, first.RequestID)
	}
	if in.MemoryLimitMB != 128 || in.InitStartedSource != "proc" || in.InitStartedAt > in.StartedAt || in.StartedAt > first.Timing.Start {
		t.Fatalf("instance timing/memory = %+v, handler start %d", in, first.Timing.Start)
	}
	if first.Timing.SleepMS < 10 {
		t.Fatalf("sleep_ms = %v", first.Timing.SleepMS)
	}
	for i := 2; i <= 3; i++ {
		warm, _ := r.invoke(t, `{}`)
		if warm.Instance.Cold || warm.Instance.ID != in.ID || warm.Instance.InvocationCount != int64(i) {
			t.Fatalf("warm invocation %d instance = %+v", i, warm.Instance)
		}
		if warm.RequestID == first.RequestID {
			t.Fatalf("request id reused: %s", warm.RequestID)
		}
	}

	// A failed invocation: platform-level error AND the lab body, and the
	// instance survives.
	bad, failed := r.invoke(t, `{"StatusCode":500}`)
	if !failed || bad.Error == nil || bad.Error.Kind != lab.ErrInput || bad.Instance.ID != in.ID {
		t.Fatalf("bad request: failed=%v response=%+v", failed, bad)
	}
	if after, _ := r.invoke(t, `{}`); after.Instance.ID != in.ID || after.Instance.InvocationCount != 5 {
		t.Fatalf("instance did not survive the error: %+v", after.Instance)
	}
	if bad2, failed := r.invoke(t, `not json`); !failed || bad2.Error == nil || bad2.Error.Kind != lab.ErrInput {
		t.Fatalf("malformed payload: failed=%v error=%+v", failed, bad2.Error)
	}

	// A process restart is a new instance, cold again.
	r.proc.Kill()
	r2 := startRIE(t, bin, env...)
	again, _ := r2.invoke(t, `{}`)
	if !again.Instance.Cold || again.Instance.ID == in.ID || again.Instance.InvocationCount != 1 {
		t.Fatalf("after restart instance = %+v (old id %s)", again.Instance, in.ID)
	}
}

func TestRIEMonolithKnownAnswers(t *testing.T) {
	bin := builder.Build(t, monolithPkg, "bootstrap", "lambda.norpc")
	r := startRIE(t, bin, "AWS_LAMBDA_FUNCTION_NAME=fb-test-monolith", "FB_PLATFORM=local")
	tests := []struct {
		payload string
		field   string
		want    float64
	}{
		{`{"run_function":"fib","args":30}`, "fib", 832040},
		{`{"run_function":"nqueens","args":8}`, "solutions", 92},
		{`{"run_function":"primes","args":1000000}`, "count", 78498},
		{`{"run_function":"binary_trees","args":10,"seed":4}`, "nodes", 2047},
	}
	for _, tt := range tests {
		resp, failed := r.invoke(t, tt.payload)
		if failed || resp.Error != nil || resp.Result == nil {
			t.Fatalf("%s: error %+v", tt.payload, resp.Error)
		}
		var v map[string]float64
		if err := json.Unmarshal(resp.Result.Value, &v); err != nil || v[tt.field] != tt.want {
			t.Fatalf("%s: value %s, want %s=%v", tt.payload, resp.Result.Value, tt.field, tt.want)
		}
		if resp.Function != lab.Monolith || resp.Instance.Platform != lab.PlatformLocal {
			t.Fatalf("function %q platform %q", resp.Function, resp.Instance.Platform)
		}
	}
	// The deployed binary computes exactly what the library computes (whose
	// checksums the workloads tests verify independently).
	want, _, err := workloads.New().Run(context.Background(), "matrix_mult", 50, 9)
	if err != nil {
		t.Fatal(err)
	}
	resp, _ := r.invoke(t, `{"run_function":"matrix_mult","args":50,"seed":9}`)
	if resp.Result == nil || resp.Result.Checksum != want {
		t.Fatalf("matrix_mult checksum = %+v, want %s", resp.Result, want)
	}
	if bad, failed := r.invoke(t, `{"run_function":"nope"}`); !failed || bad.Error == nil || bad.Error.Kind != lab.ErrInput {
		t.Fatalf("unknown workload: %+v", bad.Error)
	}
}

func TestRIENestedThroughSDK(t *testing.T) {
	bin := builder.Build(t, bootstrapPkg, "bootstrap", "lambda.norpc")
	callee := startRIE(t, bin, "AWS_LAMBDA_FUNCTION_NAME=function2")
	// The emulator serves only the function name "function": the template
	// maps every lab name to it.
	caller := startRIE(t, bin,
		"AWS_LAMBDA_FUNCTION_NAME=function1",
		"AWS_ENDPOINT_URL_LAMBDA=http://"+callee.addr,
		lambdaadapter.NameTemplateEnv+"=function",
		"FB_MAX_NESTED_CALLS=3")

	resp, failed := caller.invoke(t, `{"nested_mode":"sequential","invoke_nested":[
		{"function_name":"function2","invoke_payload":{"sleep":0.02}},
		{"function_name":"function2"}]}`)
	if failed || resp.Error != nil || len(resp.Nested) != 2 {
		t.Fatalf("nested: failed=%v error=%+v nested=%+v", failed, resp.Error, resp.Nested)
	}
	n := resp.Nested[0]
	if n.Response == nil || n.Response.Function != lab.Function2 || n.Response.Depth != 1 || n.Response.Parent != resp.RequestID || !n.Response.Instance.Cold {
		t.Fatalf("nested[0] = %+v response %+v", n, n.Response)
	}
	if n.DurationNS < int64(20*time.Millisecond) || n.SentAt == 0 || n.ReceivedAt < n.SentAt {
		t.Fatalf("nested[0] timing = %+v", n)
	}
	if m := resp.Nested[1].Response; m == nil || m.Instance.Cold || m.Instance.ID != n.Response.Instance.ID {
		t.Fatalf("nested[1] should hit the warm callee: %+v", m)
	}

	// A recursion bomb is refused before any call is made.
	bomb, failed := caller.invoke(t, `{"invoke_nested":[{"function_name":"function2"},{"function_name":"function2"},{"function_name":"function2"},{"function_name":"function2"}]}`)
	if !failed || bomb.Error == nil || bomb.Error.Kind != lab.ErrGuard || len(bomb.Nested) != 0 {
		t.Fatalf("bomb: failed=%v error=%+v", failed, bomb.Error)
	}
	// A callee failure is a nested error carrying the callee's response.
	bad, failed := caller.invoke(t, `{"invoke_nested":[{"function_name":"function2","invoke_payload":{"StatusCode":418}}]}`)
	if !failed || bad.Error == nil || bad.Error.Kind != lab.ErrNested || bad.Nested[0].Response == nil ||
		bad.Nested[0].Response.Error.Kind != lab.ErrInput || bad.Nested[0].Response.Depth != 1 {
		t.Fatalf("callee failure: failed=%v resp=%+v", failed, bad)
	}
}
