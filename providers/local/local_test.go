package local

import (
	"context"
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/faas-benchmarker/faas-benchmarker/providers"
)

// TestInvokeIsolatedFromUserAWSConfig checks the request the local provider
// sends (Lambda Invoke path, SigV4 with the dummy key, LogType Tail) and
// that the user's AWS settings never reach the local platform.
func TestInvokeIsolatedFromUserAWSConfig(t *testing.T) {
	t.Setenv("AWS_PROFILE", "does-not-exist")
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIAREALUSERKEY")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "real-user-secret")
	t.Setenv("AWS_REGION", "eu-west-3")
	t.Setenv("AWS_ENDPOINT_URL_LAMBDA", "http://127.0.0.1:1")

	var seen *http.Request
	var body []byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = r.Clone(context.Background())
		body, _ = io.ReadAll(r.Body)
		log := "REPORT RequestId: r\tDuration: 1.00 ms\tBilled Duration: 1 ms\tMemory Size: 128 MB\tMax Memory Used: 10 MB\tInit Duration: 12.50 ms\t\n"
		w.Header().Set("X-Amz-Log-Result", base64.StdEncoding.EncodeToString([]byte(log)))
		w.Write([]byte(`{"schema_version":1}`))
	}))
	defer srv.Close()

	cfg := NewDefaultConfig()
	cfg.Endpoint = srv.URL
	p, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if p.Platform() != "local" {
		t.Errorf("Platform = %q", p.Platform())
	}
	reply, err := p.Invoke(context.Background(), "function1", []byte(`{"sleep":0}`))
	if err != nil {
		t.Fatalf("Invoke: %v", err)
	}
	if seen.URL.Path != "/2015-03-31/functions/function1/invocations" || string(body) != `{"sleep":0}` {
		t.Errorf("request %s %q", seen.URL.Path, body)
	}
	auth := seen.Header.Get("Authorization")
	if !strings.HasPrefix(auth, "AWS4-HMAC-SHA256 Credential="+AccessKeyID+"/") || !strings.Contains(auth, "/"+Region+"/lambda/") {
		t.Errorf("Authorization = %q", auth)
	}
	if seen.Header.Get("X-Amz-Log-Type") != "Tail" {
		t.Errorf("X-Amz-Log-Type = %q", seen.Header.Get("X-Amz-Log-Type"))
	}
	if reply.Report == nil || reply.Report.InitDurationMS == nil || *reply.Report.InitDurationMS != 12.5 {
		t.Errorf("report = %+v", reply.Report)
	}
}

func TestErrorsSayLocal(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Amzn-ErrorType", "TooManyRequestsException")
		w.WriteHeader(429)
		w.Write([]byte(`{"Type":"User","message":"Rate Exceeded."}`))
	}))
	defer srv.Close()
	p, err := New(Config{Endpoint: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	_, err = p.Invoke(context.Background(), "function1", []byte(`{}`))
	if providers.KindOf(err) != providers.KindThrottled || !strings.HasPrefix(err.Error(), "local: throttled") {
		t.Fatalf("error = %v", err)
	}
}

func TestNewValidation(t *testing.T) {
	for _, cfg := range []Config{{}, {Endpoint: "ftp://x"}, {Endpoint: "127.0.0.1:9000"}} {
		if _, err := New(cfg); err == nil || !strings.HasPrefix(err.Error(), "local: ") {
			t.Errorf("New(%+v) error = %v", cfg, err)
		}
	}
}
