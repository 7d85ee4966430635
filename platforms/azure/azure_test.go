package azure

import (
	"context"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"

	"github.com/faas-benchmarker/faas-benchmarker/experiments"
	"github.com/faas-benchmarker/faas-benchmarker/platforms"
	"github.com/faas-benchmarker/faas-benchmarker/providers/azure/onedeploy"
	"github.com/faas-benchmarker/faas-benchmarker/results"
	"github.com/faas-benchmarker/faas-benchmarker/stacks/stackcfg"
)

// TestPlanRecorded: the hosting plan the stack exports is stored with the
// run and is part of the platform's label, so Flex and Linux Consumption
// runs are never compared as one platform. A stack without a plan output
// predates Flex (Linux Consumption); a run given URLs knows no plan.
func TestPlanRecorded(t *testing.T) {
	outs := func(extra map[string]any) map[string]any {
		o := map[string]any{
			stackcfg.OutRegion:       "westeurope",
			stackcfg.OutFunctionURLs: map[string]any{"function1": "https://fb-a-r-function1.azurewebsites.net/api/function1"},
			stackcfg.OutFunctionKeys: map[string]any{"function1": "k"},
		}
		for k, v := range extra {
			o[k] = v
		}
		return o
	}
	for _, tc := range []struct {
		name      string
		outs      map[string]any
		wantPlan  string
		wantMem   string
		wantLabel string
	}{
		{"flex", outs(map[string]any{stackcfg.OutPlan: "flex", stackcfg.OutInstanceMemoryMB: "512", stackcfg.OutMaxInstances: "40"}), "flex", "512", "azure (flex)"},
		{"consumption", outs(map[string]any{stackcfg.OutPlan: "consumption"}), "consumption", "", "azure (consumption)"},
		{"no plan output", outs(nil), "consumption", "", "azure (consumption)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := fromOutputs(tc.outs, nil)
			if err != nil {
				t.Fatal(err)
			}
			if s.Config[results.ConfigPlan] != tc.wantPlan || s.Config["instance_memory_mb"] != tc.wantMem {
				t.Errorf("config = %v", s.Config)
			}
			if got := (results.Run{Platform: Platform().Name, PlatformConfig: s.Config}).PlatformLabel(); got != tc.wantLabel {
				t.Errorf("label = %q, want %q", got, tc.wantLabel)
			}
		})
	}
	s, err := direct(context.Background(), platforms.Target{Functions: map[string]string{"function1": "https://x.azurewebsites.net/api/function1"}})
	if err != nil {
		t.Fatal(err)
	}
	if got := (results.Run{Platform: "azure", PlatformConfig: s.Config}).PlatformLabel(); got != "azure" {
		t.Errorf("direct run label = %q (the plan of an existing app is unknown)", got)
	}
}

// TestPricingByPlan: price=auto prices a run by the plan its stack
// reports — Flex Consumption on-demand (FC1: $0.000026 per GB-s of
// instance memory and $0.40 per million executions, at least 1 s then
// 100 ms steps) or Linux Consumption (Y1: $0.000016 per GB-s of observed
// memory in 128 MB steps and $0.20 per million, at least 100 ms) — and a
// run on existing URLs, whose plan is unknown, gets no automatic price.
func TestPricingByPlan(t *testing.T) {
	outs := func(plan string) map[string]any {
		o := map[string]any{
			stackcfg.OutFunctionURLs: map[string]any{"function1": "https://fb-a-r-function1.azurewebsites.net/api/function1"},
			stackcfg.OutFunctionKeys: map[string]any{"function1": "k"},
		}
		if plan != "" {
			o[stackcfg.OutPlan] = plan
		}
		return o
	}
	for _, tc := range []struct {
		plan, want string
		// cost of one 150 ms invocation at 2048 MB instance / 200 MB observed memory
		memMB, cost float64
	}{
		{"flex", "azure-flex", 2048, 0.40/1e6 + 0.000026*1.0*2},
		{"consumption", "azure-consumption", 200, 0.20/1e6 + 0.000016*0.15*0.25},
		{"", "azure-consumption", 200, 0.20/1e6 + 0.000016*0.15*0.25}, // a stack from before Flex
	} {
		s, err := fromOutputs(outs(tc.plan), nil)
		if err != nil {
			t.Fatal(err)
		}
		got := Platform().PricingFor(s)
		if got.Default != tc.want || got.ByArchitecture != nil {
			t.Errorf("plan %q: price=auto = %+v, want %s", tc.plan, got, tc.want)
			continue
		}
		pr, err := experiments.PriceByName(got.Default)
		if err != nil {
			t.Fatal(err)
		}
		if c := pr.Cost(150, tc.memMB); math.Abs(c-tc.cost) > 1e-12 {
			t.Errorf("plan %q: cost of 150 ms = %g, want %g", tc.plan, c, tc.cost)
		}
	}
	d, err := direct(context.Background(), platforms.Target{Functions: map[string]string{"function1": "https://x.azurewebsites.net/api/function1"}})
	if err != nil {
		t.Fatal(err)
	}
	if got := Platform().PricingFor(d); got.Default != "" || got.ByArchitecture != nil {
		t.Errorf("existing URLs (plan unknown) are priced %+v", got)
	}
}

