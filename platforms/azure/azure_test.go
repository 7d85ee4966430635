package azure

import (
	"context"
	"testing"

	"github.com/faas-benchmarker/faas-benchmarker/platforms"
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
