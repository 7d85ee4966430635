package experiments_test

import (
	"strings"
	"testing"

	"github.com/faas-benchmarker/faas-benchmarker/experiments"
)

// TestCatalog: every experiment the issue asks for is listed once, has a
// summary, and its defaults resolve.
func TestCatalog(t *testing.T) {
	want := []string{"cold-start", "idle-timeout", "instance-lifetime", "scaling", "load", "throughput",
		"nested", "package-size", "clock-offset", "smoke"}
	seen := map[string]bool{}
	for _, e := range experiments.Catalog() {
		if seen[e.Name()] {
			t.Errorf("%s listed twice", e.Name())
		}
		seen[e.Name()] = true
		if strings.TrimSpace(e.Summary()) == "" {
			t.Errorf("%s has no summary", e.Name())
		}
		if _, err := experiments.Resolve(e, nil); err != nil {
			t.Errorf("%s defaults: %v", e.Name(), err)
		}
		for _, p := range e.Params() {
			if p.Help == "" {
				t.Errorf("%s parameter %s has no help", e.Name(), p.Name)
			}
		}
	}
	for _, n := range want {
		if !seen[n] {
			t.Errorf("%s missing from the catalog", n)
		}
	}
}
