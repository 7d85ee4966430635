package openfaas

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/faas-benchmarker/faas-benchmarker/providers"
)

const (
	user     = "admin"
	password = "gateway-Pa55word-secret"
)

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
			g := newGateway(t, newCluster("fb-function1"))
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

// TestForceColdStartCE scales the Deployment to zero through the
// Kubernetes API (the CE gateway refuses replicas 0), waits until the
// gateway reports no replica, and the next invocation is scaled from zero
// by the gateway.
func TestForceColdStartCE(t *testing.T) {
	for _, exec := range []bool{false, true} {
		t.Run(fmt.Sprintf("exec plugin %v", exec), func(t *testing.T) {
			c := newCluster("fb-function1")
			c.deps["fb-function1"].status, c.deps["fb-function1"].available = 3, 3 // three pods to terminate
			g := newGateway(t, c)
			k := newKubeAPI(t, c, "kube-token-1")
			p := newProvider(t, g, func(cfg *Config) { cfg.Kubeconfig = k.kubeconfig("kube-token-1", exec) })
			if err := p.ForceColdStart(context.Background(), "function1"); err != nil {
				t.Fatalf("ForceColdStart: %v", err)
			}
			kreq := k.requests()
			if len(kreq) < 2 || kreq[0] != `PATCH /apis/apps/v1/namespaces/openfaas-fn/deployments/fb-function1/scale application/merge-patch+json {"spec":{"replicas":0}}` {
				t.Fatalf("kubernetes requests: %q", kreq)
			}
			for _, r := range kreq[1:] {
				if !strings.HasPrefix(r, "GET /apis/apps/v1/namespaces/openfaas-fn/deployments/fb-function1/scale") {
					t.Errorf("unexpected kubernetes request %q", r)
				}
			}
			seq, _ := g.requests()
			for _, r := range seq {
				if strings.HasPrefix(r, "POST /system/scale-function/") {
					t.Errorf("the CE gateway was asked to scale: %q", r)
				}
			}
			if seq[0] != "GET /system/info" || !strings.HasPrefix(seq[len(seq)-1], "GET /system/function/fb-function1") {
				t.Errorf("gateway requests: %q", seq)
			}
			if d := c.deps["fb-function1"]; d.spec != 0 || d.status != 0 || d.available != 0 {
				t.Fatalf("deployment after ForceColdStart: %+v", *d)
			}
			if _, err := p.Invoke(context.Background(), "function1", []byte(`{}`)); err != nil {
				t.Fatal(err)
			}
			want := []string{"k8s scale fb-function1 0", "scale-from-zero fb-function1"}
			if got := c.Events(); strings.Join(got, ",") != strings.Join(want, ",") {
				t.Errorf("events = %q, want %q", got, want)
			}
		})
	}
}

// TestForceColdStartCEWithoutKubeconfig: against CE without a kubeconfig
// the provider says what is missing and never sends the replicas-0 request
// CE refuses.
func TestForceColdStartCEWithoutKubeconfig(t *testing.T) {
	g := newGateway(t, newCluster("fb-function1"))
	p := newProvider(t, g, nil)
	err := p.ForceColdStart(context.Background(), "function1")
	if err == nil || !strings.Contains(err.Error(), "kubeconfig") || !strings.Contains(err.Error(), "CE") {
		t.Fatalf("error = %v, want one naming the kubeconfig", err)
	}
	seq, _ := g.requests()
	if len(seq) != 1 || seq[0] != "GET /system/info" {
		t.Errorf("requests = %q", seq)
	}
}

// TestFakeGatewayEnforcesCE: the fake gateway refuses what CE refuses, so
// the old gateway-only cold start (edition forced to pro) fails against it
// exactly as it would against a real CE installation.
func TestFakeGatewayEnforcesCE(t *testing.T) {
	c := newCluster("fb-function1")
	g := newGateway(t, c)
	p := newProvider(t, g, nil)
	p.edition = EditionPro
	err := p.ForceColdStart(context.Background(), "function1")
	var pe *providers.Error
	if !errors.As(err, &pe) || pe.StatusCode != http.StatusBadRequest || !strings.Contains(err.Error(), "replicas cannot be set to 0 in OpenFaaS CE") {
		t.Fatalf("scale to zero through the CE gateway: %v, want CE's 400", err)
	}
	// Replicas above CE's cap are capped at 5.
	body, _ := json.Marshal(scaleRequest{ServiceName: "fb-function1", Replicas: 12})
	if _, _, _, err := p.caller.Do(context.Background(), http.MethodPost, g.srv.URL+"/system/scale-function/fb-function1", p.auth, body); err != nil {
		t.Fatal(err)
	}
	if got := c.Events(); len(got) != 1 || got[0] != "gateway scale fb-function1 5" {
		t.Errorf("scale to 12 on CE: events %q, want a cap at %d", got, CEMaxReplicas)
	}
}

