package study

import (
	"fmt"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/faas-benchmarker/faas-benchmarker/stats"
)

// TestRunOrderEqualDates: study runs with equal dates are ordered by the
// series' own order, so a series that lacks the first study run does not
// put its second first: series b (r1 … r5) is compared r1 → r2 → r3, never
// r2 → r1.
func TestRunOrderEqualDates(t *testing.T) {
	at := func(run string, v float64) Point {
		p := pt1(run, 12, v, v-0.2, v+0.2)
		p.Date = time.Time{}
		return p
	}
	a := Series{Platform: "a", Key: "k", Points: []Point{at("r2", 10), at("r3", 10.1), at("r4", 9.9), at("r5", 10)}}
	b := Series{Platform: "b", Key: "k", Points: []Point{at("r1", 10), at("r2", 10.1), at("r3", 9.9), at("r4", 10), at("r5", 10.1)}}
	if got := runOrder([]Series{a, b}); !slices.Equal(got, []string{"r1", "r2", "r3", "r4", "r5"}) {
		t.Errorf("order = %v, want r1 … r5", got)
	}
	_, untested := detect([]Series{a, b})
	for _, u := range untested {
		if u.Platform == "b" && (u.FromRun != "r1" || u.ToRun != "r2") {
			t.Errorf("b's first comparison = %s → %s, want r1 → r2", u.FromRun, u.ToRun)
		}
	}
	// Dates still order study runs that no series orders.
	c := Series{Platform: "c", Key: "k", Points: []Point{pt1("x", 14, 1, 0, 2)}}
	d := Series{Platform: "d", Key: "k", Points: []Point{pt1("y", 13, 1, 0, 2)}}
	if got := runOrder([]Series{c, d}); !slices.Equal(got, []string{"y", "x"}) {
		t.Errorf("order = %v, want y, x (by date)", got)
	}
}

// TestDetectNaNValue: a repetition whose value is NaN beside a two-sided
// interval makes its study run's estimate untestable (no mean to test); it
// was tested with a NaN mean, and Holm flagged its NaN p-value.
func TestDetectNaNValue(t *testing.T) {
	at := func(run string, day int, v float64) Point {
		e := pool([]map[string]float64{{"k": v, "k_low": 0, "k_high": 2}})["k"]
		return Point{StudyRun: run, Date: time.Date(2026, 12, day, 0, 0, 0, 0, time.UTC), Estimate: e}
	}
	s := Series{Platform: "n", Key: "k", Points: []Point{at("r1", 1, 1), at("r2", 2, math.NaN()), at("r3", 3, 1)}}
	if s.Points[1].Testable {
		t.Errorf("a NaN value is testable: %+v", s.Points[1].Estimate)
	}
	if c := Detect([]Series{s}); len(c) != 0 {
		t.Errorf("flags = %v, want none", c)
	}
	if got := holm([]Change{{P: math.NaN()}, {P: 0.001}}, FamilyAlpha); got[0] || !got[1] {
		t.Errorf("holm(NaN, 0.001) = %v, want [false true]", got)
	}
}

// TestDetectZeroWidth: an estimate exact in every study run (zero-width
// intervals) has only its history; a series that never moved flags any
// move with p = 0 once it has one (docs/studies.md, "Limits"), and its
// first comparison stays untested.
func TestDetectZeroWidth(t *testing.T) {
	var pts []Point
	for i, v := range []float64{1, 1, 1, 1.001} {
		pts = append(pts, pt1("r"+string(rune('1'+i)), 1+i, v, v, v))
	}
	changes, untested := detect([]Series{{Platform: "z", Key: "k", Points: pts}})
	if len(changes) != 1 || changes[0].ToRun != "r4" || changes[0].P != 0 {
		t.Errorf("changes = %v, want r3 → r4 with p = 0", changes)
	}
	if len(untested) != 1 || untested[0].ToRun != "r2" {
		t.Errorf("untested = %+v, want r1 → r2", untested)
	}
}

// TestDetectQuietHistory: a cold-start fraction that was 0 of 100 in both
// repetitions of nine study runs (a history of zero differences), then 1
// of 100 in one repetition: its Clopper–Pearson intervals call that noise
// (0 [0, 0.036] → 0.005 [0, 0.054]), and the history's mean square alone
// (0) plus the excess of the last study run's within-run variance called
// it a change (p = 0.0038; TestDetectorAttacksCoverage:
// 12 % false alarms per study run over 20 such estimates). The test must
// agree with the intervals: no flag.
func TestDetectQuietHistory(t *testing.T) {
	frac := func(k int) map[string]float64 {
		iv := stats.ClopperPearson(k, 100, 0.95)
		return map[string]float64{"k": float64(k) / 100, "k_low": iv.Low, "k_high": iv.High}
	}
	var pts []Point
	for i := range 10 {
		second := 0
		if i == 9 {
			second = 1
		}
		e := pool([]map[string]float64{frac(0), frac(second)})["k"]
		pts = append(pts, Point{StudyRun: fmt.Sprint("r", i+1), Date: time.Date(2026, 12, 1+i, 3, 0, 0, 0, time.UTC), Estimate: e})
	}
	changes, untested := detect([]Series{{Platform: "p", Key: "cold_fraction", Points: pts}})
	if len(changes) != 0 || len(untested) != 0 {
		t.Errorf("changes %v, untested %+v: want neither", changes, untested)
	}
}
