package builtin_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/faas-benchmarker/faas-benchmarker/experiments"
	"github.com/faas-benchmarker/faas-benchmarker/platforms"
	"github.com/faas-benchmarker/faas-benchmarker/platforms/azure"
	"github.com/faas-benchmarker/faas-benchmarker/platforms/builtin"
	"github.com/faas-benchmarker/faas-benchmarker/platforms/doctor"
)

func lookup(t *testing.T, name string) platforms.Platform {
	t.Helper()
	reg, err := builtin.Registry()
	if err != nil {
		t.Fatal(err)
	}
	p, err := reg.Lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func checkNames(cs []doctor.Check) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.Name())
	}
	return out
}

// TestPreflight: each platform's doctor checks, in order, for a run on an
// existing deployment and for one that deploys a stack.
func TestPreflight(t *testing.T) {
	pulumi := "pulumi cli,stack passphrase,state backend,pulumi plugins"
	for _, tt := range []struct {
		platform string
		managed  bool
		want     string
	}{
		{"local", true, "results directory"},
		{"http", true, "results directory"},
		{"local-stack", true, "results directory," + pulumi},
		{"aws", false, "results directory,aws credentials,aws permissions,lambda account limits"},
		{"aws", true, "results directory,aws credentials,aws permissions,lambda account limits," + pulumi + ",stack settings,function packages"},
		{"azure", false, "results directory,azure credentials"},
		{"azure", true, "results directory,azure credentials," + pulumi + ",stack settings,function packages"},
		{"openfaas", false, "results directory"},
		{"openfaas", true, "results directory,aws credentials," + pulumi + ",stack settings,kubectl,aws"},
	} {
		got := strings.Join(checkNames(lookup(t, tt.platform).Checks(tt.managed, t.TempDir(), doctor.Env{})), ",")
		if got != tt.want {
			t.Errorf("%s managed=%v: checks\n  %s\nwant\n  %s", tt.platform, tt.managed, got, tt.want)
		}
	}
}

// TestLocalNeedsNoAccount: `fbrun doctor --platform local` passes with an
// empty environment.
func TestLocalNeedsNoAccount(t *testing.T) {
	checks := lookup(t, "local").Checks(false, t.TempDir(), doctor.Env{Getenv: func(string) string { return "" }})
	var out bytes.Buffer
	if _, failed := doctor.Run(context.Background(), checks, &out); failed != 0 {
		t.Fatalf("local checks failed:\n%s", out.String())
	}
	if !strings.HasPrefix(out.String(), "ok ") {
		t.Errorf("output %q", out.String())
	}
}

// TestPricingEntriesExist: every price a platform declares is an entry of
// the price table, and AWS Lambda prices each architecture it reports.
func TestPricingEntriesExist(t *testing.T) {
	for _, p := range builtin.All() {
		entries := []string{}
		if p.Pricing.Default != "" {
			entries = append(entries, p.Pricing.Default)
		}
		for _, e := range p.Pricing.ByArchitecture {
			entries = append(entries, e)
		}
		for _, e := range entries {
			if _, err := experiments.PriceByName(e); err != nil {
				t.Errorf("%s: %v", p.Name, err)
			}
		}
	}
	aws := lookup(t, "aws").Pricing.ByArchitecture
	if aws["arm64"] != "aws-lambda-arm" || aws["x86_64"] != "aws-lambda-x86" {
		t.Errorf("aws prices by architecture: %v", aws)
	}
	// Azure prices by the plan its stack reports (platforms/azure), both
	// entries of the table; existing URLs (plan unknown) get no price.
	for _, e := range []string{azure.PriceFlex, azure.PriceConsumption} {
		if _, err := experiments.PriceByName(e); err != nil {
			t.Errorf("azure: %v", err)
		}
	}
	for name, want := range map[string]string{"local": "aws-lambda-x86", "local-stack": "aws-lambda-x86", "azure": "", "openfaas": "", "http": ""} {
		if got := lookup(t, name).Pricing.Default; got != want {
			t.Errorf("%s: price=auto is %q, want %q", name, got, want)
		}
	}
}
