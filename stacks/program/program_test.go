package program

import (
	"slices"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/faas-benchmarker/faas-benchmarker/platforms/builtin"
	"github.com/faas-benchmarker/faas-benchmarker/stacks/internal/stacktest"
	"github.com/faas-benchmarker/faas-benchmarker/stacks/stackcfg"
)

func arnMocks() *stacktest.Mocks {
	return &stacktest.Mocks{State: func(r stacktest.Resource) resource.PropertyMap {
		return resource.PropertyMap{"arn": resource.NewProperty("arn:aws:x:eu-west-1:1:" + r.Name)}
	}}
}

// TestFromConfig runs the root program as `pulumi preview` would, with the
// config in PULUMI_CONFIG (not parallel: it sets the environment).
func TestFromConfig(t *testing.T) {
	tests := []struct {
		name      string
		config    string
		wantErr   string // substring; empty means success
		functions int
		memory    float64
	}{
		{"aws defaults", `{"fb:platform":"aws"}`, "", 4, 128},
		{"aws overrides", `{"fb:platform":"aws","fb:memory":"512","fb:functions":"function1,monolith"}`, "", 2, 512},
		{"no platform", `{"fb:memory":"512"}`, "fb:platform is not set", 0, 0},
		{"unknown platform", `{"fb:platform":"gcp"}`, `unknown platform "gcp"`, 0, 0},
		{"bad value", `{"fb:platform":"aws","fb:memory":"big"}`, `fb:memory (aws stack): "big" is not an integer`, 0, 0},
		{"invalid value", `{"fb:platform":"aws","fb:timeout":"0"}`, "fb:timeout", 0, 0},
		{"openfaas needs image", `{"fb:platform":"openfaas"}`, "fb:image", 0, 0},
		{"typo rejected", `{"fb:platform":"aws","fb:memroy":"512"}`, "config keys not used by the aws stack: fb:memroy", 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(pulumi.EnvConfig, tt.config)
			m := arnMocks()
			err := pulumi.RunErr(FromConfig, pulumi.WithMocks("faas-benchmarker", "dev", m))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				if n := len(m.Resources()); n != 0 {
					t.Fatalf("%d resources registered after a config error", n)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			fns := m.OfType("aws:lambda/function:Function")
			if len(fns) != tt.functions {
				t.Fatalf("%d functions, want %d", len(fns), tt.functions)
			}
			for _, fn := range fns {
				if got := stacktest.Num(t, fn, "memorySize"); got != tt.memory {
					t.Errorf("%s memory = %v, want %v", fn.Name, got, tt.memory)
				}
			}
		})
	}
}

func TestUnknownKeys(t *testing.T) {
	aws := stackcfg.DefaultAWS()
	tests := []struct {
		name, config string
		want         []string
	}{
		{"none", `{"fb:platform":"aws","fb:memory":"1","aws:region":"x","faas-benchmarker:foo":"y"}`, nil},
		{"typo", `{"fb:platform":"aws","fb:memroy":"1","fb:image":"x"}`, []string{"fb:image", "fb:memroy"}},
		{"no config", ``, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := UnknownKeys(tt.config, &aws)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tt.want) {
				t.Fatalf("UnknownKeys = %v, want %v", got, tt.want)
			}
		})
	}
	if _, err := UnknownKeys("{", &aws); err == nil {
		t.Fatal("bad JSON accepted")
	}
}

// TestEveryPlatformStackHasAProgram: every registered platform's stack
// program is in the table, and is built from the settings of the same
// name when the stack takes settings.
func TestEveryPlatformStackHasAProgram(t *testing.T) {
	n := 0
	for _, p := range builtin.All() {
		if p.Stack == nil {
			continue
		}
		n++
		var s stackcfg.Settings
		if p.Stack.Settings {
			var err error
			if s, err = stackcfg.New(stackcfg.Platform(p.Stack.Program)); err != nil {
				t.Errorf("platform %s: stack program %q: %v", p.Name, p.Stack.Program, err)
				continue
			}
		}
		if run, err := Named(p.Stack.Program, s); err != nil || run == nil {
			t.Errorf("platform %s: no program for %q: %v", p.Name, p.Stack.Program, err)
		}
	}
	if n == 0 {
		t.Fatal("no platform with a stack")
	}
	if _, err := Named("aws", &stackcfg.Azure{}); err == nil {
		t.Error("the aws program accepted azure settings")
	}
	if _, err := Named("gcp", nil); err == nil {
		t.Error("an unknown program was built")
	}
}

func TestForEveryPlatform(t *testing.T) {
	for _, p := range stackcfg.Platforms() {
		s, err := stackcfg.New(p)
		if err != nil {
			t.Fatal(err)
		}
		if run, err := For(s); err != nil || run == nil {
			t.Errorf("For(%s) = %v, %v", p, run, err)
		}
	}
	if _, err := For(nil); err == nil {
		t.Error("For(nil) accepted")
	}
}