// TestForceColdStartPro uses the gateway's REST API, which accepts
// replicas 0 in OpenFaaS Pro, and needs no kubeconfig.
func TestForceColdStartPro(t *testing.T) {
	c := newCluster("fb-function1")
	c.deps["fb-function1"].status, c.deps["fb-function1"].available = 2, 2
	g := newGateway(t, c)
	g.pro = true
	p := newProvider(t, g, func(c *Config) { c.Namespace = "lab-fn" })
	if err := p.ForceColdStart(context.Background(), "function1"); err != nil {
		t.Fatalf("ForceColdStart: %v", err)
	}
	seq, bodies := g.requests()
	want := []string{
		"GET /system/info",
		"POST /system/scale-function/fb-function1",
		"GET /system/function/fb-function1?namespace=lab-fn", // 1 left
		"GET /system/function/fb-function1?namespace=lab-fn", // none
	}
	if strings.Join(seq, "\n") != strings.Join(want, "\n") {
		t.Fatalf("requests:\n%s\nwant:\n%s", strings.Join(seq, "\n"), strings.Join(want, "\n"))
	}
	var sr map[string]any
	if err := json.Unmarshal([]byte(bodies[1]), &sr); err != nil {
		t.Fatal(err)
	}
	if sr["serviceName"] != "fb-function1" || sr["replicas"] != float64(0) || sr["namespace"] != "lab-fn" {
		t.Errorf("scale body = %s", bodies[1])
	}
}

func TestEditionOf(t *testing.T) {
	for name, want := range map[string]string{"faas-netes-ce": EditionCE, "faas-netes": EditionCE, "faasd-ce": EditionCE,
		"faas-netes-pro": EditionPro, "openfaas-operator": EditionPro} {
		if got := EditionOf(name); got != want {
			t.Errorf("EditionOf(%q) = %q, want %q", name, got, want)
		}
	}
}

// TestDescribe: the edition recorded with a run is what the running
// gateway's GET /system/info says, for the reply shapes of CE (faas-netes
// pkg/handlers/info.go: provider "faas-netes-ce"), CE before the edition
// suffix ("faas-netes") and any other provider (taken for Pro, the name
// recorded); a reply without a provider name or a refused login fails.
func TestDescribe(t *testing.T) {
	reply := func(provider string) string {
		return `{"provider":{"provider":"` + provider + `","orchestration":"kubernetes","version":{"release":"0.18.13","sha":"a1"}},` +
			`"version":{"release":"0.27.12","sha":"b2","commit_message":"x"},"arch":"x86_64"}`
	}
	tests := []struct {
		name     string
		status   int
		body     string
		want     map[string]any
		wantKind providers.Kind
	}{
		{name: "ce", status: 200, body: reply("faas-netes-ce"), want: map[string]any{"edition": "ce", "gateway_provider": "faas-netes-ce"}},
		{name: "ce before the suffix", status: 200, body: reply("faas-netes"), want: map[string]any{"edition": "ce", "gateway_provider": "faas-netes"}},
		{name: "pro", status: 200, body: reply("faas-netes-pro"), want: map[string]any{"edition": "pro", "gateway_provider": "faas-netes-pro"}},
		{name: "no provider", status: 200, body: `{"version":{"release":"0.27.12"}}`, wantKind: providers.KindHTTP},
		{name: "refused", status: 401, body: "invalid credentials", wantKind: providers.KindAuth},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if u, pw, ok := r.BasicAuth(); r.URL.Path != "/system/info" || !ok || u != user || pw != password {
					t.Errorf("request %s %s (auth %v)", r.Method, r.URL, ok)
				}
				w.WriteHeader(tt.status)
				io.WriteString(w, tt.body)
			}))
			defer srv.Close()
			p, err := New(Config{GatewayURL: srv.URL, Username: user, Password: password})
			if err != nil {
				t.Fatal(err)
			}
			got, err := p.Describe(context.Background())
			if tt.want == nil {
				if providers.KindOf(err) != tt.wantKind || !strings.Contains(fmt.Sprint(err), "/system/info") {
					t.Fatalf("Describe = %v, %v; want a %s error naming /system/info", got, err, tt.wantKind)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := map[string]any{"edition_source": "GET /system/info", "gateway_provider_version": "0.18.13", "gateway_version": "0.27.12"}
			for k, v := range tt.want {
				want[k] = v
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("Describe = %v, want %v", got, want)
			}
			// The cold-start path uses the same reading.
			if e, err := p.Edition(context.Background()); err != nil || e != tt.want["edition"] {
				t.Errorf("Edition = %q, %v", e, err)
			}
		})
	}
}

