package localfaas_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/faas-benchmarker/faas-benchmarker/internal/testtools"
)

// TestRuntimeAPIMatchesRIE runs the standard-library test runtime (not
// aws-lambda-go) under the AWS Lambda Runtime Interface Emulator and under
// this platform: every Runtime API header and Lambda environment variable
// the emulator provides is provided here too, and responses, handler
// errors and non-JSON answers come back byte for byte.
func TestRuntimeAPIMatchesRIE(t *testing.T) {
	t.Parallel()
	_, addr := testtools.StartRIE(t, []string{testRuntime(t), "lambda"}, "AWS_LAMBDA_FUNCTION_NAME=echo", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE=128")
	rieURL := "http://" + addr + testtools.RIEInvokePath
	p := startPlatform(t, testConfig(t))
	localURL := p.URL() + "/2015-03-31/functions/echo/invocations"

	call := func(url, payload string) []byte {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(payload))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return b
	}

	var fromRIE, fromLocal echoReply
	if err := json.Unmarshal(call(rieURL, `{"a":1}`), &fromRIE); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(call(localURL, `{"a":1}`), &fromLocal); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(fromRIE.Payload, fromLocal.Payload) {
		t.Errorf("payload: emulator %s, local %s", fromRIE.Payload, fromLocal.Payload)
	}
	for h := range fromRIE.Headers {
		if _, ok := fromLocal.Headers[h]; !ok {
			t.Errorf("the emulator sends Runtime API header %s, localfaas does not", h)
		}
	}
	for k := range fromRIE.Env {
		if !strings.HasPrefix(k, "AWS_") && !strings.HasPrefix(k, "LAMBDA_") && k != "_HANDLER" {
			continue
		}
		if _, ok := fromLocal.Env[k]; !ok {
			t.Errorf("the emulator sets %s, localfaas does not", k)
		}
	}
	for _, payload := range []string{`{"error":"boom"}`, `{"garbage":true}`} {
		if r, l := call(rieURL, payload), call(localURL, payload); !bytes.Equal(r, l) {
			t.Errorf("%s: emulator %q, local %q", payload, r, l)
		}
	}
}
