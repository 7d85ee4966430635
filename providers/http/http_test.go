package http

import (
	"context"
	"fmt"
	"io"
	nethttp "net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"strings"
	"sync"
	"testing"

	"github.com/faas-benchmarker/faas-benchmarker/providers"
)

func TestInvoke(t *testing.T) {
	const token = "Bearer very-secret-token"
	var (
		mu    sync.Mutex
		paths []string
	)
	srv := httptest.NewServer(nethttp.HandlerFunc(func(w nethttp.ResponseWriter, r *nethttp.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		paths = append(paths, r.Method+" "+r.URL.Path)
		mu.Unlock()
		if r.Header.Get("Authorization") != token || r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("headers = %v", r.Header)
		}
		switch r.URL.Path {
		case "/fn/function1", "/custom":
			w.Header().Set("X-Request-Id", "rid")
			w.Write(body) // echo
		case "/fn/function2":
			w.WriteHeader(500)
			w.Write([]byte(`{"schema_version":1,"error":{"kind":"workload","message":"boom"}}`))
		case "/fn/function3":
			w.WriteHeader(403)
			w.Write([]byte(`denied for ` + token))
		default:
			w.WriteHeader(404)
		}
	}))
	defer srv.Close()

	p, err := New(Config{
		URLTemplate: srv.URL + "/fn/{name}",
		URLs:        map[string]string{"monolith": srv.URL + "/custom"},
		Headers:     map[string]string{"Authorization": token},
	})
	if err != nil {
		t.Fatal(err)
	}
	if p.Platform() != "http" {
		t.Errorf("Platform = %q", p.Platform())
	}
	tests := []struct {
		fn       string
		wantKind providers.Kind
		check    func(*testing.T, *providers.Reply)
	}{
		{"function1", "", func(t *testing.T, r *providers.Reply) {
			if r.StatusCode != 200 || string(r.Body) != `{"sleep":0}` || r.RequestID != "rid" || r.Report != nil {
				t.Errorf("reply = %+v", r)
			}
		}},
		{"monolith", "", func(t *testing.T, r *providers.Reply) {
			if string(r.Body) != `{"sleep":0}` {
				t.Errorf("reply = %+v", r)
			}
		}},
		{"function2", "", func(t *testing.T, r *providers.Reply) {
			if r.FunctionError != "HTTP 500: workload" || !strings.Contains(string(r.Body), "boom") {
				t.Errorf("reply = %+v", r)
			}
		}},
		{"function3", providers.KindAuth, nil},
		{"nope", providers.KindNotFound, nil},
	}
	for _, tt := range tests {
		t.Run(tt.fn, func(t *testing.T) {
			r, err := p.Invoke(context.Background(), tt.fn, []byte(`{"sleep":0}`))
			if tt.wantKind != "" {
				if providers.KindOf(err) != tt.wantKind {
					t.Fatalf("error = %v, want kind %s", err, tt.wantKind)
				}
				if !strings.HasPrefix(err.Error(), "http: ") || strings.Contains(err.Error(), "very-secret-token") {
					t.Errorf("message = %q", err.Error())
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, r)
		})
	}
	want := "POST /fn/function1,POST /custom,POST /fn/function2,POST /fn/function3,POST /fn/nope"
	if got := strings.Join(paths, ","); got != want {
		t.Errorf("requests = %s, want %s", got, want)
	}
}

// TestConnectionReuse checks that sequential invocations share one
// keep-alive connection (one client per provider, bodies drained).
func TestConnectionReuse(t *testing.T) {
	var (
		mu    sync.Mutex
		addrs = map[string]bool{}
	)
	srv := httptest.NewServer(nethttp.HandlerFunc(func(w nethttp.ResponseWriter, r *nethttp.Request) {
		mu.Lock()
		addrs[r.RemoteAddr] = true
		mu.Unlock()
		w.Write([]byte(`{"schema_version":1}`))
	}))
	defer srv.Close()
	p, err := New(Config{URLTemplate: srv.URL + "/{name}"})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 20; i++ {
		if _, err := p.Invoke(context.Background(), "function1", []byte(`{}`)); err != nil {
			t.Fatal(err)
		}
	}
	if len(addrs) != 1 {
		t.Errorf("20 sequential invocations used %d connections, want 1", len(addrs))
	}
}

func TestNewValidation(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
	}{
		{"nothing", Config{}},
		{"template without name", Config{URLTemplate: "https://x/y"}},
		{"relative url", Config{URLs: map[string]string{"f": "/f"}}},
		{"bad scheme", Config{URLTemplate: "ftp://x/{name}"}},
		{"empty header name", Config{URLTemplate: "https://x/{name}", Headers: map[string]string{"": "v"}}},
	}
	for _, tt := range tests {
		if _, err := New(tt.cfg); err == nil || !strings.HasPrefix(err.Error(), "http: ") {
			t.Errorf("%s: New error = %v", tt.name, err)
		}
	}
}

func TestNoSecretsInOutput(t *testing.T) {
	cfg := Config{URLTemplate: "https://x/{name}", Headers: map[string]string{"Authorization": "Bearer hush-hush"}}
	p, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if s := fmt.Sprintf("%v %+v %#v %v %+v", cfg, cfg, cfg, p, p); strings.Contains(s, "hush-hush") {
		t.Errorf("secret in %q", s)
	}
}

// BenchmarkInvoke measures the provider's own overhead per invocation
// against a loopback server that answers at once (connection reused).
func BenchmarkInvoke(b *testing.B) {
	resp := []byte(`{"schema_version":1,"error":null}`)
	srv := httptest.NewServer(nethttp.HandlerFunc(func(w nethttp.ResponseWriter, r *nethttp.Request) {
		io.Copy(io.Discard, r.Body)
		w.Write(resp)
	}))
	defer srv.Close()
	p, err := New(Config{URLTemplate: srv.URL + "/{name}"})
	if err != nil {
		b.Fatal(err)
	}
	payload := []byte(`{"sleep":0}`)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.Invoke(context.Background(), "function1", payload); err != nil {
			b.Fatal(err)
		}
	}
}

// TestContextReachesTransport checks that an httptrace.ClientTrace in ctx
// observes each request, under concurrency.
func TestContextReachesTransport(t *testing.T) {
	srv := httptest.NewServer(nethttp.HandlerFunc(func(w nethttp.ResponseWriter, r *nethttp.Request) {
		w.Write([]byte(`{"schema_version":1}`))
	}))
	defer srv.Close()
	p, err := New(Config{URLTemplate: srv.URL + "/{name}"})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	gotConn := 0
	trace := &httptrace.ClientTrace{GotConn: func(httptrace.GotConnInfo) { mu.Lock(); gotConn++; mu.Unlock() }}
	var wg sync.WaitGroup
	for i := 0; i < 32; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := p.Invoke(httptrace.WithClientTrace(context.Background(), trace), "function1", []byte(`{}`)); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if gotConn != 32 {
		t.Errorf("trace saw %d connections for 32 invocations", gotConn)
	}
}