func TestForceColdStartFailures(t *testing.T) {
	t.Run("wrong password", func(t *testing.T) {
		g := newGateway(t, newCluster("fb-function1"))
		p := newProvider(t, g, func(c *Config) { c.Password = "wrong-" + password })
		err := p.ForceColdStart(context.Background(), "function1")
		if providers.KindOf(err) != providers.KindAuth {
			t.Fatalf("error = %v, want auth", err)
		}
		if strings.Contains(err.Error(), password) {
			t.Errorf("password leaked: %q", err.Error())
		}
	})
	t.Run("wrong kubernetes token", func(t *testing.T) {
		c := newCluster("fb-function1")
		g := newGateway(t, c)
		k := newKubeAPI(t, c, "right-token")
		p := newProvider(t, g, func(cfg *Config) { cfg.Kubeconfig = k.kubeconfig("wrong-token", false) })
		if err := p.ForceColdStart(context.Background(), "function1"); providers.KindOf(err) != providers.KindAuth {
			t.Fatalf("error = %v, want auth", err)
		}
	})
	t.Run("unknown deployment", func(t *testing.T) {
		c := newCluster("fb-function1")
		g := newGateway(t, c)
		k := newKubeAPI(t, c, "tok")
		p := newProvider(t, g, func(cfg *Config) { cfg.Kubeconfig = k.kubeconfig("tok", false) })
		err := p.ForceColdStart(context.Background(), "function2")
		if providers.KindOf(err) != providers.KindNotFound || !strings.Contains(err.Error(), `deployments.apps "function2" not found`) {
			t.Fatalf("error = %v, want not_found with the API server's message", err)
		}
	})
	t.Run("never reaches zero", func(t *testing.T) {
		c := newCluster("fb-function1")
		c.deps["fb-function1"].stuck = true
		g := newGateway(t, c)
		k := newKubeAPI(t, c, "tok")
		p := newProvider(t, g, func(cfg *Config) {
			cfg.Kubeconfig = k.kubeconfig("tok", false)
			cfg.ColdStartTimeout = 100 * time.Millisecond
		})
		err := p.ForceColdStart(context.Background(), "function1")
		if providers.KindOf(err) != providers.KindTimeout {
			t.Fatalf("error = %v, want timeout", err)
		}
	})
	t.Run("canceled", func(t *testing.T) {
		g := newGateway(t, newCluster("fb-function1"))
		p := newProvider(t, g, nil)
		p.edition = EditionPro
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if err := p.ForceColdStart(ctx, "function1"); providers.KindOf(err) != providers.KindCanceled {
			t.Fatalf("error = %v, want canceled", err)
		}
	})
}

func TestNoSecretsInOutput(t *testing.T) {
	g := newGateway(t, newCluster())
	cfg := Config{GatewayURL: g.srv.URL, Username: user, Password: password, Kubeconfig: []byte("kubeconfig-secret")}
	cfg.Kubeconfig = nil
	p, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Kubeconfig = []byte("kubeconfig-secret")
	s := fmt.Sprintf("%v %+v %#v %v %+v", cfg, cfg, cfg, p, p)
	if strings.Contains(s, password) || strings.Contains(s, "Z2F0ZXdheS1QYTU1d29yZC1zZWNyZXQ") || strings.Contains(s, "kubeconfig-secret") {
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
		{"bad kubeconfig", Config{GatewayURL: "https://gw.example.com", Password: "x", Kubeconfig: []byte("clusters: [")}},
		{"kubeconfig with plain http server", Config{GatewayURL: "https://gw.example.com", Password: "x", Kubeconfig: []byte(
			"current-context: c\ncontexts: [{name: c, context: {cluster: k, user: u}}]\nclusters: [{name: k, cluster: {server: 'http://k8s.example.com'}}]\n")}},
	}
	for _, tt := range tests {
		if _, err := New(tt.cfg); err == nil || !strings.HasPrefix(err.Error(), "openfaas: ") {
			t.Errorf("%s: New error = %v", tt.name, err)
		}
	}
	// The explicit opt-in admits plain HTTP to a remote (CIDR-restricted)
	// gateway, and only it.
	if _, err := New(Config{GatewayURL: "http://gw.example.com:8080", Password: "x", AllowPlainHTTP: true}); err != nil {
		t.Errorf("AllowPlainHTTP: %v", err)
	}
}
