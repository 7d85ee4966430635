package study

import (
	"errors"
	"fmt"
	"maps"
	"strings"
	"testing"
	"time"
)

// testVocab mirrors the CLI's vocabulary; CheckLocal refuses a negative
// idle timeout the way the platform's validation does.
func testVocab() Vocabulary {
	return Vocabulary{
		Platforms:      []string{"local", "aws", "azure", "openfaas", "local-stack"},
		LocalPlatforms: []string{"local", "local-stack"},
		LocalKnobs:     []string{"idle-timeout", "max-instances", "init-delay"},
		CheckLocal: func(k map[string]string) error {
			if v, ok := k["idle-timeout"]; ok {
				d, err := time.ParseDuration(v)
				if err != nil {
					return fmt.Errorf("%q for flag -local-idle-timeout: parse error", v)
				}
				if d < 0 {
					return errors.New("local platform: idle timeout must not be negative")
				}
			}
			return nil
		},
	}
}

const goodStudy = `name: nightly
platforms:
  - name: aws-eu
    platform: aws
    stack: {region: eu-west-1, memory: 512}
  - name: local-fast
    platform: local
    local: {idle-timeout: 2s, max-instances: 20}
experiments:
  - name: cold-start
    params: {samples: 10}
  - name: idle-timeout
    platform_params:
      aws-eu: {min_gap: 1m, max_gap: 64m}
  - name: scaling
    params: {steps: [20, 40], bursts: "5,10"}
repetitions: 2
schedule: "daily 03:00"
`

func TestParseGood(t *testing.T) {
	s, err := Parse("nightly.yaml", []byte(goodStudy), testVocab())
	if err != nil {
		t.Fatal(err)
	}
	longest := strings.Replace(goodStudy, "name: nightly", "name: "+strings.Repeat("n", 40), 1)
	if _, err := Parse("longest.yaml", []byte(longest), testVocab()); err != nil {
		t.Errorf("a 40-character name was refused: %v", err)
	}
	if s.Name != "nightly" || len(s.Platforms) != 2 || len(s.Experiments) != 3 || s.Repetitions != 2 {
		t.Fatalf("spec = %+v", s)
	}
	if s.Platforms[0].Stack["memory"] != "512" || s.Platforms[1].Local["idle-timeout"] != "2s" {
		t.Errorf("settings = %+v", s.Platforms)
	}
	if s.Experiments[0].Params["samples"] != "10" || s.Experiments[1].Name != "idle-timeout" {
		t.Errorf("experiments = %+v", s.Experiments)
	}
	// aws-eu's idle-timeout cells search minutes; local-fast's the defaults.
	if pp := s.Experiments[1].PlatformParams; pp["aws-eu"]["max_gap"] != "64m" || len(pp) != 1 {
		t.Errorf("platform params = %v", pp)
	}
	for _, c := range Plan(s) {
		if c.Experiment != "idle-timeout" {
			continue
		}
		want := map[string]string(nil)
		if c.Platform.Name == "aws-eu" {
			want = map[string]string{"min_gap": "1m", "max_gap": "64m"}
		}
		if !maps.Equal(c.Params, want) {
			t.Errorf("%s: params %v, want %v", c.Label(), c.Params, want)
		}
	}
	// A YAML list and a comma-separated string are the same list value.
	if p := s.Experiments[2].Params; p["steps"] != "20,40" || p["bursts"] != "5,10" {
		t.Errorf("list values = %+v, want steps=20,40 bursts=5,10", p)
	}
	if s.Schedule.OnCalendar() != "*-*-* 03:00:00 UTC" {
		t.Errorf("schedule = %+v", s.Schedule)
	}
	if !s.NeedsCredentials() || len(s.SHA256) != 64 {
		t.Errorf("needs credentials / sha = %v %q", s.NeedsCredentials(), s.SHA256)
	}
}

