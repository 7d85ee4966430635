package scaffold

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const catalog = `package experiments

func Catalog() []Experiment {
	return []Experiment{
		Smoke{},
		// fbrun:new-experiment (keep this marker)
	}
}
`

func TestExperiment(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "catalog.go"), []byte(catalog), 0o644); err != nil {
		t.Fatal(err)
	}
	files, err := Experiment(dir, "memory-sweep")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 3 {
		t.Fatalf("files = %v", files)
	}
	src, _ := os.ReadFile(filepath.Join(dir, "memory_sweep.go"))
	if !strings.Contains(string(src), "type MemorySweep struct{}") || !strings.Contains(string(src), `return "memory-sweep"`) {
		t.Errorf("source:\n%s", src)
	}
	test, _ := os.ReadFile(filepath.Join(dir, "memory_sweep_test.go"))
	if !strings.Contains(string(test), "t.Fatal(") {
		t.Errorf("the test stub does not fail:\n%s", test)
	}
	cat, _ := os.ReadFile(filepath.Join(dir, "catalog.go"))
	if !strings.Contains(string(cat), "\t\tMemorySweep{},\n\t\t// fbrun:new-experiment") {
		t.Errorf("catalog:\n%s", cat)
	}
	if _, err := Experiment(dir, "memory-sweep"); err == nil {
		t.Error("scaffolding the same experiment twice succeeded")
	}
}

func TestExperimentBadInput(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"", "Memory", "a--b", "1abc", "a_b", "../x"} {
		if _, err := Experiment(dir, name); err == nil {
			t.Errorf("name %q accepted", name)
		}
	}
	if _, err := Experiment(dir, "ok-name"); err == nil || !strings.Contains(err.Error(), "catalog") {
		t.Errorf("missing catalog: err = %v", err)
	}
	os.WriteFile(filepath.Join(dir, "catalog.go"), []byte("package experiments\n"), 0o644)
	if _, err := Experiment(dir, "ok-name"); err == nil || !strings.Contains(err.Error(), "fbrun:new-experiment") {
		t.Errorf("missing marker: err = %v", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("failed scaffolds left files: %v", entries)
	}
}
