package aws

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/faas-benchmarker/faas-benchmarker/providers"
)

// lambdaFunction is a stand-in for one Lambda function's $LATEST
// configuration, written from the Lambda API reference:
//   - GetFunctionConfiguration (GET /2015-03-31/functions/{name}/configuration)
//     and GetFunction (GET /2015-03-31/functions/{name}) return it with its
//     RevisionId, which every update changes;
//   - UpdateFunctionConfiguration (PUT .../configuration) with a RevisionId
//     other than the current one fails with PreconditionFailedException
//     (HTTP 412), and while an update is in progress with
//     ResourceConflictException (HTTP 409)
//     (https://docs.aws.amazon.com/lambda/latest/api/API_UpdateFunctionConfiguration.html#API_UpdateFunctionConfiguration_Errors);
//     Environment replaces every variable, MemorySize only the memory;
//   - GetAccountSettings (GET /2016-08-19/account-settings) and
//     GetFunctionConcurrency (GET /2019-09-30/functions/{name}/concurrency).
type lambdaFunction struct {
	mu       sync.Mutex
	env      map[string]string
	memory   int
	revision int
	arch     string
	// conflicts: the next PUTs answered ResourceConflictException.
	conflicts int
	// meddle, when set, runs after each GET of the configuration until it
	// returns true: someone else changing the function between our read
	// and our write.
	meddle func(f *lambdaFunction) bool
	// puts are the update bodies received.
	puts []map[string]any
	// onPut runs after an accepted update.
	onPut func()
}

func (f *lambdaFunction) confLocked() map[string]any {
	c := map[string]any{"FunctionName": "fb-run42-function1", "State": "Active", "LastUpdateStatus": "Successful",
		"MemorySize": f.memory, "RevisionId": fmt.Sprintf("rev-%d", f.revision), "Environment": map[string]any{"Variables": f.env}}
	if f.arch != "" {
		c["Architectures"] = []string{f.arch}
	}
	return c
}

func (f *lambdaFunction) handle(w http.ResponseWriter, r *http.Request, body []byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	const base = "/2015-03-31/functions/fb-run42-function1"
	switch {
	case r.Method == http.MethodGet && r.URL.Path == base+"/configuration":
		json.NewEncoder(w).Encode(f.confLocked())
		if f.meddle != nil && f.meddle(f) {
			f.meddle = nil
		}
	case r.Method == http.MethodGet && r.URL.Path == base:
		json.NewEncoder(w).Encode(map[string]any{"Configuration": f.confLocked()})
	case r.Method == http.MethodPut && r.URL.Path == base+"/configuration":
		var in map[string]any
		json.Unmarshal(body, &in)
		f.puts = append(f.puts, in)
		if f.conflicts > 0 {
			f.conflicts--
			writeAPIError(w, http.StatusConflict, "ResourceConflictException",
				"The operation cannot be performed at this time. An update is in progress for resource: arn:aws:lambda:us-east-1:123456789012:function:fb-run42-function1")
			return
		}
		if rev, ok := in["RevisionId"].(string); ok && rev != fmt.Sprintf("rev-%d", f.revision) {
			writeAPIError(w, http.StatusPreconditionFailed, "PreconditionFailedException",
				"The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id")
			return
		}
		if e, ok := in["Environment"].(map[string]any); ok {
			vars, _ := e["Variables"].(map[string]any)
			f.env = map[string]string{}
			for k, v := range vars {
				f.env[k] = v.(string)
			}
		}
		if m, ok := in["MemorySize"].(float64); ok {
			f.memory = int(m)
		}
		f.revision++
		json.NewEncoder(w).Encode(f.confLocked())
		if f.onPut != nil {
			f.onPut()
		}
	case r.Method == http.MethodGet && r.URL.Path == "/2016-08-19/account-settings":
		fmt.Fprint(w, `{"AccountLimit":{"CodeSizeUnzipped":262144000,"CodeSizeZipped":52428800,"ConcurrentExecutions":1000,"TotalCodeSize":80530636800,"UnreservedConcurrentExecutions":900},"AccountUsage":{"FunctionCount":3,"TotalCodeSize":1000}}`)
	case r.Method == http.MethodGet && r.URL.Path == "/2019-09-30/functions/fb-run42-function1/concurrency":
		fmt.Fprint(w, `{"ReservedConcurrentExecutions":50}`)
	case r.Method == http.MethodGet && r.URL.Path == "/2019-09-30/functions/fb-run42-function2/concurrency":
		fmt.Fprint(w, `{}`)
	default:
		writeAPIError(w, http.StatusNotFound, "ResourceNotFoundException", "Function not found: "+r.URL.Path)
	}
}

