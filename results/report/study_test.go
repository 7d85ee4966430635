package report

import (
	"bytes"
	"context"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/faas-benchmarker/faas-benchmarker/results"
	"github.com/faas-benchmarker/faas-benchmarker/study"
)

// studyAnalysis is a study of two study runs on two platforms: a's idle
// timeout moved from 2 s to 4 s, b's stayed at 3 s; the latest study run's
// cells reference the fixture's first run.
func studyAnalysis(runID string) *study.Analysis {
	day := func(d int) time.Time { return time.Date(2026, 12, d, 3, 0, 0, 0, time.UTC) }
	est := func(v, lo, hi float64) study.Estimate {
		e := study.Estimate{Value: v, Low: lo, High: hi, HasInterval: !math.IsNaN(lo), N: 2, Mean: v, WithinSE: math.NaN(), Reps: []float64{v, v}}
		if e.HasInterval {
			e.Testable, e.WithinSE = true, (hi-lo)/(2*1.96)
		}
		return e
	}
	a := &study.Analysis{Study: "drift", Platforms: []string{"a", "b"}, Experiments: []string{"idle-timeout"}}
	for i, id := range []string{"drift-1", "drift-2"} {
		rc := study.RunCells{Run: results.StudyRun{ID: id, Study: "drift", StartedAt: day(14 + i), Status: results.StudyFinished}}
		if i == 1 {
			rc.Cells = []results.StudyCell{{StudyRun: id, Seq: 1, Platform: "a", Experiment: "idle-timeout", Repetition: 1, State: results.CellDone, RunID: runID}}
		}
		a.Runs = append(a.Runs, rc)
	}
	pts := func(v ...study.Estimate) []study.Point {
		var out []study.Point
		for i, e := range v {
			out = append(out, study.Point{StudyRun: a.Runs[i].Run.ID, Date: a.Runs[i].Run.StartedAt, Estimate: e})
		}
		return out
	}
	nan := math.NaN()
	a.Series = []study.Series{
		{Platform: "a", Experiment: "idle-timeout", Key: "idle_timeout_s", Points: pts(est(2, 1.9, 2.1), est(4, 3.9, 4.1))},
		{Platform: "b", Experiment: "idle-timeout", Key: "idle_timeout_s", Points: pts(est(3, 2.9, 3.1), est(3.02, 2.95, 3.1))},
		{Platform: "a", Experiment: "idle-timeout", Key: "idle_probes", Points: pts(est(30, nan, nan), est(36, nan, nan))},
	}
	a.Changes = study.Detect(a.Series)
	return a
}

func TestStudyReport(t *testing.T) {
	db, ids := fixtureDB(t)
	a := studyAnalysis(ids[0])
	if len(a.Changes) != 1 {
		t.Fatalf("fixture changes = %+v", a.Changes)
	}
	rep, err := BuildStudy(context.Background(), db, a, StudyConfig{})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := rep.WriteHTML(&buf); err != nil {
		t.Fatal(err)
	}
	html := buf.String()
	for _, want := range []string{
		"<title>Study drift</title>",
		"Changes flagged by the change detector",
		"<td>a</td><td>idle-timeout</td><td>idle_timeout_s</td><td>2.00 [1.90, 2.10]</td><td>4.00 [3.90, 4.10]</td>",
		"idle-timeout: estimates per platform",
		"idle-timeout: idle_timeout_s per study run",
		"idle-timeout: trend relative to the first study run",
		"idle-timeout on a #1 · " + ids[0],
	} {
		if !strings.Contains(html, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	// The change section comes first, before the per-experiment sections.
	if strings.Index(html, "study-changes") > strings.Index(html, "study-idle-timeout-side") {
		t.Error("changes are not at the top of the report")
	}
	// idle_probes has no interval: it is in the tables, without a figure.
	if strings.Contains(html, "idle_probes per study run") {
		t.Error("an estimate without interval got an over-time figure")
	}
	if !strings.Contains(html, "<td>idle_probes</td><td>a</td><td class=\"n\">30.00</td><td class=\"n\">36.00</td>") {
		t.Error("the over-time table lacks idle_probes")
	}
	if n := strings.Count(html, "<svg"); n < 3 {
		t.Errorf("%d figures", n)
	}
	// No change: said so.
	a.Changes = nil
	rep, err = BuildStudy(context.Background(), db, a, StudyConfig{Title: "T"})
	if err != nil {
		t.Fatal(err)
	}
	if s := rep.Compare[0]; !strings.HasPrefix(s.Intro, "No change") || len(s.Tables) != 0 {
		t.Errorf("no-change section = %+v", s)
	}
	// Untested comparisons of the latest study run are listed with why;
	// an earlier study run's are not.
	a.Untested = []study.Untested{
		{Platform: "a", Experiment: "idle-timeout", Key: "old_s", FromRun: "drift-0", ToRun: "drift-1", Reason: study.UntestedReason},
		{Platform: "b", Experiment: "idle-timeout", Key: "idle_timeout_s", FromRun: "drift-1", ToRun: "drift-2", Reason: study.UntestedReason},
	}
	rep, err = BuildStudy(context.Background(), db, a, StudyConfig{})
	if err != nil {
		t.Fatal(err)
	}
	s := rep.Compare[0]
	if len(s.Tables) != 1 || s.Tables[0].Caption != "Not tested in the latest study run" || len(s.Tables[0].Rows) != 1 ||
		s.Tables[0].Rows[0][2] != "idle_timeout_s" || s.Tables[0].Rows[0][4] != study.UntestedReason {
		t.Errorf("untested section = %+v", s)
	}
}

// TestStudyReportFirstComparison: a flag made without earlier study runs
// (the fixture's two study runs) says that night-to-night variation was
// not estimated.
func TestStudyReportFirstComparison(t *testing.T) {
	a := studyAnalysis("r")
	s := changesSection(a)
	if len(s.Tables) != 1 || len(s.Tables[0].Rows) != 1 || !strings.Contains(s.Tables[0].Rows[0][6], study.NoHistory) {
		t.Errorf("changes = %+v", s.Tables)
	}
}
