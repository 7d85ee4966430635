package experiments_test

import (
	"os"
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

// TestDocsCoverCatalog: docs/experiments.md has a section for every
// experiment and names every parameter with its default.
func TestDocsCoverCatalog(t *testing.T) {
	b, err := os.ReadFile("../docs/experiments.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	for _, e := range experiments.Catalog() {
		if !strings.Contains(doc, "### "+e.Name()+"\n") {
			t.Errorf("docs/experiments.md has no section for %s", e.Name())
		}
		for _, p := range e.Params() {
			def := "`" + p.Default + "`"
			if p.Default == "" {
				def = "(empty)"
			}
			if !strings.Contains(doc, "| `"+p.Name+"` | "+def+" |") {
				t.Errorf("docs/experiments.md does not list %s parameter %s with default %q", e.Name(), p.Name, p.Default)
			}
		}
	}
}

// TestReportSections: section ids are unique and every figure names what
// it draws.
func TestReportSections(t *testing.T) {
	ids := map[string]bool{}
	for _, s := range experiments.ReportSections() {
		if s.ID == "" || s.Title == "" || ids[s.ID] {
			t.Errorf("section %+v: empty or duplicate id/title", s)
		}
		ids[s.ID] = true
		for _, f := range s.Figures {
			switch f.Kind {
			case experiments.FigureSurvival, experiments.FigureRateSteps, experiments.FigureMedianByTag:
				if f.Metric == "" {
					t.Errorf("section %s: a %s figure without a metric", s.ID, f.Kind)
				}
			case experiments.FigureNestedDepth:
			case experiments.FigureIntervals:
				if len(f.Marks) == 0 {
					t.Errorf("section %s: an intervals figure without marks", s.ID)
				}
			default:
				t.Errorf("section %s: unknown figure kind %q", s.ID, f.Kind)
			}
		}
	}
	for _, want := range []string{"idle", "lifetime", "load", "nested", "throughput"} {
		if !ids[want] {
			t.Errorf("no experiment declares section %s", want)
		}
	}
}