func (f *lambdaFunction) state() (map[string]string, int, []map[string]any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.env, f.memory, append([]map[string]any(nil), f.puts...)
}

// TestRestore: a forced cold start and a memory sweep leave the user's
// function as it was — no FB_COLD_TOKEN, the first memory size — while a
// variable someone else added meanwhile is kept, and every update carried
// the RevisionId read before it.
func TestRestore(t *testing.T) {
	isolateEnv(t)
	fn := &lambdaFunction{env: map[string]string{"KEEP": "me"}, memory: 128}
	f := newFakeLambda(t, fn.handle)
	p := newTestProvider(t, f.srv.URL, nil)
	ctx := context.Background()
	if err := p.ForceColdStart(ctx, "function1"); err != nil {
		t.Fatal(err)
	}
	for _, mb := range []int{512, 1024} {
		if err := p.SetMemory(ctx, "function1", mb); err != nil {
			t.Fatal(err)
		}
	}
	fn.mu.Lock()
	fn.env["ADDED_BY_OTHERS"] = "x"
	fn.revision++
	fn.mu.Unlock()
	if env, mem, _ := fn.state(); env[ColdTokenEnv] == "" || mem != 1024 {
		t.Fatalf("before restore: env %v, memory %d", env, mem)
	}
	if err := p.Restore(ctx); err != nil {
		t.Fatal(err)
	}
	env, mem, puts := fn.state()
	if _, left := env[ColdTokenEnv]; left || env["KEEP"] != "me" || env["ADDED_BY_OTHERS"] != "x" || mem != 128 {
		t.Fatalf("after restore: env %v, memory %d; want KEEP and ADDED_BY_OTHERS only, 128 MB", env, mem)
	}
	for i, in := range puts {
		if rev, _ := in["RevisionId"].(string); !strings.HasPrefix(rev, "rev-") {
			t.Errorf("update %d sent without a RevisionId: %v", i, in)
		}
	}
	// Restored once: nothing is left to do.
	n := len(puts)
	if err := p.Restore(ctx); err != nil {
		t.Fatal(err)
	}
	if _, _, puts := fn.state(); len(puts) != n {
		t.Errorf("a second Restore sent %d more updates", len(puts)-n)
	}
}

// TestRestoreAfterInterrupt: Ctrl-C while the cold start's update is
// being waited for; the update has gone through, and the Restore the CLI
// runs with a fresh context removes the token again.
func TestRestoreAfterInterrupt(t *testing.T) {
	isolateEnv(t)
	fn := &lambdaFunction{env: map[string]string{}, memory: 256}
	ctx, cancel := context.WithCancel(context.Background())
	fn.onPut = cancel // interrupted right after the update was accepted
	f := newFakeLambda(t, fn.handle)
	p := newTestProvider(t, f.srv.URL, nil)
	if err := p.ForceColdStart(ctx, "function1"); providers.KindOf(err) != providers.KindCanceled {
		t.Fatalf("ForceColdStart = %v, want cancelled", err)
	}
	if env, _, _ := fn.state(); env[ColdTokenEnv] == "" {
		t.Fatal("the update did not go through before the interrupt")
	}
	fn.onPut = nil
	if err := p.Restore(context.WithoutCancel(ctx)); err != nil {
		t.Fatal(err)
	}
	if env, mem, _ := fn.state(); len(env) != 0 || mem != 256 {
		t.Fatalf("after restore: env %v, memory %d", env, mem)
	}
}

// TestUpdateRetries: a ResourceConflictException (an update in progress)
// and a PreconditionFailedException (the function changed between our
// read and our write) are retried from a fresh read, so the concurrent
// change is kept, not overwritten.
func TestUpdateRetries(t *testing.T) {
	isolateEnv(t)
	fn := &lambdaFunction{env: map[string]string{"A": "1"}, memory: 128, conflicts: 1}
	gets := 0
	fn.meddle = func(f *lambdaFunction) bool {
		if gets++; gets < 2 {
			return false // the first attempt meets the update in progress
		}
		f.env = map[string]string{"A": "1", "B": "2"}
		f.revision++
		return true
	}
	f := newFakeLambda(t, fn.handle)
	p := newTestProvider(t, f.srv.URL, nil)
	if err := p.ForceColdStart(context.Background(), "function1"); err != nil {
		t.Fatal(err)
	}
	env, _, puts := fn.state()
	if env["B"] != "2" || env[ColdTokenEnv] == "" {
		t.Fatalf("env %v: the concurrent change was overwritten or the token not set", env)
	}
	if len(puts) != 3 {
		t.Fatalf("%d updates, want 3 (conflict, stale revision, accepted)", len(puts))
	}

	// A conflict that never ends gives up after maxUpdateAttempts.
	stuck := &lambdaFunction{env: map[string]string{}, memory: 128, conflicts: 1 << 20}
	f2 := newFakeLambda(t, stuck.handle)
	q := newTestProvider(t, f2.srv.URL, nil)
	err := q.SetMemory(context.Background(), "function1", 512)
	if err == nil || !strings.Contains(err.Error(), "ResourceConflictException") {
		t.Fatalf("SetMemory = %v, want the conflict", err)
	}
	if _, _, puts := stuck.state(); len(puts) != maxUpdateAttempts {
		t.Errorf("%d attempts, want %d", len(puts), maxUpdateAttempts)
	}
}

