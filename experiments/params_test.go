package experiments

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/faas-benchmarker/faas-benchmarker/engine"
)

func TestParamParse(t *testing.T) {
	tests := []struct {
		name string
		p    Param
		raw  string
		want any    // nil: refused
		msg  string // substring of the refusal
	}{
		{"int", IntParam("n", "1", "h").AtLeast(1), "5", 5, ""},
		{"int below range", IntParam("n", "1", "h").AtLeast(1), "0", nil, "want an integer >= 1"},
		{"int not a number", IntParam("n", "1", "h"), "many", nil, "want an integer"},
		{"int range both", IntParam("n", "3", "h").In(1, 7), "8", nil, "in 1..7"},
		{"float open bound", FloatParam("rate", "5", "h").Above(0).WithUnit("requests/s"), "0", nil, "a number > 0 (requests/s)"},
		{"float negative", FloatParam("rate", "5", "h").Above(0), "-5", nil, "> 0"},
		{"float NaN", FloatParam("rate", "5", "h").Above(0), "NaN", nil, "a number"},
		{"float Inf", FloatParam("rate", "5", "h"), "+Inf", nil, "a number"},
		{"float ok", FloatParam("f", "2", "h").Above(1), "1.5", 1.5, ""},
		{"duration", DurationParam("d", "1s", "h").Above(0), "250ms", 250 * time.Millisecond, ""},
		{"duration negative", DurationParam("min_gap", "1s", "h").Above(0), "-1s", nil, "want a duration > 0s"},
		{"duration zero refused by open bound", DurationParam("d", "1s", "h").Above(0), "0s", nil, "> 0s"},
		{"duration plain number refused", DurationParam("d", "1s", "h"), "5", nil, "e.g. 500ms"},
		{"legacy seconds accepted", DurationParam("sleep", "0s", "h").AtLeast(0).Seconds(), "0.5", 500 * time.Millisecond, ""},
		{"legacy seconds range", DurationParam("sleep", "0s", "h").AtLeast(0).Seconds(), "-0.5", nil, "or plain seconds"},
		{"legacy seconds huge", DurationParam("sleep", "0s", "h").Seconds(), "1e300", nil, "duration"},
		{"bool", BoolParam("b", "false", "h"), "true", true, ""},
		{"bool bad", BoolParam("b", "false", "h"), "yes", nil, "true or false"},
		{"choice", StringParam("arrivals", "uniform", "h").OneOf("uniform", "poisson"), "poisson", "poisson", ""},
		{"choice bad", StringParam("arrivals", "uniform", "h").OneOf("uniform", "poisson"), "burst", nil, "one of uniform, poisson"},
		{"required string", StringParam("function", "function1", "h").Required(), " ", nil, "not empty"},
		{"list", ListParam("l", "a", "h"), " a, b,,c ", []string{"a", "b", "c"}, ""},
		{"list choices", ListParam("modes", "", "h").OneOf("sequential", "concurrent"), "sequential,parallel", nil, "list of sequential, concurrent"},
		{"int list", IntListParam("bursts", "", "h").AtLeast(1), "5, 10", []int{5, 10}, ""},
		{"int list empty", IntListParam("bursts", "", "h").AtLeast(1), "", []int(nil), ""},
		{"int list item out of range", IntListParam("memory", "", "h").In(128, 10240).WithUnit("MB"), "128,64", nil, "each in 128..10240 (MB)"},
		{"int list bad item", IntListParam("bursts", "", "h"), "5,x", nil, "list of integers"},
		{"custom check", ListParam("workloads", "", "h").Checked(checkWorkloads), "fib", nil, "name:size"},
		{"no kind", Param{Name: "x", Default: "1", Help: "h"}, "1", nil, "declares no known type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.p.Parse(tt.raw)
			if tt.want == nil {
				if err == nil || !strings.Contains(err.Error(), tt.msg) {
					t.Fatalf("Parse(%q) = %v, %v; want an error containing %q", tt.raw, got, err, tt.msg)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.raw, err)
			}
			switch w := tt.want.(type) {
			case []string:
				if !slices.Equal(got.([]string), w) {
					t.Fatalf("Parse(%q) = %v, want %v", tt.raw, got, w)
				}
			case []int:
				if !slices.Equal(got.([]int), w) {
					t.Fatalf("Parse(%q) = %v, want %v", tt.raw, got, w)
				}
			default:
				if got != tt.want {
					t.Fatalf("Parse(%q) = %v (%T), want %v (%T)", tt.raw, got, got, tt.want, tt.want)
				}
			}
		})
	}
}

