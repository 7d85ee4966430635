package study_test

import (
	"strings"
	"testing"

	"github.com/faas-benchmarker/faas-benchmarker/platforms/builtin"
	"github.com/faas-benchmarker/faas-benchmarker/study"
)

// TestParseOnPlatformDefaults: a study checks each platform column's
// parameters as `fbrun experiment` resolves them there — on the
// platform's idle range under the column's stack settings and local
// knobs, with the client's default 5-minute timeout — so it accepts what
// the cells will run (min_gap 2m on aws, whose max_gap default is 16 min)
// and refuses, before anything starts, what they would refuse (a release
// spread the column's Lambda timeout, or the client's, would cut).
func TestParseOnPlatformDefaults(t *testing.T) {
	reg, err := builtin.Registry()
	if err != nil {
		t.Fatal(err)
	}
	voc := study.VocabularyOf(reg)
	// idle-timeout deploys aws with an 800 s Lambda timeout unless told
	// otherwise (IdleTimeout.StackDefaults), and the cells' client waits
	// 30 s longer.
	head := "name: s\nplatforms:\n  - {name: lambda, platform: aws, stack: {timeout: 60}}\n  - {name: lambda-long, platform: aws}\nexperiments:\n"
	local := "name: s\nplatforms:\n  - {name: short, platform: local, local: {timeout: 5s}}\nexperiments:\n"
	tests := []struct {
		name, src string
		want      []string // nil: accepted
	}{
		// The embedded platform's spread (10 s) is cut to fit its
		// functions' 5 s timeout; a longer one set by hand is refused.
		{"local 5 s timeout, defaults", local + "  - idle-timeout\n", nil},
		{"local 5 s timeout, 10 s spread", local + "  - {name: idle-timeout, params: {max_stagger: 10s}}\n",
			[]string{"s.yaml:5: experiment idle-timeout: probe_sleep + max_stagger = 10.1s", "at most 5s"}},
		{"aws defaults under the user's min_gap", head + "  - {name: idle-timeout, params: {min_gap: 2m}}\n", nil},
		{"a spread only the long timeout allows", head + "  - {name: idle-timeout, params: {max_stagger: 10m}}\n",
			[]string{"s.yaml:6: on platform lambda: experiment idle-timeout: probe_sleep + max_stagger = 10m0.1s", "at most 1m0s"}},
		{"a spread neither allows", head + "  - {name: idle-timeout, params: {max_stagger: 20m}}\n",
			[]string{"s.yaml:6: on platform lambda: experiment idle-timeout: probe_sleep + max_stagger = 20m0.1s", "at most 1m0s",
				"s.yaml:6: on platform lambda-long: experiment idle-timeout: probe_sleep + max_stagger = 20m0.1s", "at most 13m20s"}},
		{"refused alike on every column", head + "  - {name: idle-timeout, params: {min_gap: 2h}}\n",
			[]string{"s.yaml:6: experiment idle-timeout: min_gap 2h0m0s is longer than max_gap 16m0s"}},
		{"per column", head + "  - name: idle-timeout\n    platform_params:\n      lambda-long: {max_stagger: 10m}\n", nil},
		// local-stack's functions time out at its stack's 30 s, whatever
		// its local knobs say.
		{"local-stack keeps its stack's timeout", "name: s\nplatforms:\n  - {name: ls, platform: local-stack, local: {timeout: 120s}}\nexperiments:\n" +
			"  - {name: idle-timeout, params: {max_stagger: 40s}}\n", []string{"s.yaml:5: experiment idle-timeout: probe_sleep + max_stagger = 40.1s", "at most 30s"}},
		// A refusal the shared params cause on one column is not the
		// column's platform_params' (which it also has).
		{"shared params, one column", head + "  - name: idle-timeout\n    params: {max_stagger: 2m}\n    platform_params:\n      lambda: {min_gap: 2m}\n",
			[]string{"s.yaml:7: on platform lambda: experiment idle-timeout: probe_sleep + max_stagger = 2m0.1s"}},
		{"per column, too long", head + "  - name: idle-timeout\n    platform_params:\n      lambda: {max_stagger: 10m}\n",
			[]string{"s.yaml:8: platform_params.lambda:", "at most 1m0s"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := study.Parse("s.yaml", []byte(tt.src), voc)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("accepted:\n%s", tt.src)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
			if n, want := strings.Count(err.Error(), "s.yaml:"), strings.Count(strings.Join(tt.want, " "), "s.yaml:"); n != want {
				t.Errorf("%d refusals, want %d (one per distinct refusal):\n%v", n, want, err)
			}
		})
	}
}
