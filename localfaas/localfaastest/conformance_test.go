package localfaastest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"testing"
	"time"

	"github.com/faas-benchmarker/faas-benchmarker/internal/testtools"
	"github.com/faas-benchmarker/faas-benchmarker/localfaas"
	"github.com/faas-benchmarker/faas-benchmarker/localfaas/localfaastest"
)

// startRIE runs bin under the AWS Lambda Runtime Interface Emulator bound
// to loopback and returns its invoke URL.
func startRIE(t *testing.T, bin string, env ...string) string {
	t.Helper()
	_, addr := testtools.StartRIE(t, []string{bin}, append([]string{
		"HOME=" + t.TempDir(),
		"AWS_ACCESS_KEY_ID=AKIDTEST", "AWS_SECRET_ACCESS_KEY=secret", "AWS_REGION=us-east-1",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE=128", "AWS_EC2_METADATA_DISABLED=true",
	}, env...)...)
	return "http://" + addr + testtools.RIEInvokePath
}

// rawInvoke posts payload and returns the status, X-Amz-Function-Error and body.
func rawInvoke(t *testing.T, url, payload string) (int, string, []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewBufferString(payload))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("invoke %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("X-Amz-Function-Error"), body
}

// volatile are the lab response fields that differ between any two
// invocations (ids, clocks, host identity) and are not compared.
var volatile = map[string]bool{
	"request_id": true, "parent": true, "id": true, "init_started_at": true, "started_at": true,
	"start": true, "end": true, "boot_id": true, "host_boot_time": true, "cgroup": true, "hostname": true,
	"platform_hint": true, "sleep_ms": true, "iterations": true, "cpu_s": true, "duration_ns": true,
	"sent_at": true, "received_at": true, "init_started_source": true, "memory_limit_source": true,
}

// normalize decodes a JSON body and drops volatile fields, recursively.
func normalize(t *testing.T, body []byte) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatalf("not JSON: %q", body)
	}
	var walk func(any) any
	walk = func(v any) any {
		switch x := v.(type) {
		case map[string]any:
			// A Lambda error payload whose message is a lab response
			// (the adapter's error encoding): compare the response.
			if msg, ok := x["errorMessage"].(string); ok {
				var inner any
				if json.Unmarshal([]byte(msg), &inner) == nil {
					x["errorMessage"] = inner
				}
			}
			for k := range x {
				if volatile[k] {
					delete(x, k)
				} else {
					x[k] = walk(x[k])
				}
			}
		case []any:
			for i := range x {
				x[i] = walk(x[i])
			}
		}
		return v
	}
	return walk(v)
}

// TestConformanceWithRIE: the same lab bootstrap gives equivalent answers
// (status, function error, response body but for ids and clocks, cold then
// warm) under this platform and under the AWS Lambda Runtime Interface
// Emulator.
func TestConformanceWithRIE(t *testing.T) {
	b := localfaastest.Build(t)
	env := []string{"AWS_LAMBDA_FUNCTION_NAME=function1", "FB_PLATFORM=local", "FB_FUNCTION_TIMEOUT=30"}
	rieURL := startRIE(t, b.Bootstrap, env...)
	p := localfaastest.Start(t, localfaas.Config{})
	localURL := p.URL() + "/2015-03-31/functions/function1/invocations"

	tests := []struct {
		name    string
		payload string
	}{
		{"empty request, cold", `{}`},
		{"empty request, warm", `{}`},
		{"sleep", `{"sleep":0.02}`},
		{"throughput", `{"throughput_time":0.01}`},
		{"unknown fields ignored", `{"whatever":[1,2,3]}`},
		{"input error", `{"StatusCode":500}`},
		{"negative sleep", `{"sleep":-1}`},
		{"negative throughput", `{"throughput_time":-1}`},
		{"nested call to a function not allowed", `{"invoke_nested":[{"function_name":"evil"}]}`},
		{"monolith workload on function1", `{"run_function":"nope"}`},
		{"not an object", `[1,2]`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rs, rErr, rBody := rawInvoke(t, rieURL, tc.payload)
			ls, lErr, lBody := rawInvoke(t, localURL, tc.payload)
			if rs != ls {
				t.Errorf("status: emulator %d, local %d", rs, ls)
			}
			// The emulator never sets X-Amz-Function-Error (Lambda does): an
			// error payload from it must be Unhandled here.
			var rErrBody struct{ ErrorType string }
			_ = json.Unmarshal(rBody, &rErrBody)
			if want := map[bool]string{true: "Unhandled"}[rErr != "" || rErrBody.ErrorType != ""]; lErr != want {
				t.Errorf("X-Amz-Function-Error: local %q, want %q (emulator header %q, errorType %q)", lErr, want, rErr, rErrBody.ErrorType)
			}
			rn, ln := normalize(t, rBody), normalize(t, lBody)
			if !reflect.DeepEqual(rn, ln) {
				t.Errorf("bodies differ:\nemulator %s\nlocal    %s", mustJSON(rn), mustJSON(ln))
			}
		})
	}
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}
