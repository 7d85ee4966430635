package localfaastest_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/faas-benchmarker/faas-benchmarker/functions/lab"
	"github.com/faas-benchmarker/faas-benchmarker/localfaas"
	"github.com/faas-benchmarker/faas-benchmarker/localfaas/localfaastest"
)

func client(p *localfaas.Platform) *lambda.Client {
	return lambda.New(lambda.Options{
		Region:           "us-east-1",
		BaseEndpoint:     aws.String(p.URL()),
		Credentials:      credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", ""),
		RetryMaxAttempts: 1,
	})
}

// call invokes fn with the lab request req and decodes the lab response.
func call(t *testing.T, c *lambda.Client, fn string, req lab.Request) (lab.Response, *lambda.InvokeOutput) {
	t.Helper()
	b, err := json.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := c.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String(fn), Payload: b, LogType: types.LogTypeTail})
	if err != nil {
		t.Fatalf("invoke %s: %v", fn, err)
	}
	if out.FunctionError != nil {
		t.Fatalf("invoke %s: function error %s: %s", fn, *out.FunctionError, out.Payload)
	}
	var resp lab.Response
	if err := json.Unmarshal(out.Payload, &resp); err != nil {
		t.Fatalf("decode %s response %q: %v", fn, out.Payload, err)
	}
	if resp.Error != nil {
		t.Fatalf("%s reported error %+v", fn, resp.Error)
	}
	return resp, out
}

func initDurationIn(t *testing.T, out *lambda.InvokeOutput) bool {
	t.Helper()
	raw, err := base64.StdEncoding.DecodeString(aws.ToString(out.LogResult))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimRight(string(raw), "\n"), "\n")
	last := lines[len(lines)-1]
	if !strings.HasPrefix(last, "REPORT RequestId: ") {
		t.Fatalf("log does not end with REPORT:\n%s", raw)
	}
	return strings.Contains(last, "\tInit Duration: ")
}

// instanceEvents returns the platform's created/evicted events by log stream.
func eventsFor(p *localfaas.Platform, stream string) []localfaas.Event {
	var out []localfaas.Event
	for _, e := range p.Events() {
		if e.LogStream == stream {
			out = append(out, e)
		}
	}
	return out
}

// TestLabColdFlagMatchesGroundTruth: the lab functions' own cold flag and
// instance id agree with the platform's events, through warm reuse and a
// configuration update that forces a cold start.
func TestLabColdFlagMatchesGroundTruth(t *testing.T) {
	p := localfaastest.Start(t, localfaas.Config{})
	c := client(p)
	ctx := context.Background()

	r1, out1 := call(t, c, "function1", lab.Request{})
	if r1.Function != "function1" || r1.Instance.Platform != lab.PlatformLocal || !r1.Instance.Cold || !initDurationIn(t, out1) {
		t.Errorf("first call: function %q platform %q cold %v", r1.Function, r1.Instance.Platform, r1.Instance.Cold)
	}
	ev := eventsFor(p, r1.Instance.PlatformHint)
	if len(ev) < 3 || ev[0].Kind != localfaas.EventCreated || ev[2].Kind != localfaas.EventInvoked || !ev[2].Cold ||
		ev[2].RequestID != r1.RequestID {
		t.Errorf("events of the instance %q: %+v", r1.Instance.PlatformHint, ev)
	}

	r2, out2 := call(t, c, "function1", lab.Request{})
	if r2.Instance.ID != r1.Instance.ID || r2.Instance.Cold || initDurationIn(t, out2) || r2.Instance.InvocationCount != 2 {
		t.Errorf("second call not warm on the same instance: %+v", r2.Instance)
	}

	if _, err := c.UpdateFunctionConfiguration(ctx, &lambda.UpdateFunctionConfigurationInput{
		FunctionName: aws.String("function1"),
		Environment:  &types.Environment{Variables: map[string]string{"FB_COLD_NONCE": "1"}},
	}); err != nil {
		t.Fatal(err)
	}
	if err := lambda.NewFunctionUpdatedV2Waiter(c).Wait(ctx, &lambda.GetFunctionInput{FunctionName: aws.String("function1")}, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	r3, out3 := call(t, c, "function1", lab.Request{})
	if r3.Instance.ID == r1.Instance.ID || !r3.Instance.Cold || !initDurationIn(t, out3) || r3.Instance.PlatformHint == r1.Instance.PlatformHint {
		t.Errorf("after the update: %+v, want a new cold instance", r3.Instance)
	}
	old := eventsFor(p, r1.Instance.PlatformHint)
	if last := old[len(old)-1]; last.Kind != localfaas.EventEvicted || last.Reason != localfaas.ReasonConfigUpdate {
		t.Errorf("old instance's last event %+v, want evicted for config_update", last)
	}
}

// TestLabNestedCall: function1 calls function2 through
// AWS_ENDPOINT_URL_LAMBDA, back into the platform.
func TestLabNestedCall(t *testing.T) {
	p := localfaastest.Start(t, localfaas.Config{})
	c := client(p)
	r, _ := call(t, c, "function1", lab.Request{InvokeNested: []lab.NestedCall{
		{FunctionName: "function2", InvokePayload: json.RawMessage(`{}`)},
	}})
	if len(r.Nested) != 1 || r.Nested[0].Response == nil {
		t.Fatalf("nested results %+v", r.Nested)
	}
	n := r.Nested[0].Response
	if n.Function != "function2" || n.Depth != 1 || n.Parent != r.RequestID || !n.Instance.Cold {
		t.Errorf("nested response %+v", n)
	}
	found := false
	for _, e := range p.Events() {
		if e.Function == "function2" && e.Kind == localfaas.EventInvoked && e.LogStream == n.Instance.PlatformHint {
			found = true
		}
	}
	if !found {
		t.Errorf("no function2 invocation event for instance %s", n.Instance.PlatformHint)
	}
}

// TestLabHTTPRuntime: the lab HTTP adapter created through CreateFunction
// answers through the OpenFaaS-style gateway.
func TestLabHTTPRuntime(t *testing.T) {
	p := localfaastest.Start(t, localfaas.Config{})
	c := client(p)
	_, err := c.CreateFunction(context.Background(), &lambda.CreateFunctionInput{
		FunctionName: aws.String("http-function3"),
		Role:         aws.String("arn:aws:iam::000000000000:role/x"),
		Code:         &types.FunctionCode{ZipFile: []byte("unused")},
		Handler:      aws.String("http"),
		Timeout:      aws.Int32(10),
	})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post(p.URL()+"/function/http-function3", "application/json", strings.NewReader(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("gateway: HTTP %d %s", resp.StatusCode, body)
	}
	var r lab.Response
	if err := json.Unmarshal(body, &r); err != nil {
		t.Fatalf("decode %q: %v", body, err)
	}
	if r.Function != "function3" || !r.Instance.Cold || r.Instance.Platform != lab.PlatformLocal ||
		!strings.HasPrefix(r.Instance.PlatformHint, "http-function3-") {
		t.Errorf("HTTP lab response %+v", r)
	}
}

// TestLabMonolith: the monolith binary serves the monolith function.
func TestLabMonolith(t *testing.T) {
	p := localfaastest.Start(t, localfaas.Config{})
	r, _ := call(t, client(p), "monolith", lab.Request{})
	if r.Function != "monolith" || !r.Instance.Cold {
		t.Errorf("monolith response %+v", r)
	}
}
