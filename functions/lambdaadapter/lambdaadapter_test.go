package lambdaadapter_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/lambda/messages"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/faas-benchmarker/faas-benchmarker/functions/lab"
	"github.com/faas-benchmarker/faas-benchmarker/functions/lambdaadapter"
)

func newHandler(t *testing.T) *lambdaadapter.Handler {
	t.Helper()
	h, err := lab.New(lab.Config{Function: lab.Function2, Sandbox: lab.NewSandbox(lab.SandboxConfig{Platform: lab.PlatformAWSLambda})})
	if err != nil {
		t.Fatal(err)
	}
	return lambdaadapter.NewHandler(h, nil)
}

func TestHandlerSuccessAndError(t *testing.T) {
	h := newHandler(t)
	ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: "req-123"})
	out, err := h.Invoke(ctx, []byte(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	var ok lab.Response
	if err := json.Unmarshal(out, &ok); err != nil || ok.RequestID != "req-123" || ok.Function != lab.Function2 || !ok.Instance.Cold {
		t.Fatalf("response %s (%v)", out, err)
	}

	_, err = h.Invoke(ctx, []byte(`{"sleep":-1}`))
	var ie messages.InvokeResponse_Error
	if !errors.As(err, &ie) || ie.Type != lambdaadapter.ErrorType {
		t.Fatalf("error = %#v", err)
	}
	// What Lambda sends the caller is the marshalled InvokeResponse_Error.
	payload, _ := json.Marshal(ie)
	body, decoded := lambdaadapter.DecodeErrorPayload(payload)
	var bad lab.Response
	if !decoded || json.Unmarshal(body, &bad) != nil || bad.Error == nil || bad.Error.Kind != lab.ErrInput || bad.Instance.ID != ok.Instance.ID || bad.Instance.Cold {
		t.Fatalf("decoded error payload = %s (%v)", body, decoded)
	}
}

func TestDecodeErrorPayload(t *testing.T) {
	for _, tt := range []struct {
		payload string
		ok      bool
	}{
		{`{"errorMessage":"{\"schema_version\":1}","errorType":"LabError"}`, true},
		{`{"errorMessage":"Task timed out after 3.00 seconds","errorType":"Runtime.ExitError"}`, false},
		{`{"errorMessage":"not json","errorType":"LabError"}`, false},
		{`garbage`, false},
	} {
		if _, ok := lambdaadapter.DecodeErrorPayload([]byte(tt.payload)); ok != tt.ok {
			t.Errorf("DecodeErrorPayload(%s) ok = %v", tt.payload, ok)
		}
	}
}

func TestNameMapper(t *testing.T) {
	for _, tt := range []struct{ tmpl, own, in, want string }{
		{"", "fb-run42-function1", "function2", "fb-run42-function2"},
		{"", "function1", "monolith", "monolith"},
		{"prod-{name}-v2", "whatever", "function3", "prod-function3-v2"},
		{"function", "x", "function2", "function"},
	} {
		if got := lambdaadapter.NameMapper(tt.tmpl, tt.own)(tt.in); got != tt.want {
			t.Errorf("NameMapper(%q,%q)(%q) = %q, want %q", tt.tmpl, tt.own, tt.in, got, tt.want)
		}
	}
}

// TestInvokerAgainstInvokeAPI checks the SDK path against a server
// speaking the Lambda Invoke API the way AWS does (function errors carry
// X-Amz-Function-Error), reached through AWS_ENDPOINT_URL_LAMBDA.
func TestInvokerAgainstInvokeAPI(t *testing.T) {
	var paths []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		paths = append(paths, r.URL.Path)
		if !strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256") {
			w.WriteHeader(http.StatusForbidden)
			return
		}
		if strings.Contains(r.URL.Path, "function3") {
			w.Header().Set("X-Amz-Function-Error", "Unhandled")
			_, _ = w.Write([]byte(`{"errorMessage":"{\"schema_version\":1,\"function\":\"function3\",\"error\":{\"kind\":\"input\",\"message\":\"x\"}}","errorType":"LabError"}`))
			return
		}
		if strings.Contains(r.URL.Path, "monolith") {
			w.Header().Set("X-Amz-Function-Error", "Unhandled")
			_, _ = w.Write([]byte(`{"errorMessage":"Runtime exited","errorType":"Runtime.ExitError"}`))
			return
		}
		_, _ = w.Write([]byte(`{"schema_version":1,"function":"function2"}`))
	}))
	defer srv.Close()
	t.Setenv("AWS_ENDPOINT_URL_LAMBDA", srv.URL)
	t.Setenv("AWS_REGION", "eu-west-1")
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDTEST")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_CONFIG_FILE", "/nonexistent")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")

	inv, err := lambdaadapter.NewInvoker(context.Background(), lambdaadapter.InvokerConfig{OwnName: "fb-r1-function1"})
	if err != nil {
		t.Fatal(err)
	}
	body, err := inv.Invoke(context.Background(), "function2", []byte(`{}`))
	if err != nil || !strings.Contains(string(body), `"function2"`) {
		t.Fatalf("function2: %s %v", body, err)
	}
	body, err = inv.Invoke(context.Background(), "function3", []byte(`{}`))
	if err == nil || !strings.HasPrefix(string(body), `{"schema_version":1,"function":"function3"`) {
		t.Fatalf("function3 lab error: body %s err %v", body, err)
	}
	body, err = inv.Invoke(context.Background(), "monolith", []byte(`{}`))
	if err == nil || !strings.Contains(err.Error(), "Runtime.ExitError") {
		t.Fatalf("monolith crash: body %s err %v", body, err)
	}
	if len(paths) != 3 || paths[0] != "/2015-03-31/functions/fb-r1-function2/invocations" {
		t.Fatalf("paths = %v", paths)
	}
}

