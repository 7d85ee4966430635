package experiments_test

import (
	"testing"
	"time"

	"github.com/faas-benchmarker/faas-benchmarker/experiments"
	"github.com/faas-benchmarker/faas-benchmarker/localfaas"
	"github.com/faas-benchmarker/faas-benchmarker/localfaas/localfaastest"
	"github.com/faas-benchmarker/faas-benchmarker/stats"
)

// BenchmarkIdleTimeoutTimeToAnswer measures idle-timeout's time to answer
// on the embedded platform (one run per op; use -benchtime 1x): with the
// local default (sharp 10 s, default parameters) and with uniform eviction
// in [3 s, 7 s] at precision 0.1. It reports the run's wall time
// (s/answer), the median's relative error and its interval's relative
// half-width; docs/experiments.md has the numbers.
func BenchmarkIdleTimeoutTimeToAnswer(b *testing.B) {
	for _, c := range []struct {
		name  string
		cfg   localfaas.Config
		sets  map[string]string
		truth float64
	}{
		{"sharp 10 s defaults", localfaas.Config{IdleTimeout: 10 * time.Second}, nil, 10},
		{"uniform 3-7 s precision 0.1", localfaas.Config{IdleTimeout: 3 * time.Second, IdleJitter: 4 * time.Second}, map[string]string{"precision": "0.1"}, 5},
	} {
		b.Run(c.name, func(b *testing.B) {
			for range b.N {
				plat := localfaastest.Start(b, c.cfg)
				start := time.Now()
				o := runOn(b, plat, experiments.IdleTimeout{}, c.sets).est
				wall := time.Since(start).Seconds()
				est := o[experiments.KeyIdleTimeout]
				lk, hk := stats.IntervalKeys(experiments.KeyIdleTimeout)
				lo, hi := o[lk], o[hk]
				b.ReportMetric(wall, "s/answer")
				b.ReportMetric(100*abs(est-c.truth)/c.truth, "%err")
				b.ReportMetric(100*(hi-lo)/2/est, "%halfwidth")
				b.ReportMetric(o[experiments.KeyIdlePrecisionReached], "precise")
				b.ReportMetric(o[experiments.KeyIdleInvocations], "invocations")
			}
		})
	}
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}
