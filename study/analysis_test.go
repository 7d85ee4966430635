package study

import (
	"context"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

func TestPool(t *testing.T) {
	got := pool([]map[string]float64{
		{"idle_timeout_s": 2.0, "idle_timeout_s_low": 1.9, "idle_timeout_s_high": 2.1, "p50_ms": 10},
		{"idle_timeout_s": 2.2, "idle_timeout_s_low": 2.0, "idle_timeout_s_high": 2.3, "p50_ms": 30},
		{"idle_timeout_s": 2.1, "idle_timeout_s_low": 2.05, "idle_timeout_s_high": 2.2, "p50_ms": 20},
	})
	it := got["idle_timeout_s"]
	if it.Value != 2.1 || it.Low != 1.9 || it.High != 2.3 || !it.HasInterval || it.N != 3 {
		t.Errorf("idle_timeout_s = %+v", it)
	}
	if p := got["p50_ms"]; p.Value != 20 || p.HasInterval {
		t.Errorf("p50_ms = %+v", p)
	}
	if _, ok := got["idle_timeout_s_low"]; ok {
		t.Error("a bound became an estimate of its own")
	}
	// One-sided: only a lower bound (no grid gap went cold).
	one := pool([]map[string]float64{{"idle_timeout_s_low": 16}})["idle_timeout_s"]
	if !math.IsNaN(one.Value) || one.Low != 16 || !math.IsInf(one.High, 1) || one.Text() != "[≥ 16.00]" {
		t.Errorf("one-sided = %+v %q", one, one.Text())
	}
	// A repetition without bounds: no interval for the pooled estimate.
	mixed := pool([]map[string]float64{{"k": 1, "k_low": 0, "k_high": 2}, {"k": 1}})["k"]
	if mixed.HasInterval || mixed.Value != 1 {
		t.Errorf("mixed = %+v", mixed)
	}
	// Even count: mean of the middle two.
	if v := pool([]map[string]float64{{"k": 1}, {"k": 3}})["k"].Value; v != 2 {
		t.Errorf("median of 1, 3 = %v", v)
	}
}

func pt(run string, day int, v, lo, hi float64) Point {
	e := Estimate{Value: v, N: 1}
	if !math.IsNaN(lo) {
		e.Low, e.High, e.HasInterval = lo, hi, true
	}
	return Point{StudyRun: run, Date: time.Date(2026, 12, day, 3, 0, 0, 0, time.UTC), Estimate: e}
}

func TestDetect(t *testing.T) {
	nan := math.NaN()
	ss := []Series{
		{Platform: "aws-eu", Experiment: "idle-timeout", Key: "idle_timeout_s", Points: []Point{
			pt("r1", 12, 600, 590, 610), pt("r2", 13, 605, 595, 615), pt("r3", 14, 420, 410, 430)}},
		// Overlapping intervals: no flag however far the points are.
		{Platform: "local", Experiment: "idle-timeout", Key: "idle_timeout_s", Points: []Point{
			pt("r1", 12, 2, 1, 5), pt("r2", 13, 4, 3, 6), pt("r3", 14, 2.5, 2, 3.5)}},
		// No interval: never flagged.
		{Platform: "aws-eu", Experiment: "cold-start", Key: "cold_p50_ms", Points: []Point{
			pt("r1", 12, 100, nan, nan), pt("r2", 13, 900, nan, nan)}},
		// A study run without the estimate: compared with the one before.
		{Platform: "b", Experiment: "idle-timeout", Key: "idle_timeout_s", Points: []Point{
			pt("r1", 12, 10, 9, 11), pt("r2", 13, 15, nan, nan), pt("r3", 14, 20, 19, 21)}},
	}
	got := Detect(ss)
	if len(got) != 2 {
		t.Fatalf("changes = %+v", got)
	}
	c := got[0]
	if c.Platform != "aws-eu" || c.Key != "idle_timeout_s" || c.FromRun != "r2" || c.ToRun != "r3" {
		t.Errorf("change = %+v", c)
	}
	if s := c.String(); !strings.HasPrefix(s, "aws-eu idle_timeout_s 605.0 → 420.0 on 2026-12-14") {
		t.Errorf("text = %q", s)
	}
	if got[1].Platform != "b" || got[1].FromRun != "r1" || got[1].ToRun != "r3" {
		t.Errorf("change = %+v", got[1])
	}
}

// TestDetectorErrorRates validates the detector by simulation (seeded, no
// clock): with intervals of nominal coverage 1-α, two study runs of the
// same truth are flagged at most at rate 2α (disjoint intervals need at
// least one to miss the truth), and pooling repetitions by union keeps
// that bound; a shift of a few interval widths is flagged almost always.
func TestDetectorErrorRates(t *testing.T) {
	const (
		trials = 4000
		z      = 1.96 // 95 % normal intervals
		alpha  = 0.05
		reps   = 2
	)
	r := rand.New(rand.NewPCG(15, 2026))
	interval := func(truth float64) map[string]float64 {
		x := truth + r.NormFloat64()
		return map[string]float64{"k": x, "k_low": x - z, "k_high": x + z}
	}
	run := func(truth float64) Estimate {
		var rs []map[string]float64
		for range reps {
			rs = append(rs, interval(truth))
		}
		return pool(rs)["k"]
	}
	flags := func(a, b float64) float64 {
		n := 0
		for range trials {
			s := Series{Key: "k", Points: []Point{{StudyRun: "1", Estimate: run(a)}, {StudyRun: "2", Estimate: run(b)}}}
			n += len(Detect([]Series{s}))
		}
		return float64(n) / trials
	}
	if fp := flags(10, 10); fp > 2*alpha {
		t.Errorf("false-flag rate %.4f with no change, bound 2α = %.2f", fp, 2*alpha)
	}
	if power := flags(10, 18); power < 0.95 {
		t.Errorf("a shift of 2 interval widths was flagged in only %.3f of trials", power)
	}
	// Coverage of the pooled (union) interval is at least that of one.
	covered := 0
	for range trials {
		e := run(10)
		if e.Low <= 10 && 10 <= e.High {
			covered++
		}
	}
	if c := float64(covered) / trials; c < 1-alpha-0.01 {
		t.Errorf("pooled interval coverage %.4f < %.2f", c, 1-alpha)
	}
}

func TestAnalyzeFromJournal(t *testing.T) {
	db := testDB(t)
	src := `name: t
platforms:
  - {name: a, platform: local}
  - {name: b, platform: local}
experiments: [idle-timeout]
repetitions: 2
`
	s, err := Parse("t.yaml", []byte(src), testVocab())
	if err != nil {
		t.Fatal(err)
	}
	truth := map[string]float64{"a": 2, "b": 3}
	f := newFake(db)
	f.estimates = func(c Cell) map[string]float64 {
		v := truth[c.Platform.Name]
		return map[string]float64{"idle_timeout_s": v, "idle_timeout_s_low": v - 0.1, "idle_timeout_s_high": v + 0.1,
			"idle_probes": float64(c.Seq * 7)} // a point estimate that changes every time
	}
	ctx := context.Background()
	day := 0
	cfg := cfgFor(t, db, s, f)
	cfg.Now = func() time.Time { day++; return time.Date(2026, 12, 1, 3, 0, day, 0, time.UTC) }
	if _, err := Run(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	truth["a"] = 4
	if _, err := Run(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	a, err := Analyze(ctx, db, "t")
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Runs) != 2 || strings.Join(a.Platforms, ",") != "a,b" || strings.Join(a.Experiments, ",") != "idle-timeout" {
		t.Fatalf("analysis = %+v", a)
	}
	if len(a.Changes) != 1 {
		t.Fatalf("changes = %+v", a.Changes)
	}
	if c := a.Changes[0]; c.Platform != "a" || c.Key != "idle_timeout_s" || c.From.Value != 2 || c.To.Value != 4 || c.To.N != 2 {
		t.Errorf("change = %+v", c)
	}
	st := NewStatus(a)
	if len(st.Runs) != 2 || st.Runs[1].Done != 4 || len(st.Changes) != 1 || st.Changes[0].To.Low == nil || math.Abs(*st.Changes[0].To.Low-3.9) > 1e-9 {
		t.Errorf("status = %+v", st)
	}
	if _, err := Analyze(ctx, db, "nope"); err == nil {
		t.Error("unknown study analysed")
	}
}

// TestAnalyzePlanIsPartOfThePlatform: an azure column whose runs moved from
// Linux Consumption to Flex Consumption (the default changed between two
// study runs) gives two series, one per plan, and no change flag: the
// numbers of the two plans are not comparable.
func TestAnalyzePlanIsPartOfThePlatform(t *testing.T) {
	db := testDB(t)
	src := `name: p
platforms:
  - {name: az, platform: azure}
experiments: [idle-timeout]
repetitions: 1
`
	s, err := Parse("p.yaml", []byte(src), testVocab())
	if err != nil {
		t.Fatal(err)
	}
	plan, v := "consumption", 600.0
	f := newFake(db)
	f.platformConfig = func(Cell) map[string]any { return map[string]any{"plan": plan} }
	f.estimates = func(Cell) map[string]float64 {
		return map[string]float64{"idle_timeout_s": v, "idle_timeout_s_low": v - 10, "idle_timeout_s_high": v + 10}
	}
	ctx := context.Background()
	day := 0
	cfg := cfgFor(t, db, s, f)
	cfg.Now = func() time.Time { day++; return time.Date(2026, 12, 1, 3, 0, day, 0, time.UTC) }
	if _, err := Run(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	plan, v = "flex", 300
	if _, err := Run(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	a, err := Analyze(ctx, db, "p")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(a.Platforms, ",") != "az (flex),az (consumption)" {
		t.Errorf("platforms = %q", a.Platforms)
	}
	if len(a.Changes) != 0 {
		t.Errorf("a plan switch was flagged as a change: %v", a.Changes)
	}
	var labels []string
	for _, s := range a.Series {
		if s.Key == "idle_timeout_s" {
			labels = append(labels, s.Platform)
			if len(s.Points) != 1 {
				t.Errorf("%s: %d points, want 1", s.Platform, len(s.Points))
			}
		}
	}
	if len(labels) != 2 {
		t.Errorf("idle_timeout_s series = %v, want one per plan", labels)
	}
}