// TestResolveRefusesBeforeRunning: every kind of bad input is refused by
// Resolve (nothing has started then), with the parameter and the range.
func TestResolveRefusesBeforeRunning(t *testing.T) {
	tests := []struct {
		exp  Experiment
		sets map[string]string
		want string
	}{
		{IdleTimeout{}, map[string]string{"min_gap": "-1s"}, `experiment idle-timeout: parameter min_gap="-1s": want a duration > 0s`},
		{IdleTimeout{}, map[string]string{"min_gap": "20s"}, "want min_gap <= max_gap"},
		{Load{}, map[string]string{"rate": "-5"}, `parameter rate="-5": want a number > 0 (requests/s)`},
		{Load{}, map[string]string{"profile": "sawtooth"}, "one of constant, ramp, pyramid, spikes, poisson"},
		{Scaling{}, map[string]string{"bursts": "5,0"}, "each >= 1"},
		{ColdStart{}, map[string]string{"memory": "64"}, "each in 128..10240 (MB)"},
		{Nested{}, map[string]string{"depth": "8"}, "in 1..7"},
		{Throughput{}, map[string]string{"price": "cheap"}, "one of auto, none, aws-lambda-x86"},
		{Smoke{}, map[string]string{"bogus": "1"}, "has no parameter bogus"},
	}
	for _, tt := range tests {
		_, err := Resolve(tt.exp, tt.sets)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s %v: err = %v, want %q", tt.exp.Name(), tt.sets, err, tt.want)
		}
	}
}

// TestSleepIsOneType: sleep is a duration in load and scaling alike, and
// the old float-seconds spelling of load still resolves.
func TestSleepIsOneType(t *testing.T) {
	for _, e := range []Experiment{Load{}, Scaling{}} {
		p, err := Resolve(e, map[string]string{"sleep": "0.25"})
		if err != nil {
			t.Fatalf("%s: %v", e.Name(), err)
		}
		if got := p.Duration("sleep"); got != 250*time.Millisecond {
			t.Errorf("%s sleep = %v, want 250ms", e.Name(), got)
		}
		if p.Err() != nil {
			t.Error(p.Err())
		}
	}
	// The same concept has the same type everywhere. ("steps" is two
	// concepts: load's number of steps, scaling's callers per step.)
	kinds := map[string]Kind{}
	for _, e := range Catalog() {
		for _, p := range e.Params() {
			if p.Name == "steps" {
				continue
			}
			if k, ok := kinds[p.Name]; ok && k != p.Kind {
				t.Errorf("parameter %s is %s in one experiment and %s in %s", p.Name, k, p.Kind, e.Name())
			}
			kinds[p.Name] = p.Kind
		}
	}
}

// TestEveryParamDeclared: every parameter has a known type, a help text,
// a default of its type, and every number or duration a range.
func TestEveryParamDeclared(t *testing.T) {
	for _, e := range Catalog() {
		for _, p := range e.Params() {
			if _, err := p.Parse(p.Default); err != nil {
				t.Errorf("%s %s: default: %v", e.Name(), p.Name, err)
			}
			switch p.Kind {
			case KindInt, KindFloat, KindDuration, KindIntList:
				if p.Min == nil && p.Max == nil {
					t.Errorf("%s %s (%s) declares no range", e.Name(), p.Name, p.Kind)
				}
			}
		}
	}
}

func TestGetterMisuseIsReported(t *testing.T) {
	p, err := Resolve(Smoke{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if p.Int("sequential") != 5 || p.Err() != nil {
		t.Fatalf("sequential = %d, err %v", p.Int("sequential"), p.Err())
	}
	if d := p.Duration("sequential"); d != 0 {
		t.Errorf("mistyped getter = %v", d)
	}
	p.Int("nope")
	err = p.Err()
	if err == nil || !strings.Contains(err.Error(), "sequential as duration") || !strings.Contains(err.Error(), "nope as int") {
		t.Errorf("Err = %v", err)
	}
	if m := p.Map(); m["sequential"] != "5" || len(m) != 2 {
		t.Errorf("Map = %v", m)
	}
}

// misuser reads a parameter it does not declare.
type misuser struct{ Smoke }

func (misuser) Run(_ context.Context, _ *engine.Benchmarker, p Params) (Estimates, error) {
	_ = p.Float("sequential")
	return Estimates{}, nil
}

func TestMisuseSurfaces(t *testing.T) {
	p, err := Resolve(misuser{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := (misuser{}).Run(context.Background(), nil, p); err != nil {
		t.Fatal(err)
	}
	if err := p.Err(); err == nil || errors.Is(err, context.Canceled) {
		t.Fatalf("misuse not reported: %v", err)
	}
}
