package openfaas

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/faas-benchmarker/faas-benchmarker/providers"
)

const (
	user     = "admin"
	password = "gateway-Pa55word-secret"
)

// gateway is a fake OpenFaaS gateway recording every request.
type gateway struct {
	mu        sync.Mutex
	seq       []string
	bodies    []string
	available []uint64 // successive availableReplicas answers
	srv       *httptest.Server
	t         *testing.T
	invoke    func(w http.ResponseWriter)
}

func newGateway(t *testing.T) *gateway {
	g := &gateway{t: t}
	g.srv = httptest.NewServer(http.HandlerFunc(g.serve))
	t.Cleanup(g.srv.Close)
	return g
}

func (g *gateway) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	g.mu.Lock()
	g.seq = append(g.seq, r.Method+" "+r.URL.RequestURI())
	g.bodies = append(g.bodies, string(body))
	g.mu.Unlock()
	u, pw, ok := r.BasicAuth()
	authed := ok && u == user && pw == password
	switch {
	case strings.HasPrefix(r.URL.Path, "/function/"):
		if r.Header.Get("Content-Type") != "application/json" {
			g.t.Errorf("invoke content type %q", r.Header.Get("Content-Type"))
		}
		w.Header().Set("X-Call-Id", "call-7")
		if g.invoke != nil {
			g.invoke(w)
			return
		}
		w.Write(body)
	case !authed:
		w.WriteHeader(http.StatusUnauthorized)
		w.Write([]byte("invalid credentials"))
	case r.Method == http.MethodPost && strings.HasPrefix(r.URL.Path, "/system/scale-function/"):
		w.WriteHeader(http.StatusAccepted)
	case r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/system/function/"):
		g.mu.Lock()
		var n uint64
		if len(g.available) > 0 {
			n, g.available = g.available[0], g.available[1:]
		}
		g.mu.Unlock()
		st := map[string]any{"name": strings.TrimPrefix(r.URL.Path, "/system/function/"), "replicas": 0}
		if n > 0 { // the real gateway omits a zero availableReplicas
			st["availableReplicas"] = n
		}
		json.NewEncoder(w).Encode(st)
	default:
		w.WriteHeader(http.StatusNotFound)
	}
}

func (g *gateway) requests() ([]string, []string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]string(nil), g.seq...), append([]string(nil), g.bodies...)
}

func newProvider(t *testing.T, g *gateway, mod func(*Config)) *Provider {
	t.Helper()
	cfg := Config{GatewayURL: g.srv.URL + "/", Username: user, Password: password,
		Functions: map[string]string{"function1": "fb-function1"}, PollInterval: time.Millisecond}
	if mod != nil {
		mod(&cfg)
	}
	p, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestInvoke(t *testing.T) {
	tests := []struct {
		name      string
		mod       func(*Config)
		invoke    func(w http.ResponseWriter)
		wantURI   string
		wantAuth  bool
		wantKind  providers.Kind
		wantFnErr string
	}{
		{name: "mapped name with auth", wantURI: "/function/fb-function1", wantAuth: true},
		{name: "namespace", mod: func(c *Config) { c.Namespace = "lab-fn" }, wantURI: "/function/fb-function1.lab-fn", wantAuth: true},
		{name: "no invoke auth", mod: func(c *Config) { c.NoInvokeAuth = true }, wantURI: "/function/fb-function1"},
		{name: "lab failure", invoke: func(w http.ResponseWriter) {
			w.WriteHeader(500)
			w.Write([]byte(`{"schema_version":1,"error":{"kind":"workload","message":"x"}}`))
		}, wantURI: "/function/fb-function1", wantAuth: true, wantFnErr: "HTTP 500: workload"},
		{name: "gateway cannot reach function", invoke: func(w http.ResponseWriter) {
			w.WriteHeader(502)
			w.Write([]byte("Can't reach service for: fb-function1."))
		}, wantURI: "/function/fb-function1", wantAuth: true, wantKind: providers.KindHTTP},
		{name: "gateway timeout", invoke: func(w http.ResponseWriter) { w.WriteHeader(504) },
			wantURI: "/function/fb-function1", wantAuth: true, wantKind: providers.KindTimeout},
		{name: "throttled", invoke: func(w http.ResponseWriter) { w.WriteHeader(429) },
			wantURI: "/function/fb-function1", wantAuth: true, wantKind: providers.KindThrottled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := newGateway(t)
			g.invoke = tt.invoke
			var authSeen string
			inner := g.srv.Config.Handler
			g.srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				authSeen = r.Header.Get("Authorization")
				inner.ServeHTTP(w, r)
			})
			p := newProvider(t, g, tt.mod)
			reply, err := p.Invoke(context.Background(), "function1", []byte(`{"sleep":1}`))
			seq, bodies := g.requests()
			if len(seq) != 1 || seq[0] != "POST "+tt.wantURI || bodies[0] != `{"sleep":1}` {
				t.Fatalf("requests = %v %v", seq, bodies)
			}
			if got := authSeen != ""; got != tt.wantAuth {
				t.Errorf("basic auth sent = %v, want %v", got, tt.wantAuth)
			}
			if tt.wantKind != "" {
				if providers.KindOf(err) != tt.wantKind {
					t.Fatalf("error = %v, want kind %s", err, tt.wantKind)
				}
				if !strings.HasPrefix(err.Error(), "openfaas: ") || strings.Contains(err.Error(), password) {
					t.Errorf("message = %q", err.Error())
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if reply.RequestID != "call-7" || reply.FunctionError != tt.wantFnErr {
				t.Errorf("reply = %+v", reply)
			}
		})
	}
}

