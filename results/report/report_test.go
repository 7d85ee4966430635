package report

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/faas-benchmarker/faas-benchmarker/experiments"
	"github.com/faas-benchmarker/faas-benchmarker/results"
	"github.com/faas-benchmarker/faas-benchmarker/results/report/reporttest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// fixtureDB returns a database holding the seeded fixture and its run ids.
func fixtureDB(t testing.TB) (*results.DB, []string) {
	t.Helper()
	ctx := context.Background()
	db, err := results.Open(ctx, filepath.Join(t.TempDir(), "fixture.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	ids, err := reporttest.Populate(ctx, db, reporttest.Config{})
	if err != nil {
		t.Fatal(err)
	}
	return db, ids
}

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./report -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		gl, wl := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
		for i := 0; i < len(gl) && i < len(wl); i++ {
			if gl[i] != wl[i] {
				t.Fatalf("%s differs at line %d:\n got: %.300s\nwant: %.300s\n(run go test ./report -update if the change is intended)", name, i+1, gl[i], wl[i])
			}
		}
		t.Fatalf("%s differs in length: got %d lines, want %d", name, len(gl), len(wl))
	}
}

var fontData = regexp.MustCompile(`base64,[A-Za-z0-9+/=]+`)

// goldenHTML replaces the embedded font (hundreds of KB of base64, checked
// separately) so the golden file stays readable.
func goldenHTML(html []byte) []byte {
	return fontData.ReplaceAll(html, []byte("base64,FONT"))
}

func TestReportGolden(t *testing.T) {
	db, _ := fixtureDB(t)
	var buf bytes.Buffer
	if err := Generate(context.Background(), db, Config{}, &buf); err != nil {
		t.Fatal(err)
	}
	html := buf.Bytes()
	checkSelfContained(t, html)
	golden(t, "report.html", goldenHTML(html))

	// A second generation is byte-identical (deterministic output).
	var again bytes.Buffer
	if err := Generate(context.Background(), db, Config{}, &again); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(html, again.Bytes()) {
		t.Fatal("report is not deterministic")
	}
}

// checkSelfContained fails when the page references anything outside itself.
func checkSelfContained(t *testing.T, html []byte) {
	t.Helper()
	s := string(html)
	for _, bad := range []string{"<script", "<link", "@import", "src=\"http", "href=\"http", "url(http", "url(//", "<image", "xlink:href=\"http"} {
		if strings.Contains(s, bad) {
			t.Errorf("report contains %q: it must be self-contained", bad)
		}
	}
	if !strings.Contains(s, "url(data:font/ttf;base64,") {
		t.Error("report does not embed its font")
	}
	// Every figure has an SVG with drawn paths and a caption with n and a run id.
	figs := regexp.MustCompile(`(?s)<figure id="[^"]+">(.*?)</figure>`).FindAllStringSubmatch(s, -1)
	if len(figs) == 0 {
		t.Fatal("no figures")
	}
	for _, f := range figs {
		body := f[1]
		if !strings.Contains(body, "<svg") || strings.Count(body, "<path") < 3 {
			t.Errorf("figure without drawn SVG: %.200s", body)
		}
		cap := regexp.MustCompile(`(?s)<figcaption>(.*?)</figcaption>`).FindStringSubmatch(body)
		if cap == nil || !strings.Contains(cap[1], "n = ") || !strings.Contains(cap[1], "run") {
			t.Errorf("caption without n or run ids: %v", cap)
		}
	}
}

func TestReportHasSectionsPerExperiment(t *testing.T) {
	db, _ := fixtureDB(t)
	rep, err := Build(context.Background(), db, Config{})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{
		"run-cold-local-1":   {"Overview", "Client latency by phase", "Cold vs warm", "Scaling timeline"},
		"run-pkg-local-1":    {"Client latency by phase", "Cold vs warm"},
		"run-idle-local-1":   {"Idle-timeout survival"},
		"run-scale-local-1":  {"Scaling timeline"},
		"run-load-local-1":   {"Load: latency vs offered rate"},
		"run-nested-local-1": {"Nested calls"},
		"run-tput-local-1":   {"Throughput and cost per memory size"},
		"run-custom-local-1": {"Overview", "Client latency by phase", "Scaling timeline", "Metrics"},
	}
	got := map[string]map[string]int{}
	for _, r := range rep.Runs {
		got[r.Data.Run.ID] = map[string]int{}
		for _, s := range r.Sections {
			got[r.Data.Run.ID][s.Title] = len(s.Figures) + len(s.Tables)
		}
	}
	for id, titles := range want {
		for _, title := range titles {
			if got[id][title] == 0 {
				t.Errorf("run %s: section %q missing or empty (have %v)", id, title, got[id])
			}
		}
	}
	if got["run-custom-local-1"]["Idle-timeout survival"] != 0 {
		t.Error("unknown experiment got an idle-timeout section without idle_probe metrics")
	}
	if len(rep.Compare) != 1 || !strings.Contains(rep.Compare[0].Title, "cold-start") || len(rep.Compare[0].Figures) != 3 {
		t.Fatalf("compare sections = %+v", rep.Compare)
	}
}