// TestParseBad: each bad input is refused with file:line and the valid
// choices.
func TestParseBad(t *testing.T) {
	base := func(platforms, experiments, extra string) string {
		if platforms == "" {
			platforms = "  - {name: a, platform: local}\n"
		}
		if experiments == "" {
			experiments = "  - smoke\n"
		}
		return "name: s\nplatforms:\n" + platforms + "experiments:\n" + experiments + extra
	}
	tests := []struct {
		name, src string
		line      int
		want      []string
	}{
		{"unknown experiment", base("", "  - name: cold-strat\n", ""), 5, []string{`unknown experiment "cold-strat"`, "cold-start", "idle-timeout"}},
		{"unknown platform", base("  - {name: a, platform: gcp}\n", "", ""), 3, []string{`unknown platform "gcp"`, "valid: local, aws"}},
		{"unknown parameter", base("", "  - name: smoke\n    params: {sequential: 2, bogus: 1}\n", ""), 6, []string{"has no parameter bogus", "known: sequential, concurrent"}},
		{"bad parameter value", base("", "  - name: smoke\n    params:\n      sequential: many\n", ""), 7, []string{`sequential="many"`, "want an integer"}},
		{"unknown stack setting", base("  - name: a\n    platform: aws\n    stack: {region: eu-west-1, memroy: 512}\n", "", ""), 5, []string{"unknown key fb:memroy", "known:", "memory"}},
		{"stack on local", base("  - name: a\n    platform: local\n    stack: {memory: 512}\n", "", ""), 5, []string{"deploys no stack", "aws"}},
		{"unknown local knob", base("  - name: a\n    platform: local\n    local: {idle-timout: 2s}\n", "", ""), 5, []string{`unknown local knob "idle-timout"`, "valid: idle-timeout, max-instances"}},
		{"bad local value", base("  - name: a\n    platform: local\n    local:\n      idle-timeout: -2s\n", "", ""), 6, []string{"platform a:", "must not be negative"}},
		{"local knob on aws", base("  - name: a\n    platform: aws\n    local: {idle-timeout: 2s}\n", "", ""), 5, []string{"runs no local platform", "local, local-stack"}},
		{"malformed schedule", base("", "", "schedule: nightly at 3\n"), 6, []string{`malformed schedule "nightly at 3"`, "daily HH:MM", "every Nh"}},
		{"schedule not dividing", base("", "", "schedule: every 5h\n"), 6, []string{`malformed schedule "every 5h"`, "dividing 24"}},
		{"duplicate platform name", base("  - {name: a, platform: local}\n  - {name: a, platform: aws}\n", "", ""), 4, []string{`platform name "a" is used twice (first on line 3)`}},
		{"duplicate experiment", base("", "  - smoke\n  - smoke\n", ""), 6, []string{`experiment "smoke" is listed twice`}},
		{"unknown top-level key", base("", "", "repetition: 2\n"), 6, []string{`unknown key "repetition"`, "valid: name, platforms, experiments, repetitions, schedule"}},
		{"bad repetitions", base("", "", "repetitions: 0\n"), 6, []string{"repetitions \"0\"", "from 1 to 1000"}},
		{"bad name", "name: Nightly Run\nplatforms:\n  - {name: a, platform: local}\nexperiments: [smoke]\n", 1, []string{`name "Nightly Run"`}},
		{"name too long", "name: " + strings.Repeat("n", 41) + "\nplatforms:\n  - {name: a, platform: local}\nexperiments: [smoke]\n", 1, []string{"at most 40"}},
		{"platform name too long", base("  - {name: "+strings.Repeat("p", 41)+", platform: local}\n", "", ""), 3, []string{"platform name"}},
		{"missing platform", "name: s\nplatforms:\n  - {name: a}\nexperiments: [smoke]\n", 3, []string{"platform is missing", "local, aws"}},
		{"no platforms", "name: s\nexperiments: [smoke]\n", 1, []string{"platforms is missing"}},
		{"mapping value", base("", "  - name: idle-timeout\n    params: {functions: {a: b}}\n", ""), 6, []string{"params.functions must be a value or a list of values"}},
		{"comma in a list item", base("", "  - name: idle-timeout\n    params: {functions: [\"function1,function2\", function3]}\n", ""), 6, []string{`list item "function1,function2" contains a comma`}},
		{"nested list", base("", "  - name: idle-timeout\n    params: {functions: [[function1]]}\n", ""), 6, []string{"a list item must be a single value"}},
		{"not yaml", "name: s\nplatforms: [\n", 2, []string{"not valid YAML"}},
		{"platform params for an unknown platform", base("", "  - name: idle-timeout\n    platform_params:\n      aws: {max_gap: 1m}\n", ""), 7, []string{`platform_params: "aws" is not a platform of this study (its platforms: a)`}},
		{"bad platform param", base("", "  - name: idle-timeout\n    platform_params:\n      a:\n        max_gap: -1s\n", ""), 8, []string{"platform_params.a:", `parameter max_gap="-1s"`}},
		{"platform params crossing params", base("", "  - name: idle-timeout\n    params: {min_gap: 1s}\n    platform_params:\n      a: {max_gap: 500ms}\n", ""), 8, []string{"platform_params.a:", "min_gap 1s is longer than max_gap 500ms"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("s.yaml", []byte(tt.src), testVocab())
			if err == nil {
				t.Fatalf("accepted:\n%s", tt.src)
			}
			var es Errors
			if !errors.As(err, &es) || len(es) == 0 {
				t.Fatalf("error %T %v is not Errors", err, err)
			}
			prefix := fmt.Sprintf("s.yaml:%d: ", tt.line)
			found := false
			for _, e := range es {
				if strings.HasPrefix(e.Error(), prefix) {
					found = true
				}
			}
			if !found {
				t.Errorf("no error at %s:\n%v", prefix, err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
		})
	}
}

func TestParseSchedule(t *testing.T) {
	tests := []struct{ in, cal string }{
		{"daily 03:00", "*-*-* 03:00:00 UTC"},
		{"daily 23:59", "*-*-* 23:59:00 UTC"},
		{"every 6h", "*-*-* 00/6:00:00 UTC"},
		{"every 24h", "*-*-* 00:00:00 UTC"},
		{"every 1h", "*-*-* 00/1:00:00 UTC"},
		{"every 30m", "*-*-* *:00/30:00 UTC"},
		{"every 60m", "*-*-* 00/1:00:00 UTC"},
	}
	for _, tt := range tests {
		s, err := ParseSchedule(tt.in)
		if err != nil {
			t.Errorf("%q: %v", tt.in, err)
			continue
		}
		if got := s.OnCalendar(); got != tt.cal {
			t.Errorf("%q: OnCalendar %q, want %q", tt.in, got, tt.cal)
		}
	}
	for _, bad := range []string{"", "daily", "daily 3:00pm", "daily 24:00", "daily 03:60", "daily 3:5", "every", "every 5h", "every 7m",
		"every 2m", "every 0h", "every -6h", "every 6", "weekly 03:00", "every 6h now"} {
		if _, err := ParseSchedule(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestPlanInterleaves(t *testing.T) {
	s := &Spec{Platforms: []Platform{{Name: "a"}, {Name: "b"}, {Name: "c"}},
		Experiments: []Experiment{{Name: "x"}, {Name: "y"}}, Repetitions: 2}
	var got []string
	for i, c := range Plan(s) {
		if c.Seq != i+1 {
			t.Fatalf("cell %d has seq %d", i, c.Seq)
		}
		got = append(got, fmt.Sprintf("%s%s%d", c.Experiment, c.Platform.Name, c.Repetition))
	}
	want := "xa1 xb1 xc1 yb1 yc1 ya1 xc2 xa2 xb2 ya2 yb2 yc2"
	if strings.Join(got, " ") != want {
		t.Errorf("plan\n got %s\nwant %s", strings.Join(got, " "), want)
	}
	// Never the same platform twice in a row, and every platform first
	// in some round.
	cells := Plan(s)
	first := map[string]bool{}
	for i := range cells {
		if i > 0 && cells[i].Platform.Name == cells[i-1].Platform.Name {
			t.Errorf("cells %d and %d both on %s", i, i+1, cells[i].Platform.Name)
		}
		if i%3 == 0 {
			first[cells[i].Platform.Name] = true
		}
	}
	if len(first) != 3 {
		t.Errorf("platforms that run first in a round: %v", first)
	}
}

// TestStudySecretsFromEnvironment: an openfaas cell needs no password in
// the file (the runner takes it from FB_OPENFAAS_GATEWAY_PASSWORD or
// generates one per run), and a password in the file is refused with the
// variable to use instead.
func TestStudySecretsFromEnvironment(t *testing.T) {
	const base = `name: of
platforms:
  - name: of-eu
    platform: openfaas
    stack: {image: ghcr.io/me/lab:1, monolithImage: ghcr.io/me/mono:1, gatewayCidrs: 203.0.113.7/32%s}
experiments:
  - name: cold-start
`
	if _, err := Parse("of.yaml", []byte(fmt.Sprintf(base, "")), testVocab()); err != nil {
		t.Fatalf("openfaas cell without a password in the file: %v", err)
	}
	_, err := Parse("of.yaml", []byte(fmt.Sprintf(base, ", gatewayPassword: hunter2hunter2")), testVocab())
	if err == nil || !strings.Contains(err.Error(), "gatewayPassword is a secret and never goes in a study file") ||
		!strings.Contains(err.Error(), "FB_OPENFAAS_GATEWAY_PASSWORD") {
		t.Fatalf("password in the file: %v", err)
	}
}
