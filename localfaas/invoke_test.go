package localfaas_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/faas-benchmarker/faas-benchmarker/localfaas"
	"github.com/faas-benchmarker/faas-benchmarker/localfaas/localfaastest"
)

// TestSDKInvoke drives the platform with the real aws-sdk-go-v2 client:
// payload round trip, Runtime API headers and environment, LogType Tail with
// a parseable REPORT line (Init Duration on the cold start only).
func TestSDKInvoke(t *testing.T) {
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIAREALUSERKEY")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "real-user-secret")
	cfg := testConfig(t)
	cfg.Functions[0].MemoryMB = 256
	cfg.Functions[0].Env = map[string]string{"GREETING": "hello"}
	p := startPlatform(t, cfg)
	c := sdkClient(p)

	out := invoke(t, c, "echo", map[string]any{"print": "line from the function", "n": 1})
	r := decodeReply(t, out)
	if string(r.Payload) != `{"n":1,"print":"line from the function"}` {
		t.Errorf("payload echoed as %s", r.Payload)
	}
	for k, want := range map[string]string{
		"AWS_LAMBDA_FUNCTION_NAME":        "echo",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
		"AWS_LAMBDA_FUNCTION_VERSION":     "$LATEST",
		"AWS_LAMBDA_LOG_GROUP_NAME":       "/aws/lambda/echo",
		"AWS_REGION":                      "us-east-1",
		"AWS_ENDPOINT_URL_LAMBDA":         p.URL(),
		"FB_PLATFORM":                     "local",
		"GREETING":                        "hello",
	} {
		if got := r.Env[k]; got != want {
			t.Errorf("env %s = %q, want %q", k, got, want)
		}
	}
	if strings.Contains(r.Env["AWS_ACCESS_KEY_ID"], "REAL") || strings.Contains(r.Env["AWS_SECRET_ACCESS_KEY"], "real") ||
		r.Env["AWS_ACCESS_KEY_ID"] == "" {
		t.Errorf("credentials not replaced by dummies: %q", r.Env["AWS_ACCESS_KEY_ID"])
	}
	if !strings.HasPrefix(r.Env["AWS_LAMBDA_RUNTIME_API"], "127.0.0.1:") {
		t.Errorf("AWS_LAMBDA_RUNTIME_API = %q", r.Env["AWS_LAMBDA_RUNTIME_API"])
	}
	// The execution-environment metadata endpoint, like the emulator's.
	for _, tc := range []struct {
		token string
		code  int
	}{{r.Env["AWS_LAMBDA_METADATA_TOKEN"], http.StatusOK}, {"wrong", http.StatusUnauthorized}} {
		req, _ := http.NewRequest(http.MethodGet, "http://"+r.Env["AWS_LAMBDA_METADATA_API"]+"/2026-01-15/metadata/execution-environment", nil)
		req.Header.Set("Authorization", "Bearer "+tc.token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.code || (tc.code == http.StatusOK && string(body) != `{"AvailabilityZoneID":"use1-az1"}`) {
			t.Errorf("metadata endpoint with token %q: HTTP %d %s", tc.token, resp.StatusCode, body)
		}
	}
	stream := r.Env["AWS_LAMBDA_LOG_STREAM_NAME"]
	if !regexpLogStream.MatchString(stream) {
		t.Errorf("log stream %q does not look like YYYY/MM/DD/[$LATEST]<32 hex>", stream)
	}
	reqID := r.Headers["Lambda-Runtime-Aws-Request-Id"]
	if reqID == "" || header(out, "X-Amzn-Requestid") != reqID {
		t.Errorf("request id header %q vs X-Amzn-Requestid %q", reqID, header(out, "X-Amzn-Requestid"))
	}
	if r.Headers["Lambda-Runtime-Invoked-Function-Arn"] != "arn:aws:lambda:us-east-1:000000000000:function:echo" {
		t.Errorf("function ARN header %q", r.Headers["Lambda-Runtime-Invoked-Function-Arn"])
	}
	if !strings.HasPrefix(r.Headers["Lambda-Runtime-Trace-Id"], "Root=1-") {
		t.Errorf("trace header %q", r.Headers["Lambda-Runtime-Trace-Id"])
	}
	if d := r.Headers["Lambda-Runtime-Deadline-Ms"]; len(d) != 13 {
		t.Errorf("deadline header %q is not epoch ms", d)
	}
	if aws.ToString(out.ExecutedVersion) != "$LATEST" || out.StatusCode != 200 {
		t.Errorf("status %d executed version %q", out.StatusCode, aws.ToString(out.ExecutedVersion))
	}

	log, rep := tailReport(t, out)
	if !strings.HasPrefix(log, "START RequestId: "+reqID+" Version: $LATEST\n") {
		t.Errorf("log does not start with START:\n%s", log)
	}
	if !strings.Contains(log, "line from the function\nEND RequestId: "+reqID+"\n") {
		t.Errorf("function output not in its own log before END:\n%s", log)
	}
	if rep.RequestID != reqID || rep.MemoryMB != 256 || rep.InitDuration == nil || *rep.InitDuration <= 0 {
		t.Errorf("cold REPORT %+v", rep)
	}
	if rep.MaxMemoryMB <= 0 || rep.BilledMS < 1 {
		t.Errorf("REPORT memory/billing not measured: %+v", rep)
	}
	if header(out, localfaas.HeaderCold) != "true" || !r.Cold {
		t.Errorf("first invocation not cold")
	}

	out2 := invoke(t, c, "echo", map[string]any{"print": "second output"})
	r2 := decodeReply(t, out2)
	log2, rep2 := tailReport(t, out2)
	if strings.Contains(log2, "line from the function") || !strings.Contains(log2, "second output\n") {
		t.Errorf("output attributed to the wrong invocation:\n%s", log2)
	}
	if rep2.InitDuration != nil {
		t.Errorf("warm REPORT has Init Duration: %+v", rep2)
	}
	if r2.PID != r.PID || r2.Invocations != 2 || r2.Env["AWS_LAMBDA_LOG_STREAM_NAME"] != stream {
		t.Errorf("second invocation not on the same instance: %+v", r2)
	}

	// Output larger than 4 KB: the tail keeps the end, REPORT included.
	long := strings.Repeat("0123456789", 1000)
	log3, rep3 := tailReport(t, invoke(t, c, "echo", map[string]any{"print": long}))
	if len(log3) != 4096 || strings.Contains(log3, "START") || !strings.Contains(log3, "6789\nEND RequestId: ") || rep3.RequestID == "" {
		t.Errorf("4 KB tail of a long log (%d bytes):\n%.200s", len(log3), log3)
	}

	// The client context reaches the runtime decoded.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out4, err := c.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("echo"), Payload: []byte(`{}`),
		ClientContext: aws.String(base64.StdEncoding.EncodeToString([]byte(`{"custom":{"k":"v"}}`)))})
	if err != nil {
		t.Fatal(err)
	}
	if got := decodeReply(t, out4).Headers["Lambda-Runtime-Client-Context"]; got != `{"custom":{"k":"v"}}` {
		t.Errorf("Lambda-Runtime-Client-Context = %q", got)
	}
}