func TestReportFilter(t *testing.T) {
	db, _ := fixtureDB(t)
	ctx := context.Background()
	rep, err := Build(ctx, db, Config{Filter: results.RunFilter{Experiment: "cold-start", Platform: "aws-lambda"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Runs) != 2 {
		t.Fatalf("got %d runs, want 2", len(rep.Runs))
	}
	if _, err := Build(ctx, db, Config{Filter: results.RunFilter{Experiment: "nope"}}); err == nil {
		t.Fatal("want an error for a filter matching nothing")
	}
}

func TestSummaryTableGolden(t *testing.T) {
	db, ids := fixtureDB(t)
	var buf bytes.Buffer
	for _, id := range ids {
		if err := WriteSummaryTable(context.Background(), &buf, db, id); err != nil {
			t.Fatal(err)
		}
		buf.WriteString("\n----\n")
	}
	out := buf.String()
	if !strings.Contains(out, "fbrun report run-cold-local-1 -o report.html") {
		t.Error("summary does not point to fbrun report")
	}
	golden(t, "summary.txt", buf.Bytes())
	if err := WriteSummaryTable(context.Background(), &buf, db, "missing"); err == nil {
		t.Fatal("want an error for a missing run")
	}
}

func TestLatexGolden(t *testing.T) {
	db, _ := fixtureDB(t)
	var buf bytes.Buffer
	if err := WriteLatex(context.Background(), &buf, db, results.RunFilter{IDs: []string{"run-cold-local-1", "run-idle-local-1"}}); err != nil {
		t.Fatal(err)
	}
	s := buf.String()
	for _, want := range []string{`\begin{tabular}`, `\toprule`, `cold\_p50\_ms`, `idle\_timeout\_s`} {
		if !strings.Contains(s, want) {
			t.Errorf("LaTeX lacks %q", want)
		}
	}
	golden(t, "tables.tex", buf.Bytes())
}

func TestPhaseOrder(t *testing.T) {
	ps := []string{"warm", "step-10", "(none)", "step-2", "cold", "burst-100", "burst-50", "warm/a", "cold/b"}
	sortPhases(ps)
	want := "cold cold/b warm warm/a burst-50 burst-100 step-2 step-10 (none)"
	if got := strings.Join(ps, " "); got != want {
		t.Fatalf("order %q, want %q", got, want)
	}
}

func TestLoadParallelEqualsSequential(t *testing.T) {
	db, ids := fixtureDB(t)
	ctx := context.Background()
	for _, id := range ids {
		run, err := db.GetRun(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		seq, err := Load(ctx, db, run, LoadConfig{Parallel: 1})
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range []int{2, 3, 7} {
			par, err := Load(ctx, db, run, LoadConfig{Parallel: p})
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(seq, par) {
				t.Fatalf("run %s: Load with %d ranges differs from a sequential Load", id, p)
			}
		}
	}
}

func TestEmptyAndRunningRuns(t *testing.T) {
	ctx := context.Background()
	db, err := results.Open(ctx, filepath.Join(t.TempDir(), "empty.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	at := reporttest.Base
	if err := db.CreateRun(ctx, results.Run{ID: "r-empty", Experiment: "cold-start", Platform: "aws-lambda", StartedAt: at}); err != nil {
		t.Fatal(err)
	}
	if err := db.FinishRun(ctx, "r-empty", results.StatusFailed, at.Add(time.Second), nil, "no credentials"); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateRun(ctx, results.Run{ID: "r-running", Experiment: "scaling", Platform: "local", StartedAt: at.Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := Generate(ctx, db, Config{}, &buf); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "no credentials") || strings.Contains(buf.String(), "<figure") {
		t.Fatal("empty runs: want the error shown and no figures")
	}
	buf.Reset()
	if err := WriteSummaryTable(ctx, &buf, db, "r-running"); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "Invocations 0") {
		t.Fatalf("summary of an empty run:\n%s", buf.String())
	}
}

// TestDeclaredSectionsRender: report draws every figure kind the
// experiments declare (an unknown kind is an error, not a missing section).
func TestDeclaredSectionsRender(t *testing.T) {
	for _, s := range experiments.ReportSections() {
		b := &builder{prefix: "t"}
		declaredSection(b, &RunData{Estimates: map[string]float64{}, PhaseStats: map[string]*PhaseStats{}}, s)
		if b.err != nil {
			t.Errorf("section %s: %v", s.ID, b.err)
		}
	}
	b := &builder{prefix: "t"}
	declaredSection(b, &RunData{}, experiments.Section{ID: "x", Figures: []experiments.Figure{{Kind: "pie"}}})
	if b.err == nil {
		t.Error("an unknown figure kind was accepted")
	}
}