func TestForceColdStart(t *testing.T) {
	g := newGateway(t)
	g.available = []uint64{2, 1, 0}
	p := newProvider(t, g, func(c *Config) { c.Namespace = "lab-fn" })
	if err := p.ForceColdStart(context.Background(), "function1"); err != nil {
		t.Fatalf("ForceColdStart: %v", err)
	}
	seq, bodies := g.requests()
	want := []string{
		"POST /system/scale-function/fb-function1",
		"GET /system/function/fb-function1?namespace=lab-fn",
		"GET /system/function/fb-function1?namespace=lab-fn",
		"GET /system/function/fb-function1?namespace=lab-fn",
	}
	if strings.Join(seq, "\n") != strings.Join(want, "\n") {
		t.Fatalf("requests:\n%s\nwant:\n%s", strings.Join(seq, "\n"), strings.Join(want, "\n"))
	}
	var sr map[string]any
	if err := json.Unmarshal([]byte(bodies[0]), &sr); err != nil {
		t.Fatal(err)
	}
	if sr["serviceName"] != "fb-function1" || sr["replicas"] != float64(0) || sr["namespace"] != "lab-fn" {
		t.Errorf("scale body = %s", bodies[0])
	}
}

func TestForceColdStartFailures(t *testing.T) {
	t.Run("wrong password", func(t *testing.T) {
		g := newGateway(t)
		p := newProvider(t, g, func(c *Config) { c.Password = "wrong-" + password })
		err := p.ForceColdStart(context.Background(), "function1")
		if providers.KindOf(err) != providers.KindAuth {
			t.Fatalf("error = %v, want auth", err)
		}
		if strings.Contains(err.Error(), password) {
			t.Errorf("password leaked: %q", err.Error())
		}
	})
	t.Run("never reaches zero", func(t *testing.T) {
		g := newGateway(t)
		for i := 0; i < 100000; i++ {
			g.available = append(g.available, 1)
		}
		p := newProvider(t, g, func(c *Config) { c.ColdStartTimeout = 100 * time.Millisecond })
		err := p.ForceColdStart(context.Background(), "function1")
		if providers.KindOf(err) != providers.KindTimeout {
			t.Fatalf("error = %v, want timeout", err)
		}
	})
	t.Run("canceled", func(t *testing.T) {
		g := newGateway(t)
		g.available = []uint64{1, 1, 1}
		p := newProvider(t, g, nil)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if err := p.ForceColdStart(ctx, "function1"); providers.KindOf(err) != providers.KindCanceled {
			t.Fatalf("error = %v, want canceled", err)
		}
	})
}

func TestNoSecretsInOutput(t *testing.T) {
	g := newGateway(t)
	cfg := Config{GatewayURL: g.srv.URL, Username: user, Password: password}
	p, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	s := fmt.Sprintf("%v %+v %#v %v %+v", cfg, cfg, cfg, p, p)
	if strings.Contains(s, password) || strings.Contains(s, "Z2F0ZXdheS1QYTU1d29yZC1zZWNyZXQ") {
		t.Errorf("secret in %q", s)
	}
}

func TestNewValidation(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
	}{
		{"no gateway", Config{Password: "x"}},
		{"no password", Config{GatewayURL: "http://127.0.0.1:8080"}},
		{"plain http to remote gateway", Config{GatewayURL: "http://gw.example.com", Password: "x"}},
		{"credentials in url", Config{GatewayURL: "https://admin:x@gw.example.com", Password: "x"}},
		{"bad namespace", Config{GatewayURL: "https://gw.example.com", Password: "x", Namespace: "a/b"}},
		{"bad function name", Config{GatewayURL: "https://gw.example.com", Password: "x", Functions: map[string]string{"f": "../system"}}},
	}
	for _, tt := range tests {
		if _, err := New(tt.cfg); err == nil || !strings.HasPrefix(err.Error(), "openfaas: ") {
			t.Errorf("%s: New error = %v", tt.name, err)
		}
	}
}