// TestSDKErrors checks the typed errors the SDK yields.
func TestSDKErrors(t *testing.T) {
	cfg := testConfig(t)
	cfg.MaxInstances = 1
	p := startPlatform(t, cfg)
	c := sdkClient(p)
	ctx := context.Background()

	_, err := c.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("nope")})
	var nf *types.ResourceNotFoundException
	if !errors.As(err, &nf) {
		t.Errorf("unknown function: got %v, want ResourceNotFoundException", err)
	}

	_, err = c.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("echo"), Payload: []byte("{not json")})
	var bad *types.InvalidRequestContentException
	if !errors.As(err, &bad) {
		t.Errorf("invalid JSON: got %v, want InvalidRequestContentException", err)
	}

	_, err = c.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("echo"),
		Payload: []byte(`"` + strings.Repeat("x", localfaas.MaxPayloadBytes) + `"`)})
	var big *types.RequestTooLargeException
	if !errors.As(err, &big) {
		t.Errorf("oversized payload: got %v, want RequestTooLargeException", err)
	}

	// One instance busy for 3 s: the next concurrent request is throttled.
	done := make(chan error, 1)
	seq := lastSeq(p)
	go func() {
		_, err := c.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("echo"), Payload: []byte(`{"sleep_ms":3000}`)})
		done <- err
	}()
	waitEvent(t, p, seq, 30*time.Second, func(e localfaas.Event) bool { return e.Kind == localfaas.EventInvoked })
	_, err = c.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("echo"), Payload: []byte(`{}`)})
	var tm *types.TooManyRequestsException
	if !errors.As(err, &tm) {
		t.Errorf("throttled: got %v, want TooManyRequestsException", err)
	} else if tm.Reason != "ReservedFunctionConcurrentInvocationLimitExceeded" {
		t.Errorf("throttle reason %q", tm.Reason)
	}
	if err := <-done; err != nil {
		t.Errorf("long invocation: %v", err)
	}
	if n := localfaastest.CountEvents(p, "echo", localfaas.EventThrottled, false); n != 1 {
		t.Errorf("%d throttled events, want 1", n)
	}
}