// TestPublishFlex: on a Flex stack the descriptor publishes every app's
// package to its SCM host with One Deploy (an https stand-in per app that
// answers as the documented API does); a Linux Consumption stack
// publishes nothing; outputs that name no SCM host refuse before anything
// is sent.
func TestPublishFlex(t *testing.T) {
	type app struct {
		srv *httptest.Server
		mu  sync.Mutex
		got []byte
	}
	apps := map[string]*app{}
	dir := t.TempDir()
	names, hosts, pkgs := map[string]any{}, map[string]any{}, map[string]any{}
	var client *http.Client
	for _, lab := range []string{"function1", "monolith"} {
		a := &app{}
		a.srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			switch {
			case r.Method == http.MethodPost && r.URL.Path == "/api/publish":
				b, _ := io.ReadAll(r.Body)
				a.mu.Lock()
				a.got = b
				a.mu.Unlock()
				w.WriteHeader(http.StatusAccepted)
				_, _ = io.WriteString(w, `"d1"`)
			case r.Method == http.MethodGet && r.URL.Path == "/api/deployments/d1":
				_, _ = io.WriteString(w, `{"id":"d1","status":4,"complete":true}`)
			default:
				http.NotFound(w, r)
			}
		}))
		t.Cleanup(a.srv.Close)
		client = a.srv.Client() // every httptest TLS server shares one test certificate
		apps[lab] = a
		p := filepath.Join(dir, lab+".zip")
		if err := os.WriteFile(p, []byte("zip of "+lab), 0o644); err != nil {
			t.Fatal(err)
		}
		names[lab], hosts[lab], pkgs[lab] = "fb-x-r1-"+lab, strings.TrimPrefix(a.srv.URL, "https://"), p
	}
	d, err := onedeploy.New(onedeploy.Config{Credential: staticToken{}, HTTPClient: client,
		Wait: func(ctx context.Context, _ time.Duration) error { return ctx.Err() }})
	if err != nil {
		t.Fatal(err)
	}
	outs := map[string]any{stackcfg.OutPlan: "flex", stackcfg.OutFunctionNames: names, stackcfg.OutSCMHosts: hosts, stackcfg.OutFunctionPackages: pkgs}
	if err := publish(context.Background(), d, outs); err != nil {
		t.Fatal(err)
	}
	for lab, a := range apps {
		if string(a.got) != "zip of "+lab {
			t.Errorf("%s got %q", lab, a.got)
		}
		a.got = nil
	}

	if err := deployPackages(context.Background(), map[string]any{stackcfg.OutPlan: "consumption"}, nil); err != nil {
		t.Errorf("consumption: %v", err)
	}
	delete(hosts, "monolith")
	if err := publish(context.Background(), d, outs); err == nil || !strings.Contains(err.Error(), "no SCM host or package for monolith") {
		t.Errorf("missing SCM host: err = %v", err)
	}
	for lab, a := range apps {
		if a.got != nil {
			t.Errorf("%s was published to although the outputs are incomplete", lab)
		}
	}
}

// staticToken is a credential for the stand-ins.
type staticToken struct{}

func (staticToken) GetToken(context.Context, policy.TokenRequestOptions) (azcore.AccessToken, error) {
	return azcore.AccessToken{Token: "t", ExpiresOn: time.Now().Add(time.Hour)}, nil
}
