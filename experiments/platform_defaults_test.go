package experiments

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/faas-benchmarker/faas-benchmarker/providers"
	"github.com/faas-benchmarker/faas-benchmarker/stacks/stackcfg"
)

// TestResolveOn: a platform's idle range gives idle-timeout its defaults
// under the user's values; the local range gives exactly the declared
// ones; a platform that declares nothing and an experiment without
// platform defaults resolve as Resolve.
func TestResolveOn(t *testing.T) {
	local := providers.IdleRange{Min: time.Second, Max: 16 * time.Second, Spread: 10 * time.Second}
	for _, tc := range []struct {
		name  string
		exp   Experiment
		over  map[string]string
		idle  providers.IdleRange
		check map[string]string
	}{
		{"aws range", IdleTimeout{}, nil, aws60Idle,
			map[string]string{"min_gap": "1m0s", "max_gap": "16m0s", "max_stagger": "45s", "max_time": "8h0m0s", "max_probes": "4000"}},
		{"the user's value wins", IdleTimeout{}, map[string]string{"max_gap": "2h"}, aws60Idle,
			map[string]string{"min_gap": "1m0s", "max_gap": "2h"}},
		{"no range: declared", IdleTimeout{}, nil, providers.IdleRange{}, map[string]string{"min_gap": "1s", "max_gap": "16s"}},
		{"no platform defaults", Smoke{}, nil, aws60Idle, nil},
		{"a stack's lanes", IdleTimeout{}, nil, providers.IdleRange{Min: time.Minute, Max: 16 * time.Minute, Lanes: []string{"function1", "lane4"}},
			map[string]string{"functions": "function1,lane4", "min_gap": "1m0s"}},
		{"the user's lanes win", IdleTimeout{}, map[string]string{"functions": "function2"}, providers.IdleRange{Min: time.Minute, Max: 16 * time.Minute, Lanes: []string{"function1", "lane4"}},
			map[string]string{"functions": "function2"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := ResolveOn(tc.exp, tc.over, tc.idle)
			if err != nil {
				t.Fatal(err)
			}
			for k, want := range tc.check {
				if got := p.Raw(k); got != want {
					t.Errorf("%s = %q, want %q", k, got, want)
				}
			}
			if tc.check == nil {
				plain, _ := Resolve(tc.exp, tc.over)
				for k, v := range plain.Map() {
					if p.Raw(k) != v {
						t.Errorf("%s = %q, want %q as Resolve gives", k, p.Raw(k), v)
					}
				}
			}
		})
	}
	// The local range reproduces the declared defaults, value for value.
	p, err := ResolveOn(IdleTimeout{}, nil, local)
	if err != nil {
		t.Fatal(err)
	}
	plain, _ := Resolve(IdleTimeout{}, nil)
	for _, name := range []string{"min_gap", "max_gap", "max_stagger", "max_time", "max_probes"} {
		a, _ := time.ParseDuration(p.Raw(name))
		b, _ := time.ParseDuration(plain.Raw(name))
		if a != b || (a == 0 && p.Raw(name) != plain.Raw(name)) {
			t.Errorf("local range: %s = %q, declared %q", name, p.Raw(name), plain.Raw(name))
		}
	}
}