// TestThrottleReason: Invoke's TooManyRequestsException carries a Reason
// (and Retry-After) that says which limit refused the call
// (https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html#API_Invoke_Errors);
// it reaches providers.Error.Reason and the message.
func TestThrottleReason(t *testing.T) {
	isolateEnv(t)
	for _, reason := range []string{"ConcurrentInvocationLimitExceeded", "FunctionInvocationRateLimitExceeded",
		"ReservedFunctionConcurrentInvocationLimitExceeded", "ReservedFunctionInvocationRateLimitExceeded", "CallerRateLimitExceeded"} {
		t.Run(reason, func(t *testing.T) {
			f := newFakeLambda(t, func(w http.ResponseWriter, r *http.Request, _ []byte) {
				w.Header().Set("Content-Type", "application/json")
				w.Header().Set("Retry-After", "1")
				w.Header().Set("X-Amzn-ErrorType", "TooManyRequestsException")
				w.WriteHeader(http.StatusTooManyRequests)
				json.NewEncoder(w).Encode(map[string]string{"Type": "User", "message": "Rate Exceeded.", "Reason": reason})
			})
			p := newTestProvider(t, f.srv.URL, nil)
			_, err := p.Invoke(context.Background(), "function1", []byte(`{}`))
			var pe *providers.Error
			if !errors.As(err, &pe) || pe.Kind != providers.KindThrottled || pe.Reason != reason {
				t.Fatalf("error %#v, want throttled with reason %s", err, reason)
			}
			if !strings.Contains(pe.Message, "reason "+reason+", retry after 1 s") {
				t.Errorf("message %q lacks the reason", pe.Message)
			}
		})
	}
}

// TestConcurrencyLimits reads GetAccountSettings and the function's
// reserved concurrency (none: an empty GetFunctionConcurrency reply).
func TestConcurrencyLimits(t *testing.T) {
	isolateEnv(t)
	fn := &lambdaFunction{env: map[string]string{}}
	f := newFakeLambda(t, fn.handle)
	p := newTestProvider(t, f.srv.URL, func(c *Config) {
		c.Functions = map[string]string{"function1": "fb-run42-function1", "function2": "fb-run42-function2"}
	})
	got, err := p.ConcurrencyLimits(context.Background(), "function1")
	if err != nil || got != (providers.ConcurrencyLimits{Account: 1000, Unreserved: 900, Reserved: 50, HasReserved: true}) || got.Limit() != 50 {
		t.Fatalf("function1 limits %+v (%v)", got, err)
	}
	got, err = p.ConcurrencyLimits(context.Background(), "function2")
	if err != nil || got.HasReserved || got.Limit() != 900 {
		t.Fatalf("function2 limits %+v (%v)", got, err)
	}
}

// TestArchitecture: a stack's output wins; otherwise the function's
// Architectures, read once.
func TestArchitecture(t *testing.T) {
	isolateEnv(t)
	fn := &lambdaFunction{env: map[string]string{}, arch: "arm64"}
	f := newFakeLambda(t, fn.handle)
	p := newTestProvider(t, f.srv.URL, nil)
	for i := 0; i < 2; i++ {
		if a, err := p.Architecture(context.Background(), "function1"); err != nil || a != "arm64" {
			t.Fatalf("architecture %q (%v)", a, err)
		}
	}
	if n := len(f.requests()); n != 1 {
		t.Errorf("%d requests, want 1 (cached)", n)
	}
	q := newTestProvider(t, f.srv.URL, func(c *Config) { c.Architecture = "x86_64" })
	if a, _ := q.Architecture(context.Background(), "function1"); a != "x86_64" {
		t.Errorf("configured architecture ignored: %q", a)
	}
}