func TestFunctionURLEvents(t *testing.T) {
	h := newHandler(t)
	ctx := context.Background()
	tests := []struct {
		name, event string
		wantStatus  int
		wantSleep   bool
	}{
		{"function URL (v2) with a body", `{"version":"2.0","rawPath":"/","requestContext":{"http":{"method":"POST"}},"body":"{\"sleep\":0.001}","isBase64Encoded":false}`, 200, true},
		{"base64 body", `{"version":"2.0","rawPath":"/","requestContext":{},"body":"eyJzbGVlcCI6MC4wMDF9","isBase64Encoded":true}`, 200, true},
		{"REST API (v1) without body", `{"httpMethod":"GET","path":"/","requestContext":{"stage":"prod"},"body":null}`, 200, false},
		{"input error is a 400 proxy response", `{"version":"2.0","rawPath":"/","requestContext":{},"body":"{\"sleep\":-1}"}`, 400, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := h.Invoke(ctx, []byte(tt.event))
			if err != nil {
				t.Fatalf("proxy events never fail at the Lambda level: %v", err)
			}
			var pr struct {
				StatusCode int               `json:"statusCode"`
				Headers    map[string]string `json:"headers"`
				Body       string            `json:"body"`
			}
			if err := json.Unmarshal(out, &pr); err != nil || pr.StatusCode != tt.wantStatus || pr.Headers["Content-Type"] != "application/json" {
				t.Fatalf("proxy response %s", out)
			}
			var r lab.Response
			if err := json.Unmarshal([]byte(pr.Body), &r); err != nil || r.SchemaVersion != lab.SchemaVersion || (r.Timing.SleepMS > 0) != tt.wantSleep {
				t.Fatalf("lab response %s", pr.Body)
			}
		})
	}
	// A direct request mentioning requestContext only inside a payload is
	// not an event.
	out, err := h.Invoke(ctx, []byte(`{"invoke_nested":[],"note":"requestContext"}`))
	if err != nil || !strings.HasPrefix(string(out), `{"schema_version":1`) {
		t.Fatalf("direct request mistaken for an event: %s %v", out, err)
	}
}
