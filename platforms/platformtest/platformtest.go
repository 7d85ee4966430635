// Package platformtest is test support for platforms: a fake platform,
// registered through the same registry API as the built-in ones, whose
// functions are the lab functions served by an httptest server. A test
// that adds it to a registry and runs an experiment on it through the CLI
// proves that a platform is its descriptor plus one registry line.
package platformtest

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/faas-benchmarker/faas-benchmarker/functions/httpadapter"
	"github.com/faas-benchmarker/faas-benchmarker/functions/lab"
	"github.com/faas-benchmarker/faas-benchmarker/functions/lab/workloads"
	"github.com/faas-benchmarker/faas-benchmarker/platforms"
	"github.com/faas-benchmarker/faas-benchmarker/platforms/doctor"
	"github.com/faas-benchmarker/faas-benchmarker/providers"
	httpprov "github.com/faas-benchmarker/faas-benchmarker/providers/http"
)

// LabServer serves the four lab functions over plain HTTP at /{name} (any
// other path is 404), on
// a loopback httptest server closed with the test. Nested calls go back
// to the same server.
func LabServer(t testing.TB) *httptest.Server {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	nested, err := httpadapter.NewInvoker(httpadapter.InvokerConfig{URLTemplate: "http://" + srv.Listener.Addr().String() + "/{name}"})
	if err != nil {
		t.Fatal(err)
	}
	sb := lab.NewSandbox(lab.SandboxConfig{Platform: lab.PlatformHTTP})
	var hs []*lab.Handler
	for _, name := range lab.Names() {
		cfg := lab.Config{Function: name, Sandbox: sb, Invoker: nested}
		if name == lab.Monolith {
			cfg.Workloads = workloads.New()
		}
		h, err := lab.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		hs = append(hs, h)
	}
	handler, err := httpadapter.NewServer(httpadapter.Config{Handlers: hs})
	if err != nil {
		t.Fatal(err)
	}
	// A function that is not deployed is not found, as on a platform
	// (the adapter alone would serve it as its default function).
	srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !slices.Contains(lab.Names(), strings.TrimPrefix(r.URL.Path, "/")) {
			http.NotFound(w, r)
			return
		}
		handler.ServeHTTP(w, r)
	})
	srv.Start()
	t.Cleanup(srv.Close)
	return srv
}

// Fake returns the descriptor of a platform called name whose lab
// functions are served at baseURL/{name} (LabServer). It reads no
// platform flag, has no stack and no capabilities, prices its
// invocations as pricing names (an entry of experiments.Prices, "" for
// none), and its preflight is one check that passes, named after it.
func Fake(name, baseURL, pricing string) platforms.Platform {
	return platforms.Platform{
		Name:    name,
		Summary: "a fake platform of a test: the lab functions on an httptest server",
		Direct: func(_ context.Context, _ platforms.Target) (*platforms.Setup, error) {
			cfg := httpprov.NewDefaultConfig()
			cfg.URLTemplate, cfg.PlatformName = baseURL+"/{name}", name
			inv, err := httpprov.New(cfg)
			if err != nil {
				return nil, err
			}
			return &platforms.Setup{Invoker: inv, Config: map[string]any{"fake": baseURL}}, nil
		},
		Pricing: providers.Pricing{Default: pricing},
		Preflight: func(bool, doctor.Env) []doctor.Check {
			return []doctor.Check{reachable{name: name + " server", url: baseURL}}
		},
	}
}

// reachable checks that the lab server answers HTTP.
type reachable struct{ name, url string }

func (r reachable) Name() string { return r.name }

func (r reachable) Run(ctx context.Context) doctor.Result {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.url, nil)
	if err == nil {
		var resp *http.Response
		if resp, err = http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
			return doctor.Result{Name: r.name, OK: true, Detail: fmt.Sprintf("%s answers (HTTP %d)", r.url, resp.StatusCode)}
		}
	}
	return doctor.Result{Name: r.name, Detail: err.Error(), Fix: "start the lab server"}
}
