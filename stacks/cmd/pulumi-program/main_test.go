package main

import (
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/faas-benchmarker/faas-benchmarker/stacks/internal/stacktest"
)

// TestRun runs the Pulumi.yaml program the way the Go language host does:
// config in PULUMI_CONFIG, resources against the mock monitor.
func TestRun(t *testing.T) {
	tests := []struct {
		name, config, wantErr string
		functions             int
	}{
		{"aws", `{"fb:platform":"aws","fb:functions":"function1,function2"}`, "", 2},
		{"typo rejected", `{"fb:platform":"aws","fb:memroy":"512"}`, "config keys not used by the aws stack: fb:memroy", 0},
		{"other stack's key rejected", `{"fb:platform":"aws","fb:image":"x"}`, "fb:image", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(pulumi.EnvConfig, tt.config)
			m := &stacktest.Mocks{State: func(r stacktest.Resource) resource.PropertyMap {
				return resource.PropertyMap{"arn": resource.NewProperty("arn:aws:x:eu-west-1:1:" + r.Name)}
			}}
			err := pulumi.RunErr(run, pulumi.WithMocks("faas-benchmarker", "dev", m))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				if n := len(m.Resources()); n != 0 {
					t.Fatalf("%d resources registered", n)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if n := len(m.OfType("aws:lambda/function:Function")); n != tt.functions {
				t.Fatalf("%d functions, want %d", n, tt.functions)
			}
		})
	}
}
