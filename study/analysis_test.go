package study

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/faas-benchmarker/faas-benchmarker/stats"
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

// pt is a point of two repetitions that both gave v [lo, hi] (NaN: no
// interval).
func pt(run string, day int, v, lo, hi float64) Point {
	p := pt1(run, day, v, lo, hi)
	p.N, p.Reps, p.EffReps = 2, []float64{v, v}, 2
	return p
}

// pt1 is a point of one repetition.
func pt1(run string, day int, v, lo, hi float64) Point {
	e := Estimate{Value: v, N: 1, Mean: v, WithinSE: math.NaN(), Reps: []float64{v}}
	if !math.IsNaN(lo) {
		e.Low, e.High, e.HasInterval = lo, hi, true
		e.WithinSE, e.Testable = (hi-lo)/(2*intervalZ), true
	}
	return Point{StudyRun: run, Date: time.Date(2026, 12, day, 3, 0, 0, 0, time.UTC), Estimate: e}
}

func TestDetect(t *testing.T) {
	nan := math.NaN()
	ss := []Series{
		// 600 ± 10 → 420 ± 10: t ≈ 37 against the one earlier difference
		// (5: its square is the variance, 1 degree of freedom), p ≈ 0.02.
		{Platform: "aws-eu", Experiment: "idle-timeout", Key: "idle_timeout_s", Points: []Point{
			pt("r1", 12, 600, 590, 610), pt("r2", 13, 605, 595, 615), pt("r3", 14, 420, 410, 430)}},
		// Wide intervals: a move well inside the noise is no change.
		{Platform: "local", Experiment: "idle-timeout", Key: "idle_timeout_s", Points: []Point{
			pt("r1", 12, 2, 1, 5), pt("r2", 13, 4, 3, 6), pt("r3", 14, 3.5, 2, 5)}},
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
	if c.Platform != "aws-eu" || c.Key != "idle_timeout_s" || c.FromRun != "r2" || c.ToRun != "r3" || c.P > 0.03 || c.History != 1 {
		t.Errorf("change = %+v", c)
	}
	if s := c.String(); !strings.HasPrefix(s, "aws-eu idle_timeout_s 605.0 → 420.0 on 2026-12-14") {
		t.Errorf("text = %q", s)
	}
	if got[1].Platform != "b" || got[1].FromRun != "r1" || got[1].ToRun != "r3" {
		t.Errorf("change = %+v", got[1])
	}
	// Holm: the same moderate move (p ≈ 0.01, t with 2 degrees of freedom)
	// is flagged alone, not among 20 unchanged estimates of the same study
	// run (0.01 > 0.05/20).
	moderate := Series{Platform: "p", Key: "k", Points: []Point{pt("r1", 12, 0, -1.96, 1.96), pt("r2", 13, 14, 14-1.96, 14+1.96)}}
	if n := len(Detect([]Series{moderate})); n != 1 {
		t.Errorf("alone: %d flags, want 1", n)
	}
	family := []Series{moderate}
	for i := range 20 {
		family = append(family, Series{Platform: "p", Key: fmt.Sprint("same", i), Points: []Point{pt("r1", 12, 0, -1, 1), pt("r2", 13, 0, -1, 1)}})
	}
	if n := len(Detect(family)); n != 0 {
		t.Errorf("among 21 estimates: %d flags, want 0 (Holm)", n)
	}
}

// TestDetectHistory: with one repetition per study run a comparison is
// tested only against the series' earlier study runs (their successive
// differences), never on its intervals alone; a flag restarts the history;
// night-to-night variation that the history shows widens the test.
func TestDetectHistory(t *testing.T) {
	// One repetition: 10 ± 0.2 in five study runs, then 12.
	vals := []float64{10, 10.1, 9.9, 10.05, 9.95, 12, 12.1}
	var pts []Point
	for i, v := range vals {
		pts = append(pts, pt1(fmt.Sprint("r", i+1), 12+i, v, v-0.2, v+0.2))
	}
	s := Series{Platform: "p", Experiment: "e", Key: "k", Points: pts}
	changes, untested := detect([]Series{s})
	if len(changes) != 1 || changes[0].ToRun != "r6" || changes[0].History != 4 {
		t.Fatalf("changes = %v, want r5 → r6 with a history of 4 differences", changes)
	}
	// Untested: the first comparison, and the first after the flag.
	if len(untested) != 2 || untested[0].ToRun != "r2" || untested[1].ToRun != "r7" || untested[0].Reason != UntestedReason {
		t.Errorf("untested = %+v, want r1 → r2 and r6 → r7", untested)
	}
	// The same step within a history that moves by ±2 from night to
	// night (far beyond the intervals): no flag.
	noisy := []float64{10, 12, 8.5, 11.5, 9, 11}
	pts = nil
	for i, v := range noisy {
		pts = append(pts, pt1(fmt.Sprint("r", i+1), 12+i, v, v-0.2, v+0.2))
	}
	if c := Detect([]Series{{Platform: "p", Key: "k", Points: pts}}); len(c) != 0 {
		t.Errorf("a step within the night-to-night variation was flagged: %v", c)
	}
	// A study run much noisier within than its history (a poor
	// repetition: ±5 where the history had ±0.2) is judged with its own
	// variance: a move of 1 is no change.
	pts = nil
	for i, v := range []float64{10, 10.1, 9.9, 10.05, 9.95, 11} {
		half := 0.2
		if i == 5 {
			half = 5
		}
		pts = append(pts, pt1(fmt.Sprint("r", i+1), 12+i, v, v-half, v+half))
	}
	if c := Detect([]Series{{Platform: "p", Key: "k", Points: pts}}); len(c) != 0 {
		t.Errorf("a move within a poor study run's own interval was flagged: %v", c)
	}
}

// lastPair keeps the last two points of each series.
func lastPair(series []Series) []Series {
	out := make([]Series, len(series))
	for i, s := range series {
		s.Points = s.Points[len(s.Points)-2:]
		out[i] = s
	}
	return out
}

// overlapRule is the previous change rule, kept here to compare with:
// flag when the pooled (union) intervals of consecutive study runs do not
// overlap, with no control over the number of estimates.
func overlapRule(series []Series) int {
	n := 0
	for _, s := range series {
		a, b := s.Points[0], s.Points[1]
		if a.HasInterval && b.HasInterval && (b.High < a.Low || a.High < b.Low) {
			n++
		}
	}
	return n
}

// TestDetectorErrorRates simulates the change detector the way a study
// uses it (seeded, no clock): per platform and estimate, each repetition
// measures 20 lognormal latencies (σ = 0.3) and reports their median with its 95 %
// order-statistic interval, as the experiments do; two repetitions per
// study run; many estimates on many platforms. It measures the
// false-alarm rate per study run (any flag when nothing changed) and the
// power to flag one estimate whose true median moved, for the previous
// rule (non-overlap of pooled intervals) and for Detect, with and without
// run-to-run variation of the true median (σ on the log scale), after 2 and
// 10 study runs. The table is the
// one in docs/studies.md: go test -run TestDetectorErrorRates -v ./study/
func TestDetectorErrorRates(t *testing.T) {
	const (
		trials = 100
		reps   = 2
		n      = 20
		sigma  = 0.3
	)
	between := 0.0 // run-to-run variation of the true median (log scale)
	poor := 0.0    // fraction of repetitions with only 6 samples (a wide interval)
	rep := func(r *rand.Rand, median float64) map[string]float64 {
		size := n
		if poor > 0 && r.Float64() < poor {
			size = 6
		}
		xs := make([]float64, size)
		m := median * math.Exp(between*r.NormFloat64())
		for i := range xs {
			xs[i] = m * math.Exp(sigma*r.NormFloat64())
		}
		s := stats.Sorted(xs)
		iv := stats.MedianCI(s, 0.95)
		return map[string]float64{"k": stats.Median(s), "k_low": iv.Low, "k_high": iv.High}
	}
	run := func(r *rand.Rand, median float64) Estimate {
		var rs []map[string]float64
		for range reps {
			rs = append(rs, rep(r, median))
		}
		return pool(rs)["k"]
	}
	// simulate returns, over trials study-run pairs with m estimates of
	// which the first moved by factor shift: the fraction of pairs with a
	// false flag, and the fraction where the moved one was flagged — for
	// the old rule and Detect.
	simulate := func(seed uint64, m int, shift float64, before int) (oldFA, newFA, oldPow, newPow float64) {
		r := rand.New(rand.NewPCG(seed, 26))
		last := fmt.Sprint(before + 1)
		for range trials {
			series := make([]Series, m)
			for i := range series {
				after := 100.0
				if i == 0 {
					after *= shift
				}
				var pts []Point
				for k := 1; k <= before; k++ {
					pts = append(pts, Point{StudyRun: fmt.Sprint(k), Estimate: run(r, 100)})
				}
				pts = append(pts, Point{StudyRun: last, Estimate: run(r, after)})
				series[i] = Series{Platform: fmt.Sprint("p", i%4), Key: fmt.Sprint("k", i), Points: pts}
			}
			moved := shift != 1
			rest := series
			if moved {
				rest = series[1:]
				if overlapRule(lastPair(series[:1])) > 0 {
					oldPow++
				}
			}
			if overlapRule(lastPair(rest)) > 0 {
				oldFA++
			}
			flagged, falseFlag := false, false
			for _, c := range Detect(series) {
				if c.ToRun != last {
					continue
				}
				if moved && c.Key == "k0" {
					flagged = true
				} else {
					falseFlag = true
				}
			}
			if flagged {
				newPow++
			}
			if falseFlag {
				newFA++
			}
		}
		return oldFA / trials, newFA / trials, oldPow / trials, newPow / trials
	}
	t.Log("| estimates per study run | true change | run-to-run σ | poor repetitions | study runs | false-alarm rate per study run: non-overlap | Holm t test | power: non-overlap | Holm t test |")
	for i, c := range []struct {
		m       int
		shift   float64
		between float64
		before  int
		poor    float64
	}{{1, 1, 0, 1, 0}, {100, 1, 0, 1, 0}, {1, 1.5, 0, 1, 0}, {100, 1.5, 0, 1, 0}, {100, 1, 0.1, 1, 0},
		{20, 1, 0, 9, 0}, {20, 1, 0.1, 9, 0}, {20, 1.5, 0, 9, 0}, {20, 1.5, 0.1, 9, 0},
		{100, 1, 0, 1, 0.2}, {20, 1, 0.1, 9, 0.2}, {20, 1.5, 0, 9, 0.2}} {
		between, poor = c.between, c.poor
		oldFA, newFA, oldPow, newPow := simulate(uint64(i)+1, c.m, c.shift, c.before)
		t.Logf("| %d | ×%g | %g | %g | %d | %.3f | %.3f | %.3f | %.3f |", c.m, c.shift, c.between, c.poor, c.before+1, oldFA, newFA, oldPow, newPow)
		// The stated false-alarm rate, with 3 standard errors of slack.
		if newFA > FamilyAlpha+3*math.Sqrt(FamilyAlpha*(1-FamilyAlpha)/trials) {
			t.Errorf("m=%d: false-alarm rate %.3f > %.2f", c.m, newFA, FamilyAlpha)
		}
		// Power where the simulation shows it (docs/studies.md), with slack.
		if c.shift == 1.5 && c.between == 0 && c.poor == 0 && (c.m == 1 || c.before > 1) && newPow < 0.3 {
			t.Errorf("m=%d: a median ×1.5 flagged in only %.3f of study runs", c.m, newPow)
		}
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
	cfg := cfgFor(t, db, s, f)
	cfg.Now = tickingClock()
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
	cfg := cfgFor(t, db, s, f)
	cfg.Now = tickingClock()
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

// TestCombineRunToRunSpread: eight local cold-start repetitions whose
// medians move with the machine's load far beyond their intervals, one
// interval narrow ([55.2, 61.2] ms): pure 1/SE² weights give that run
// most of the weight (an effective 1.7 repetitions, mean 58.8); the random-effects
// weights keep 4.6. Values in agreement keep the 1/SE² weights.
func TestCombineRunToRunSpread(t *testing.T) {
	vals := []float64{104.7, 86.26, 66.99, 76.97, 56.52, 63.19, 62.09, 57.58}
	widths := []float64{93.05, 38.06, 63.16, 98.51, 15.55, 38.41, 16.54, 5.96}
	ses := make([]float64, len(widths))
	for i, w := range widths {
		ses[i] = w / (2 * 1.96)
	}
	mean, _, eff := combine(vals, ses)
	if eff < 4 || mean < 62 || mean > 80 {
		t.Errorf("spread runs: mean %.2f, effective repetitions %.2f; want 62-80 and >= 4 of 8", mean, eff)
	}
	agree := []float64{60, 60.5, 59.8, 60.2}
	aSE := []float64{0.5, 2, 2, 2}
	mean, se, eff := combine(agree, aSE)
	if want := 1 / math.Sqrt(4+3*0.25); math.Abs(se-want) > 1e-9 || eff > 2 || math.Abs(mean-60) > 0.2 {
		t.Errorf("agreeing runs: mean %.3f se %.4f eff %.2f; want the 1/SE² weights (se %.4f)", mean, se, eff, want)
	}
}

// TestChangePDegreesOfFreedom: when both study runs' variances come from the
// series' one pooled repetition spread (df degrees of freedom), their sum
// has df degrees of freedom — the same estimate twice, not two independent
// ones, which Welch–Satterthwaite would count as up to 2·df. At 2
// repetitions in each of 2 study runs (df = 2) that error gave a
// false-alarm rate of 8.5 % at a stated 5 % (2000 seeded pairs, one
// estimate, repetitions spread σ = 0.3 on the log scale beyond their
// intervals); with df it is 2.4 %.
func TestChangePDegreesOfFreedom(t *testing.T) {
	a := Estimate{Mean: 0, WithinSE: 0.01, EffReps: 2, Reps: []float64{-1, 1}}
	b := Estimate{Mean: 3, WithinSE: 0.01, EffReps: 2, Reps: []float64{2, 4}}
	const between, df = 2.0, 2.0
	got := changeP(b.Mean-a.Mean, withinVar(a, b, between, df), df, nil)
	want := stats.StudentTwoSidedP(3/math.Sqrt(between/2+between/2), df)
	if math.Abs(got-want) > 1e-12 {
		t.Errorf("p = %.4f, want %.4f (t with the pooled spread's %g degrees of freedom)", got, want, df)
	}
	// One mean's variance from its intervals (known), the other's from the
	// spread: the spread's df still bounds the reference distribution.
	b.WithinSE = 10
	got = changeP(b.Mean-a.Mean, withinVar(a, b, between, df), df, nil)
	want = stats.StudentTwoSidedP(3/math.Sqrt(between/2+100), df)
	if math.Abs(got-want) > 1e-12 {
		t.Errorf("mixed: p = %.4f, want %.4f", got, want)
	}
}

// TestChangePAsymmetricIntervals: a change is judged by the halves of the
// two intervals that face each other. The case is a one-repetition study
// under load (cmd/fbrun TestStudyChangeDetector): idle timeout 2 s →
// 4 s, estimated 2.017 [1.901, 2.098] → 4.282 [3.756, 7.410]. Read as
// symmetric, the second interval's long upper half (few evictions beyond
// the longest gaps) made the difference 2.4 standard errors (p ≈ 0.015,
// not flagged by Holm over four tests); its lower half says 8.
func TestChangePAsymmetricIntervals(t *testing.T) {
	est := func(v, lo, hi float64) Estimate {
		return pool([]map[string]float64{{"k": v, "k_low": lo, "k_high": hi}})["k"]
	}
	a, b := est(2.017, 1.901, 2.098), est(4.282, 3.756, 7.410)
	if p := changeP(b.Mean-a.Mean, withinVar(a, b, 0, 0), 0, nil); !(p < 1e-6) {
		t.Errorf("2.017 [1.901, 2.098] → 4.282 [3.756, 7.410]: p = %.3g, want < 1e-6", p)
	}
	// The same the other way round: a's lower half and b's upper half.
	if p := changeP(a.Mean-b.Mean, withinVar(b, a, 0, 0), 0, nil); !(p < 1e-6) {
		t.Errorf("4.282 [3.756, 7.410] → 2.017 [1.901, 2.098]: p = %.3g, want < 1e-6", p)
	}
	// Facing halves that are wide keep the test honest: 4.282 with a
	// long lower half is not a change from 2.017.
	c := est(4.282, 0.5, 4.4)
	if p := changeP(c.Mean-a.Mean, withinVar(a, c, 0, 0), 0, nil); !(p > 0.05) {
		t.Errorf("2.017 [1.901, 2.098] → 4.282 [0.5, 4.4]: p = %.3g, want > 0.05", p)
	}
	// Symmetric intervals: the symmetric standard error, as before.
	s1, s2 := est(1, 0.8, 1.2), est(1.5, 1.3, 1.7)
	want := stats.StudentTwoSidedP(0.5/math.Sqrt(2*math.Pow(0.2/intervalZ, 2)), math.Inf(1))
	if p := changeP(s2.Mean-s1.Mean, withinVar(s1, s2, 0, 0), 0, nil); math.Abs(p-want) > 1e-12 {
		t.Errorf("symmetric: p = %.6g, want %.6g", p, want)
	}
}

// TestAnalyzeUntested: a study of one repetition per study run cannot test
// its first comparison (no repetition spread, no earlier study run); the
// analysis and the status (--json) say so per estimate, and the third
// study run is tested against the history.
func TestAnalyzeUntested(t *testing.T) {
	db := testDB(t)
	s, err := Parse("u.yaml", []byte("name: u\nplatforms:\n  - {name: a, platform: local}\nexperiments: [idle-timeout]\n"), testVocab())
	if err != nil {
		t.Fatal(err)
	}
	v := 2.0
	f := newFake(db)
	f.estimates = func(Cell) map[string]float64 {
		return map[string]float64{"idle_timeout_s": v, "idle_timeout_s_low": v - 0.1, "idle_timeout_s_high": v + 0.1}
	}
	ctx := context.Background()
	cfg := cfgFor(t, db, s, f)
	cfg.Now = tickingClock()
	for _, v = range []float64{2, 4, 4} {
		if _, err := Run(ctx, cfg); err != nil {
			t.Fatal(err)
		}
	}
	a, err := Analyze(ctx, db, "u")
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Changes) != 0 || len(a.Untested) != 1 {
		t.Fatalf("changes %v, untested %+v: want the first comparison untested, the second tested", a.Changes, a.Untested)
	}
	js, err := json.Marshal(NewStatus(a))
	if err != nil {
		t.Fatal(err)
	}
	want := `"untested":[{"platform":"a","experiment":"idle-timeout","estimate":"idle_timeout_s","from_study_run":"` +
		a.Runs[0].Run.ID + `","to_study_run":"` + a.Runs[1].Run.ID + `"`
	if !strings.Contains(string(js), want) || !strings.Contains(string(js), UntestedReason) {
		t.Errorf("status JSON lacks %s…: %s", want, js)
	}
}

// tickingClock returns a clock that moves one second on every reading, so
// consecutive study runs get distinct, ordered dates.
func tickingClock() func() time.Time {
	sec := 0
	return func() time.Time { sec++; return time.Date(2026, 12, 1, 3, 0, sec, 0, time.UTC) }
}
