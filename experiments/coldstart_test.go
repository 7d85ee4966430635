package experiments

import (
	"errors"
	"testing"

	"github.com/faas-benchmarker/faas-benchmarker/engine"
	"github.com/faas-benchmarker/faas-benchmarker/providers"
	"github.com/faas-benchmarker/faas-benchmarker/results"
)

// TestColdWarmSampleSelection: the samples of a cold burst enter the cold
// estimates only when both signals call them cold — a request that landed
// on the instance its neighbour had just finished with (flag warm, no Init
// Duration), or on an environment the platform initialised ahead of time
// (flag cold, no Init Duration), is counted in not_cold; failures and
// timeouts are counted, never dropped; warm samples a signal calls cold are
// counted in not_warm.
func TestColdWarmSampleSelection(t *testing.T) {
	b, _ := newTestBench(t, localNamed{&fakeLambda{}}, engine.Config{})
	res := func(latencyMS float64, flag bool, initMS float64) *engine.Result {
		rec := results.Invocation{LatencyNS: int64(latencyMS * 1e6), ConnReused: true, Cold: &flag,
			Report: &results.PlatformReport{DurationMS: 1}}
		if initMS > 0 {
			rec.Report.InitDurationMS = &initMS
		}
		return &engine.Result{Record: rec}
	}
	c := coldWarmData{sender: newColdSender(b)}
	for _, r := range []*engine.Result{
		res(50, true, 40), res(52, true, 41), res(60, true, 45), // cold by both
		res(3, false, 0),   // landed on its neighbour's instance
		res(4, true, 0),    // pre-initialised environment: the platform saw no init
		res(55, false, 40), // the flag vetoes
		{Err: &providers.Error{Kind: providers.KindTimeout}},
		{Err: errors.New("boom")},
	} {
		c.addCold(b, r)
	}
	for _, r := range []*engine.Result{res(2, false, 0), res(3, false, 0), res(45, true, 40)} {
		c.addWarm(b, r)
	}
	est := c.estimates(b).Estimates
	want := map[string]float64{"samples": 3, "not_cold": 3, "cold_failed": 2, "cold_timed_out": 1,
		"warm_samples": 2, "not_warm": 1, "failed": 2, "cold_p50_ms": 52, "init_p50_ms": 41, "warm_p50_ms": 2.5}
	for k, v := range want {
		if est[k] != v {
			t.Errorf("%s = %v, want %v", k, est[k], v)
		}
	}
}
