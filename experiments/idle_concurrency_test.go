package experiments

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/faas-benchmarker/faas-benchmarker/internal/testtools"
	"github.com/faas-benchmarker/faas-benchmarker/localfaas"
)

// TestIdleConcurrencyPeak measures, in simulation, the most executions
// idle-timeout keeps running at once with the aws defaults (twelve lanes,
// probes sleeping up to 10 min), against the need it declares to the
// account preflight (MaxConcurrency: lanes × instances, the warm-up): the
// declared need is a lower bound of every run's peak, and the table says
// by how much the peak exceeds it (docs/experiments.md, idle-timeout).
func TestIdleConcurrencyPeak(t *testing.T) {
	testtools.SimulationOnly(t)
	p := IdleTimeout{}.PlatformDefaults(awsIdle)
	d := simDesign(t, p)
	params, err := Resolve(IdleTimeout{}, p)
	if err != nil {
		t.Fatal(err)
	}
	need := IdleTimeout{}.MaxConcurrency(params)
	out := "| eviction model | declared need | peak concurrent executions: median / p90 / max (40 runs) |\n|---|---|---|\n"
	for _, m := range []struct {
		name  string
		model localfaas.Eviction
	}{
		{"sharp 10m0s", localfaas.Eviction{Timeout: 10 * time.Minute, Fraction: 1}},
		{"sweep every 5m0s, timeout 10m0s", localfaas.Eviction{Timeout: 10 * time.Minute, Sweep: 5 * time.Minute, Fraction: 1}},
		{"sweep every 20m0s, timeout 10m0s", localfaas.Eviction{Timeout: 10 * time.Minute, Sweep: 20 * time.Minute, Fraction: 1}},
	} {
		var peaks []float64
		for seed := range 40 {
			env := newSimEnv(m.model, uint64(seed)+1)
			d.seed = uint64(seed) + 1000
			if _, err := runIdleDesign(context.Background(), env, d, nil); err != nil {
				t.Fatal(err)
			}
			peak := env.peakBusy()
			if peak < need {
				t.Errorf("%s seed %d: peak %d below the declared need %d", m.name, seed, peak, need)
			}
			peaks = append(peaks, float64(peak))
		}
		slices.Sort(peaks)
		out += fmt.Sprintf("| %s | %d | %.0f / %.0f / %.0f |\n", m.name, need, median(peaks), percentile(peaks, 0.9), peaks[len(peaks)-1])
	}
	t.Log("\n" + out)
}
