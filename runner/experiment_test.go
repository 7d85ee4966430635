package runner

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/faas-benchmarker/faas-benchmarker/platforms/builtin"
	"github.com/faas-benchmarker/faas-benchmarker/stacks/program"
	"github.com/faas-benchmarker/faas-benchmarker/stacks/stackcfg"
)

// TestEveryStackPlatformHasAProgram: every registered platform with a
// stack resolves to a program of stacks/program, with its settings when
// it takes them.
func TestEveryStackPlatformHasAProgram(t *testing.T) {
	for _, p := range builtin.All() {
		if p.Stack == nil {
			continue
		}
		var s stackcfg.Settings
		if p.Stack.Settings {
			var err error
			if s, err = stackcfg.New(stackcfg.Platform(p.Stack.Program)); err != nil {
				t.Errorf("%s: %v", p.Name, err)
				continue
			}
		}
		if run, err := program.Named(p.Stack.Program, s); err != nil || run == nil {
			t.Errorf("%s: no program: %v", p.Name, err)
		}
	}
}

func TestSettings(t *testing.T) {
	s, err := Settings("aws", "cold-start", "20261126-054300-3fa9c1", []string{"memory=512", "functionZip=x/f.zip"})
	if err != nil {
		t.Fatal(err)
	}
	c := s.(*stackcfg.AWS)
	if c.Experiment != "cold-start" || c.Run != "26-054300-3fa9c1" || len(c.Run) > stackcfg.MaxRunLen {
		t.Errorf("ids = %q %q", c.Experiment, c.Run)
	}
	if !filepath.IsAbs(c.ArtifactDir) || !filepath.IsAbs(c.FunctionZip) || !strings.HasSuffix(c.FunctionZip, "x/f.zip") {
		t.Errorf("paths not absolute: %q %q", c.ArtifactDir, c.FunctionZip)
	}
	for _, tc := range []struct {
		platform  string
		overrides []string
		want      string
	}{
		{"permanent", nil, "up/down permanent"},
		{"gcp", nil, "gcp"},
		{"aws", []string{"memory=64"}, "memory"},
		{"aws", []string{"nokey"}, "key=value"},
	} {
		if _, err := Settings(tc.platform, "x", "r1", tc.overrides); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Settings(%s, %v): err = %v, want it to mention %q", tc.platform, tc.overrides, err, tc.want)
		}
	}
}

func TestCheckArtifacts(t *testing.T) {
	s, err := Settings("aws", "x", "r1", []string{"artifactDir=" + t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if err := checkArtifacts(s); err == nil || !strings.Contains(err.Error(), "scripts/build-functions") {
		t.Errorf("missing packages: err = %v", err)
	}
}

// TestNoTestFixtureInProductionPath: the managed-run code (and with it
// --platform local-stack) must not link the runner's test provider, whose
// knobs inject faults; local-stack deploys with stacks/fblocal/provider.
func TestNoTestFixtureInProductionPath(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatal(err)
	}
	deps := string(out)
	if strings.Contains(deps, "/runner/testprovider") {
		t.Fatal("runner depends on runner/testprovider")
	}
	if !strings.Contains(deps, "/stacks/fblocal\n") {
		t.Fatal("runner does not use the fblocal SDK (stacks/fblocal)")
	}
}
