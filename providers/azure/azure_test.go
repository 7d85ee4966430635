package azure

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/faas-benchmarker/faas-benchmarker/providers"
)

const (
	key1       = "k1-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=="
	defaultKey = "host-BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB=="
)

func TestInvoke(t *testing.T) {
	payload := []byte(`{"sleep":0.5}`)
	tests := []struct {
		name      string
		fn        string
		status    int
		body      string
		wantPath  string
		wantKey   string
		wantKind  providers.Kind // "" = reply
		wantFnErr string
	}{
		// Per-function key and URL.
		{"ok own key", "function1", 200, `{"schema_version":1,"error":null}`, "/api/function1", key1, "", ""},
		// Function from the template with the default key.
		{"ok template default key", "function2", 200, `{"schema_version":1,"error":null}`, "/api/function2", defaultKey, "", ""},
		// The lab function failed: body kept, FunctionError set.
		{"function failure", "function1", 500, `{"schema_version":1,"error":{"kind":"nested","message":"x"}}`, "/api/function1", key1, "", "HTTP 500: nested"},
		{"throttled", "function1", 429, ``, "/api/function1", key1, providers.KindThrottled, ""},
		{"unauthorized", "function1", 401, ``, "/api/function1", key1, providers.KindAuth, ""},
		{"forbidden", "function1", 403, ``, "/api/function1", key1, providers.KindAuth, ""},
		{"not found", "function1", 404, ``, "/api/function1", key1, providers.KindNotFound, ""},
		// 5xx from the host without a lab body.
		{"host error", "function1", 503, `Function host is not running.`, "/api/function1", key1, providers.KindHTTP, ""},
		// A server echoing the key back must not leak it.
		{"echoed key", "function1", 400, `invalid key ` + key1, "/api/function1", key1, providers.KindHTTP, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var seen *http.Request
			var seenBody []byte
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				seen = r.Clone(context.Background())
				seenBody, _ = io.ReadAll(r.Body)
				// The Functions host's request id, written as Azure writes it
				// (lower case on the wire; see the REST API's common headers,
				// https://learn.microsoft.com/rest/api/azure/#response-headers).
				w.Header()["x-ms-request-id"] = []string{"azure-req-1"}
				w.WriteHeader(tt.status)
				w.Write([]byte(tt.body))
			}))
			defer srv.Close()
			p, err := New(Config{
				Functions:   map[string]Function{"function1": {URL: srv.URL + "/api/function1", Key: key1}},
				URLTemplate: srv.URL + "/api/{name}",
				Key:         defaultKey,
			})
			if err != nil {
				t.Fatal(err)
			}
			reply, err := p.Invoke(context.Background(), tt.fn, payload)
			if seen == nil {
				t.Fatal("no request reached the server")
			}
			if seen.Method != http.MethodPost || seen.URL.Path != tt.wantPath || seen.URL.RawQuery != "" {
				t.Errorf("request = %s %s?%s", seen.Method, seen.URL.Path, seen.URL.RawQuery)
			}
			if got := seen.Header.Get("x-functions-key"); got != tt.wantKey {
				t.Errorf("x-functions-key = %q, want %q", got, tt.wantKey)
			}
			if seen.Header.Get("Content-Type") != "application/json" || !bytes.Equal(seenBody, payload) {
				t.Errorf("content type %q, body %q", seen.Header.Get("Content-Type"), seenBody)
			}
			if tt.wantKind == "" {
				if err != nil {
					t.Fatalf("Invoke: %v", err)
				}
				if reply.StatusCode != tt.status || string(reply.Body) != tt.body || reply.FunctionError != tt.wantFnErr ||
					reply.RequestID != "azure-req-1" {
					t.Errorf("reply = %+v", reply)
				}
				return
			}
			var pe *providers.Error
			if !errors.As(err, &pe) || pe.Kind != tt.wantKind || pe.StatusCode != tt.status || pe.Platform != "azure" {
				t.Fatalf("error = %#v, want kind %s", err, tt.wantKind)
			}
			assertNoKey(t, err.Error())
		})
	}
}

func assertNoKey(t *testing.T, s string) {
	t.Helper()
	if strings.Contains(s, key1) || strings.Contains(s, defaultKey) {
		t.Errorf("key leaked in %q", s)
	}
}

func TestKeysNeverLeak(t *testing.T) {
	// Transport failure, unknown function, and what a logger would print.
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	cfg := Config{Functions: map[string]Function{"function1": {URL: url + "/api/function1", Key: key1}}, Key: defaultKey}
	p, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	assertNoKey(t, fmt.Sprintf("%v %+v %#v %v %+v", cfg, cfg, cfg, p, p))
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	_, err = p.Invoke(context.Background(), "function1", []byte(`{}`))
	if providers.KindOf(err) != providers.KindTransport {
		t.Fatalf("kind = %q (%v)", providers.KindOf(err), err)
	}
	log.Error("invoke failed", "err", err, "cause", errors.Unwrap(err))
	_, err = p.Invoke(context.Background(), "nope", []byte(`{}`))
	if providers.KindOf(err) != providers.KindNotFound {
		t.Fatalf("kind = %q (%v)", providers.KindOf(err), err)
	}
	log.Error("invoke failed", "err", err, "provider", p)
	assertNoKey(t, logs.String())
	if !strings.Contains(logs.String(), "azure: transport") {
		t.Errorf("log lacks the classified error: %s", logs.String())
	}
}

func TestNewValidation(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
	}{
		{"nothing", Config{}},
		{"plain http to a remote host", Config{Functions: map[string]Function{"f": {URL: "http://app.azurewebsites.net/api/f", Key: key1}}}},
		{"key in query", Config{Functions: map[string]Function{"f": {URL: "https://app.azurewebsites.net/api/f?code=" + key1}}}},
		{"template without name", Config{URLTemplate: "https://app.azurewebsites.net/api/f"}},
	}
	for _, tt := range tests {
		_, err := New(tt.cfg)
		if err == nil || !strings.HasPrefix(err.Error(), "azure: ") {
			t.Errorf("%s: New error = %v", tt.name, err)
			continue
		}
		assertNoKey(t, err.Error())
	}
}
