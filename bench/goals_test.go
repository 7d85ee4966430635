package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/faas-benchmarker/faas-benchmarker/bench/measure"
)

func TestVerdict(t *testing.T) {
	above := []float64{1.01, 1.02, 1.03, 1.04, 1.05, 1.06}
	below := []float64{0.91, 0.92, 0.93, 0.94, 0.95, 0.96}
	// For 6 repetitions the interval is [x(1), x(6)]: one ratio on the
	// other side of 1.0 is enough to make it cover 1.0.
	straddle := []float64{0.99, 1.02, 1.03, 1.04, 1.05, 1.06}
	tests := []struct {
		name         string
		xs           []float64
		higherBetter bool
		want         string
	}{
		{"throughput above", above, true, verdictBetter},
		{"throughput below", below, true, verdictWorse},
		{"cost above", above, false, verdictWorse},
		{"cost below", below, false, verdictBetter},
		{"one repetition on the other side", straddle, true, verdictParity},
		{"three repetitions", above[:3], true, "no interval below 6 repetitions (median 1.02): run with -reps 6 or more"},
		{"none", nil, true, "–"},
	}
	for _, tt := range tests {
		if got := verdict(tt.xs, tt.higherBetter); got != tt.want {
			t.Errorf("%s: verdict = %q, want %q", tt.name, got, tt.want)
		}
	}
}

// TestWriteGoals checks the goal rows: throughput and CPU paired at the
// configured concurrency, client overhead with fbrun at vegeta's load when
// that was measured, memory per in-flight request.
func TestWriteGoals(t *testing.T) {
	o, err := parseOptions([]string{"-only", "max,mem", "-concurrency", "1,16", "-local=false", "-sqlite=false", "-reps", "6", "-mem-concurrency", "10,100"})
	if err != nil {
		t.Fatal(err)
	}
	rep := func(f func(i int) measure.Result) (out []*measure.Result) {
		for i := range 6 {
			r := f(i)
			out = append(out, &r)
		}
		return out
	}
	var ocs []*outcome
	for _, sc := range plan(o, "http://t/f", "") {
		for _, v := range sc.variants {
			var runs []*measure.Result
			switch {
			case sc.group == groupMem:
				kib := 100.0 * float64(sc.spec.Concurrency) // fbrun 100 KiB per request, vegeta 200
				if v.name == "vegeta" {
					kib *= 2
				}
				runs = rep(func(int) measure.Result { return measure.Result{Spec: sc.spec, LiveHeapBytes: kib * 1024} })
			case v.name == "vegeta":
				runs = rep(func(i int) measure.Result {
					return measure.Result{Spec: sc.spec, Throughput: 1000, CPUMSPer1000: 50, OverheadP50US: 100}
				})
			case v.matched:
				// At vegeta's load fbrun's overhead is 0.95–1.05 of vegeta's.
				runs = rep(func(i int) measure.Result {
					return measure.Result{Spec: sc.spec, Throughput: 1000, OverheadP50US: 95 + 2*float64(i)}
				})
			default:
				// fbrun as configured: 1.10–1.15 × the throughput, twice the
				// overhead (more in flight).
				runs = rep(func(i int) measure.Result {
					return measure.Result{Spec: sc.spec, Throughput: 1100 + 10*float64(i), CPUMSPer1000: 50, OverheadP50US: 200}
				})
			}
			ocs = append(ocs, &outcome{scenario: sc, variant: v, runs: runs})
		}
	}
	var buf bytes.Buffer
	writeTables(&buf, report{Machine: describeMachine()}, ocs, o)
	out := buf.String()
	for _, want := range []string{
		"### Against the goals",
		"| throughput ≥ vegeta's | minimal, closed loop c=16 | 1.12 [1.10–1.15] (1.10–1.15) | " + verdictBetter + " |",
		"| CPU per request ≤ vegeta's | minimal, closed loop c=16 | 1.00 [1.00–1.00] (1.00–1.00) | " + verdictParity + " |",
		// c=1 has no run at vegeta's load: as configured, twice the overhead.
		"| client overhead p50 ≤ vegeta's | minimal, closed loop c=1 | 2.00 [2.00–2.00] (2.00–2.00) | " + verdictWorse + " |",
		"| client overhead p50 ≤ vegeta's | minimal, closed loop c=16, fbrun at vegeta's load | 1.00 [0.95–1.05] (0.95–1.05) | " + verdictParity + " |",
		"| memory per in-flight request ≤ vegeta's | minimal+delay | 0.50 [0.50–0.50] (0.50–0.50) | " + verdictBetter + " |",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("goals lack %q:\n%s", want, out)
		}
	}
}