// TestFunctionErrors covers function failures: each is reported as the
// right Lambda error and the platform keeps serving.
func TestFunctionErrors(t *testing.T) {
	cfg := testConfig(t)
	cfg.InitTimeout = 2 * time.Second
	hang := echoSpec(t, "hang", "lambda")
	hang.Timeout = time.Second
	cfg.Functions = append(cfg.Functions, hang,
		echoSpec(t, "initexit", "init-exit"),
		echoSpec(t, "initerror", "init-error"),
		echoSpec(t, "inithang", "init-hang"))
	p := startPlatform(t, cfg)
	c := sdkClient(p)

	tests := []struct {
		name      string
		fn        string
		payload   map[string]any
		errType   string // errorType in the body
		msg       string // substring of errorMessage
		evictedAs localfaas.EvictReason
	}{
		// A handler error: instance kept.
		{"handler error", "echo", map[string]any{"error": "boom"}, "TestError", "boom", ""},
		// The process exits mid-invocation.
		{"crash", "echo", map[string]any{"exit": 2}, "Runtime.ExitError", "Runtime exited with error: exit status 2", localfaas.ReasonCrash},
		// The handler never answers: the function timeout kills it.
		{"timeout", "hang", map[string]any{"hang": true}, "Sandbox.Timedout", "Task timed out after 1.00 seconds", localfaas.ReasonTimeout},
		// The process exits before calling /next.
		{"exit during init", "initexit", map[string]any{}, "Runtime.ExitError", "exit status 3", localfaas.ReasonInitError},
		// The runtime reports /runtime/init/error.
		{"init error", "initerror", map[string]any{}, "TestInitError", "init failed on purpose", localfaas.ReasonInitError},
		// The response is larger than 6 MB: the instance survives.
		{"response too large", "echo", map[string]any{"big": 7 << 20}, "Function.ResponseSizeTooLarge", "6291456 bytes", ""},
		// The runtime never calls /next: the init timeout kills it.
		{"init hang", "inithang", map[string]any{}, "Sandbox.Timedout", "init timed out", localfaas.ReasonInitError},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			seq := lastSeq(p)
			out := invoke(t, c, tc.fn, tc.payload)
			if aws.ToString(out.FunctionError) != "Unhandled" {
				t.Fatalf("FunctionError = %q, payload %s", aws.ToString(out.FunctionError), out.Payload)
			}
			var body struct{ ErrorType, ErrorMessage string }
			if err := json.Unmarshal(out.Payload, &body); err != nil {
				t.Fatalf("error body %q: %v", out.Payload, err)
			}
			if body.ErrorType != tc.errType || !strings.Contains(body.ErrorMessage, tc.msg) {
				t.Errorf("error body %s, want type %s containing %q", out.Payload, tc.errType, tc.msg)
			}
			log, _ := tailReport(t, out)
			if tc.errType == "Sandbox.Timedout" && tc.fn == "hang" && !strings.Contains(log, "Task timed out after 1.00 seconds") {
				t.Errorf("timeout not in log:\n%s", log)
			}
			if tc.evictedAs != "" {
				waitEvent(t, p, seq, 10*time.Second, func(e localfaas.Event) bool {
					return e.Function == tc.fn && e.Kind == localfaas.EventEvicted && e.Reason == tc.evictedAs
				})
			}
			// The platform keeps serving: echo answers (on a new instance
			// after a crash).
			decodeReply(t, invoke(t, c, "echo", map[string]any{}))
		})
	}
}

// TestGarbage: a runtime that writes binary junk to stdout and the Runtime
// API and answers with non-JSON bytes gets its bytes back, a log that still
// ends with REPORT, and stays usable.
func TestGarbage(t *testing.T) {
	p := startPlatform(t, testConfig(t))
	c := sdkClient(p)
	out := invoke(t, c, "echo", map[string]any{"garbage": true})
	if out.FunctionError != nil || string(out.Payload) != "\x00not json\xff" {
		t.Fatalf("garbage answer: error %v payload %q", aws.ToString(out.FunctionError), out.Payload)
	}
	tailReport(t, out)
	out2 := invoke(t, c, "echo", map[string]any{})
	decodeReply(t, out2)
	if a, b := header(out, localfaas.HeaderInstanceID), header(out2, localfaas.HeaderInstanceID); a == "" || a != b {
		t.Errorf("instance %q replaced by %q after garbage, want it reused", a, b)
	}
	if n := localfaastest.CountEvents(p, "echo", localfaas.EventEvicted, false); n != 0 {
		t.Errorf("%d evictions after garbage, want 0", n)
	}
}

var regexpLogStream = regexpMust(`^\d{4}/\d{2}/\d{2}/\[\$LATEST\][0-9a-f]{32}$`)
