package experiments

import (
	"math/rand/v2"
	"testing"

	"github.com/faas-benchmarker/faas-benchmarker/internal/testtools"
)

// TestLifetimeCoverage: lifetimes L + U[0, J) observed through brackets of
// one period (as the experiment sees them), ten recycles and the last
// instance censored: the 95% intervals of the median and of the 5% point
// cover the truth in at least 90% / 85% of 1000 seeded experiments, with
// and without jitter.
func TestLifetimeCoverage(t *testing.T) {
	testtools.SimulationOnly(t)
	const period = 0.1
	for _, c := range []struct {
		name    string
		l, j    float64
		med, p5 float64
	}{
		{"sharp 2 s", 2, 0, 2, 2},
		{"2 s + jitter 1 s", 2, 1, 2.5, 2.05},
	} {
		t.Run(c.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(9, 9))
			const reps = 1000
			var cm, c5 int
			for range reps {
				var lives []lifeBracket
				for range 10 {
					x := c.l + c.j*rng.Float64()
					// The instance is seen alive up to one period before
					// its end and gone within one period after it.
					lo := x - period*rng.Float64()
					lives = append(lives, lifeBracket{low: lo, high: lo + period + 0.002})
				}
				lives = append(lives, lifeBracket{low: 0.3, high: 0.31, censored: true})
				med, p5, err := lifetimeEstimates(lives)
				if err != nil {
					t.Fatal(err)
				}
				if med.Low <= c.med && c.med <= med.High {
					cm++
				}
				if p5.Low <= c.p5 && c.p5 <= p5.High {
					c5++
				}
			}
			t.Logf("coverage: median %.3f, 5%% point %.3f", float64(cm)/reps, float64(c5)/reps)
			if float64(cm)/reps < 0.90 || float64(c5)/reps < 0.85 {
				t.Errorf("coverage median %.3f (want >= 0.90), 5%% point %.3f (want >= 0.85)", float64(cm)/reps, float64(c5)/reps)
			}
		})
	}
}
