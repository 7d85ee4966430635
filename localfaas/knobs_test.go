package localfaas

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"
)

// knobText is a value of each knob other than its default, as written on
// the command line.
var knobText = map[string]string{
	"idle-timeout": "7s", "idle-jitter": "1s", "idle-sweep": "2s", "idle-sweep-phase": "500ms",
	"idle-persistent": "true", "evict-fraction": "0.5",
	"max-lifetime": "3m0s", "max-lifetime-jitter": "4s", "max-instances": "7", "scale-burst": "5",
	"scale-rate": "2.5", "init-delay": "15ms", "seed": "42", "addr": "127.0.0.1:9",
	"timeout": "9s", "memory": "256", "function-logs": "true",
}

// TestKnobsSetAndRead: every knob parses its command-line text, sets the
// configuration and reads back what was set; the stored keys are the ones
// runs have always been recorded under.
func TestKnobsSetAndRead(t *testing.T) {
	c := DefaultConfig()
	c.Functions = DefaultFunctions([]string{"lab"})
	if err := c.SetKnobs(knobText); err != nil {
		t.Fatal(err)
	}
	for _, k := range Knobs() {
		text, ok := knobText[k.Name]
		if !ok {
			t.Errorf("knob %s has no test value", k.Name)
			continue
		}
		want, err := k.Parse(text)
		if err != nil {
			t.Fatal(err)
		}
		if got := k.Get(c); got != want || fmt.Sprint(got) != text {
			t.Errorf("knob %s = %v, want %v", k.Name, got, text)
		}
	}
	if c.IdleTimeout != 7*time.Second || c.IdleEvictFraction != 0.5 || c.ExtraInitDelay != 15*time.Millisecond ||
		c.Functions[3].Timeout != 9*time.Second || c.Functions[2].MemoryMB != 256 || c.FunctionOutput == nil {
		t.Errorf("config = %+v", c)
	}
	stored := c.Stored()
	wantKeys := []string{"extra_init_delay_s", "idle_evict_fraction", "idle_jitter_s", "idle_persistent", "idle_sweep_phase_s", "idle_sweep_s", "idle_timeout_s",
		"max_instances", "max_lifetime_jitter_s", "max_lifetime_s", "scale_burst", "scale_rate_per_s", "seed"}
	if got := slices.Sorted(maps.Keys(stored)); !slices.Equal(got, wantKeys) {
		t.Errorf("stored keys %v, want %v", got, wantKeys)
	}
	if stored["idle_timeout_s"] != 7.0 || stored["max_instances"] != 7 || stored["seed"] != uint64(42) || stored["scale_rate_per_s"] != 2.5 {
		t.Errorf("stored = %v", stored)
	}
}

func TestSetKnobsRefuses(t *testing.T) {
	for _, tc := range []struct {
		name  string
		knobs map[string]string
		want  string
	}{
		{"unknown knob", map[string]string{"idle-timout": "2s"}, `unknown knob "idle-timout"`},
		{"not a duration", map[string]string{"idle-timeout": "2"}, `knob idle-timeout: bad value "2"`},
		{"not an integer", map[string]string{"max-instances": "many"}, `knob max-instances: bad value "many"`},
		{"invalid configuration", map[string]string{"max-instances": "-1"}, "MaxInstances"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := DefaultConfig()
			err := c.SetKnobs(tc.knobs)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
	if err := (Knob{Name: "x", Kind: KnobInt}).Set(&Config{}, "3"); err == nil {
		t.Error("an int knob took a string")
	}
}

// TestShortestTimeout: how long any invocation may surely take, as
// --local-timeout sets it; a function without a timeout has the default
// (3 s, as --local-timeout 0s gives).
func TestShortestTimeout(t *testing.T) {
	for _, tc := range []struct {
		knobs map[string]string
		want  time.Duration
	}{
		{nil, LabTimeout},
		{map[string]string{"timeout": "5s"}, 5 * time.Second},
		{map[string]string{"timeout": "0s"}, 3 * time.Second},
	} {
		cfg := DefaultConfig()
		cfg.Functions = DefaultFunctions([]string{"lab"})
		if err := cfg.SetKnobs(tc.knobs); err != nil {
			t.Fatal(err)
		}
		if got := cfg.ShortestTimeout(); got != tc.want {
			t.Errorf("%v: ShortestTimeout = %v, want %v", tc.knobs, got, tc.want)
		}
	}
	if got := (Config{}).ShortestTimeout(); got != 0 {
		t.Errorf("no functions: %v, want 0", got)
	}
}
