package platforms

import (
	"context"
	"github.com/faas-benchmarker/faas-benchmarker/providers"
	"log/slog"
	"strings"
	"testing"
)

func TestNewRegistryRefusesHalfRegistered(t *testing.T) {
	direct := func(context.Context, Target) (*Setup, error) { return nil, nil }
	outs := func(map[string]any, *slog.Logger) (*Setup, error) { return nil, nil }
	ok := Platform{Name: "x", Summary: "s", Direct: direct}
	tests := []struct {
		name string
		ps   []Platform
		want string
	}{
		{"no name", []Platform{{Summary: "s", Direct: direct}}, "no name"},
		{"twice", []Platform{ok, ok}, "registered twice"},
		{"no summary", []Platform{{Name: "x", Direct: direct}}, "no summary"},
		{"nothing to run", []Platform{{Name: "x", Summary: "s"}}, "neither a direct path nor a stack"},
		{"stack without program", []Platform{{Name: "x", Summary: "s", Stack: &Stack{FromOutputs: outs}}}, "program name"},
		{"stack without outputs", []Platform{{Name: "x", Summary: "s", Stack: &Stack{Program: "x"}}}, "FromOutputs"},
		{"embedded without endpoint", []Platform{{Name: "x", Summary: "s", Direct: direct, Embedded: true}}, "--local-endpoint"},
		{"unknown option", []Platform{{Name: "x", Summary: "s", Direct: direct, Options: []Option{"zone"}}}, `unknown option "zone"`},
		{"unknown capability", []Platform{{Name: "x", Summary: "s", Direct: direct, Capabilities: []providers.Capability{"fly"}}}, `unknown capability "fly"`},
	}
	for _, tt := range tests {
		if _, err := NewRegistry(tt.ps...); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want %q", tt.name, err, tt.want)
		}
	}
	if _, err := NewRegistry(ok); err != nil {
		t.Fatal(err)
	}
}

func TestManaged(t *testing.T) {
	direct := func(context.Context, Target) (*Setup, error) { return nil, nil }
	stack := &Stack{Program: "p"}
	tests := []struct {
		p    Platform
		t    Target
		want bool
	}{
		{Platform{Direct: direct}, Target{}, false},
		{Platform{Direct: direct, Stack: stack}, Target{}, true},
		{Platform{Direct: direct, Stack: stack}, Target{Endpoint: "http://gw"}, false},
		{Platform{Direct: direct, Stack: stack}, Target{Functions: map[string]string{"a": "b"}}, false},
		{Platform{Stack: stack}, Target{LocalEndpoint: "http://x"}, true},
	}
	for i, tt := range tests {
		if got := tt.p.Managed(tt.t); got != tt.want {
			t.Errorf("%d: Managed = %v, want %v", i, got, tt.want)
		}
	}
}

func TestOutputs(t *testing.T) {
	outs := map[string]any{"s": "v", "m": map[string]any{"a": "1"}, "bad": map[string]any{"a": 1}, "empty": ""}
	if v, err := OutString(outs, "s"); err != nil || v != "v" {
		t.Errorf("OutString = %q, %v", v, err)
	}
	if _, err := OutString(outs, "empty"); err == nil {
		t.Error("empty string output accepted")
	}
	if m, err := OutMap(outs, "m"); err != nil || m["a"] != "1" {
		t.Errorf("OutMap = %v, %v", m, err)
	}
	if _, err := OutMap(outs, "bad"); err == nil || !strings.Contains(err.Error(), "not a string") {
		t.Errorf("OutMap(bad) = %v", err)
	}
	if _, err := OutMap(outs, "none"); err == nil {
		t.Error("missing output accepted")
	}
}