// TestResolveOnChecksLimit: idle-timeout's probes must end within the
// deployment's invocation limit (a probe sleeps up to probe_sleep +
// max_stagger); the refusal comes before anything starts and names the
// values.
func TestResolveOnChecksLimit(t *testing.T) {
	long := aws60Idle.WithLimit(800 * time.Second)
	for _, tc := range []struct {
		name string
		over map[string]string
		idle providers.IdleRange
		want string // "" for no error
	}{
		{"aws defaults fit the 60 s timeout", nil, aws60Idle, ""},
		{"10 min spread on a 60 s timeout", map[string]string{"max_stagger": "10m"}, aws60Idle,
			"experiment idle-timeout: probe_sleep + max_stagger = 10m0.1s: a probe may sleep that long, but an invocation on this run may take at most 1m0s"},
		{"just within nine tenths", map[string]string{"max_stagger": "53.9s"}, aws60Idle, ""},
		{"just past nine tenths", map[string]string{"max_stagger": "54s"}, aws60Idle, "keep them within 54s"},
		{"a long sleep counts too", map[string]string{"probe_sleep": "50s"}, aws60Idle, "probe_sleep + max_stagger = 1m35s"},
		{"800 s timeout: 10 min spread", nil, long, ""},
		{"no limit known", map[string]string{"max_stagger": "1h"}, providers.IdleRange{Min: time.Minute, Max: 16 * time.Minute}, ""},
		{"smoke has no such limit", nil, aws60Idle, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var exp Experiment = IdleTimeout{}
			if tc.name == "smoke has no such limit" {
				exp = Smoke{}
			}
			p, err := ResolveOn(exp, tc.over, tc.idle)
			if (err == nil) != (tc.want == "") || err != nil && !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("ResolveOn = %v, want %q", err, tc.want)
			}
			if tc.idle.Limit == long.Limit && p.Raw("max_stagger") != "10m0s" {
				t.Errorf("max_stagger = %q on an 800 s timeout, want 10m0s", p.Raw("max_stagger"))
			}
		})
	}
}

// TestIdleStackDefaults: idle-timeout asks the aws stack for its lanes and
// a Lambda timeout its release spread fits; the settings are ones the aws
// stack takes, and they give the range the simulation calls the aws
// defaults (awsIdle). Other stacks, and other experiments, get none.
func TestIdleStackDefaults(t *testing.T) {
	sets := StackSetsFor(IdleTimeout{}, stackcfg.PlatformAWS, []string{"memory=512"})
	if want := []string{"lanes=12", "timeout=800", "memory=512"}; !slices.Equal(sets, want) {
		t.Fatalf("StackSetsFor = %v, want %v", sets, want)
	}
	s, err := stackcfg.New(stackcfg.PlatformAWS)
	if err != nil {
		t.Fatal(err)
	}
	if err := stackcfg.ApplyOverrides(s, sets); err != nil {
		t.Fatal(err)
	}
	aws := s.(*stackcfg.AWS)
	if r := awsIdle; aws.InvocationLimit() != r.Limit || !slices.Equal(aws.IdleLanes(), r.Lanes) {
		t.Errorf("the stack gives limit %v, lanes %v; the simulation assumes %v, %v", aws.InvocationLimit(), aws.IdleLanes(), r.Limit, r.Lanes)
	}
	for _, p := range []stackcfg.Platform{stackcfg.PlatformAzure, stackcfg.PlatformOpenFaaS} {
		if got := StackSetsFor(IdleTimeout{}, p, nil); len(got) != 0 {
			t.Errorf("%s: %v", p, got)
		}
	}
	// A user who chooses the functions deployed chooses the lanes: copies
	// of function1 need function1..3 (stackcfg.AWS.Validate).
	if got := StackSetsFor(IdleTimeout{}, stackcfg.PlatformAWS, []string{"functions=function1"}); !slices.Equal(got, []string{"timeout=800", "functions=function1"}) {
		t.Errorf("with the user's functions: %v", got)
	}
	if got := StackSetsFor(Smoke{}, stackcfg.PlatformAWS, []string{"memory=512"}); !slices.Equal(got, []string{"memory=512"}) {
		t.Errorf("smoke: %v", got)
	}
}

// TestResolveOnRefusesUndeployedLane: on a stack that says which lanes it
// deploys (--stack-set lanes=5), --set functions naming a lane it does not
// deploy is refused before anything starts, not probed for hours.
func TestResolveOnRefusesUndeployedLane(t *testing.T) {
	idle := providers.IdleRange{Min: time.Minute, Max: 16 * time.Minute, Limit: time.Minute,
		Lanes: []string{"function1", "function2", "function3", "lane4", "lane5"}}
	_, err := ResolveOn(IdleTimeout{}, map[string]string{"functions": "function1,lane9"}, idle)
	if err == nil || !strings.Contains(err.Error(), "lane9 is not deployed") {
		t.Fatalf("functions=function1,lane9 on a stack with lanes=5: %v", err)
	}
	if _, err := ResolveOn(IdleTimeout{}, map[string]string{"functions": "function1,lane5"}, idle); err != nil {
		t.Errorf("a deployed lane refused: %v", err)
	}
}
