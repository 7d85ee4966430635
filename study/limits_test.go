package study

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/faas-benchmarker/faas-benchmarker/internal/testtools"
	"github.com/faas-benchmarker/faas-benchmarker/stats"
)

// limitModel is a study whose truth never steps: m estimates (over 4
// platforms), reps repetitions per study run, runs study runs; each
// repetition reports the median of 20 lognormal latencies (σ = 0.3) with
// its 95 % order-statistic interval. Beyond that sampling, each
// repetition's true median varies by repSD (log scale, independently), each
// study run's by nightSD (shared by all its repetitions: night to night),
// and the truth drifts by trend per study run.
type limitModel struct {
	m, reps, runs         int
	repSD, nightSD, trend float64
	trials                int
	within                bool // the stated rate must hold
}

// limitFlagRate is the fraction of seeded studies in which Detect flags
// anything in the last study run.
func limitFlagRate(seed uint64, md limitModel) float64 {
	r := rand.New(rand.NewPCG(seed, 2626))
	flagged := 0
	last := fmt.Sprint(md.runs)
	for range md.trials {
		series := make([]Series, md.m)
		for i := range series {
			var pts []Point
			for k := 1; k <= md.runs; k++ {
				night := 100 * math.Exp(md.nightSD*r.NormFloat64()+md.trend*float64(k))
				var rs []map[string]float64
				for range md.reps {
					med := night * math.Exp(md.repSD*r.NormFloat64())
					xs := make([]float64, 20)
					for j := range xs {
						xs[j] = med * math.Exp(0.3*r.NormFloat64())
					}
					s := stats.Sorted(xs)
					iv := stats.MedianCI(s, 0.95)
					rs = append(rs, map[string]float64{"k": stats.Median(s), "k_low": iv.Low, "k_high": iv.High})
				}
				pts = append(pts, Point{StudyRun: fmt.Sprint(k), Estimate: pool(rs)["k"]})
			}
			series[i] = Series{Platform: fmt.Sprint("p", i%4), Key: fmt.Sprint("k", i), Points: pts}
		}
		for _, c := range Detect(series) {
			if c.ToRun == last {
				flagged++
				break
			}
		}
	}
	return float64(flagged) / float64(md.trials)
}

// TestDetectorLimitsCoverage measures the change detector where its stated
// false-alarm rate is at risk — few repetitions (the DerSimonian–Laird τ²
// from 2 or 3 values), 1 repetition (no spread to estimate), variation
// shared by a study run's repetitions (night to night), a slow drift
// without a step — and asserts the stated rate where docs/studies.md
// ("Limits") says it holds; the other rows are the limits' numbers there:
// go test -run TestDetectorLimitsCoverage -v ./study/
func TestDetectorLimitsCoverage(t *testing.T) {
	testtools.SimulationOnly(t)
	t.Log("| estimates | repetitions | study runs | repetition σ | night σ | drift per study run | flag rate in the last study run |")
	for i, md := range []limitModel{
		{m: 1, reps: 2, runs: 2, repSD: 0.3, trials: 2000, within: true},
		{m: 1, reps: 3, runs: 2, repSD: 0.3, trials: 2000, within: true},
		{m: 40, reps: 2, runs: 10, repSD: 0.1, trials: 150, within: true},
		{m: 1, reps: 1, runs: 2, trials: 1000, within: true},
		{m: 1, reps: 1, runs: 2, repSD: 0.1, trials: 1000},
		{m: 20, reps: 1, runs: 2, repSD: 0.1, trials: 150},
		{m: 20, reps: 3, runs: 10, nightSD: 0.05, trials: 150},
		{m: 20, reps: 8, runs: 10, nightSD: 0.05, trials: 100},
		{m: 20, reps: 2, runs: 10, trend: 0.05, trials: 150},
	} {
		got := limitFlagRate(uint64(i)+1, md)
		t.Logf("| %d | %d | %d | %g | %g | %g | %.3f |", md.m, md.reps, md.runs, md.repSD, md.nightSD, md.trend, got)
		if md.within && got > FamilyAlpha+3*math.Sqrt(FamilyAlpha*(1-FamilyAlpha)/float64(md.trials)) {
			t.Errorf("%+v: false-alarm rate %.3f > %.2f", md, got, FamilyAlpha)
		}
	}
}
