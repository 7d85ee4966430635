package experiments

import (
	"encoding/json"
	"errors"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/faas-benchmarker/faas-benchmarker/engine"
	"github.com/faas-benchmarker/faas-benchmarker/functions/lab"
	"github.com/faas-benchmarker/faas-benchmarker/results"
	"github.com/faas-benchmarker/faas-benchmarker/stats"
)

func TestGeometricGridAndLanes(t *testing.T) {
	g := geometricGrid(time.Second, 16*time.Second, 2)
	want := []time.Duration{1, 2, 4, 8, 16}
	if len(g) != len(want) {
		t.Fatalf("grid %v", g)
	}
	for i := range want {
		if g[i] != want[i]*time.Second {
			t.Errorf("grid[%d] = %v", i, g[i])
		}
	}
	lanes := assignLanes(g, 3)
	var longest time.Duration
	n := 0
	for _, l := range lanes {
		var sum time.Duration
		for _, x := range l {
			sum += x
			n++
		}
		longest = max(longest, sum)
	}
	// 31 s of gaps on 3 lanes: the 16 s gap alone bounds the wall time.
	if n != 5 || longest != 16*time.Second {
		t.Errorf("lanes %v: %d gaps, longest lane %v, want 5 and 16s", lanes, n, longest)
	}
}

func TestProfileRates(t *testing.T) {
	tests := []struct {
		profile string
		steps   int
		want    []float64
	}{
		{"constant", 3, []float64{5, 5, 5}},
		{"poisson", 2, []float64{5, 5}},
		{"pyramid", 5, []float64{5, 12.5, 20, 12.5, 5}},
		{"spikes", 5, []float64{5, 12.5, 5, 20, 5}},
		{"ramp", 3, []float64{7.5, 12.5, 17.5}}, // mean of each step's linear ramp
	}
	for _, tt := range tests {
		start, end, err := profileRates(tt.profile, 5, 20, tt.steps)
		if err != nil {
			t.Fatal(err)
		}
		for k := range tt.want {
			if got := (start[k] + end[k]) / 2; math.Abs(got-tt.want[k]) > 1e-9 {
				t.Errorf("%s step %d: mean rate %v, want %v", tt.profile, k+1, got, tt.want[k])
			}
		}
	}
	if _, _, err := profileRates("sawtooth", 5, 20, 3); err == nil {
		t.Error("unknown profile accepted")
	}
}

func TestScaleRate(t *testing.T) {
	ms := time.Millisecond
	// Two burst births at 0, then one every 200 ms (5/s) from the first
	// rate-limited birth on.
	births := []time.Duration{0, 1 * ms, 200 * ms, 400 * ms, 600 * ms, 800 * ms, 1000 * ms}
	rate, n, ok := scaleRate(births, 200*ms)
	if !ok || n != 5 || math.Abs(rate-5) > 1e-9 {
		t.Errorf("scaleRate = %v %d %v, want 5 5 true", rate, n, ok)
	}
	// A pause of 1 s after the fourth rate-limited birth: the median gap
	// (200 ms) stands, where a least-squares slope of the count would say
	// 3.6/s; the rate is the estimate stats.RateFromGapsCI's interval is for.
	paused := append(slices.Clone(births), 2000*ms)
	rate, _, ok = scaleRate(paused, 200*ms)
	if iv := stats.RateFromGapsCI(limitedBirthsS(paused, 200*ms), 0.5); !ok || math.Abs(rate-5) > 1e-9 || !(iv.Low <= rate && rate <= iv.High) {
		t.Errorf("scaleRate with a pause = %v %v (median-gap interval %+v), want 5 inside it", rate, ok, iv)
	}
	if _, _, ok := scaleRate(births, -1); ok {
		t.Error("a rate without any throttle")
	}
	if _, _, ok := scaleRate(births, 900*ms); ok {
		t.Error("a rate from fewer than 3 births")
	}
}

func TestChainRequestAndHopOverheads(t *testing.T) {
	chain := []string{"function1", "function2", "function3"}
	req := chainRequest(chain, 4)
	var names []string
	for r := req; len(r.InvokeNested) > 0; {
		names = append(names, r.InvokeNested[0].FunctionName)
		var next lab.Request
		if err := json.Unmarshal(r.InvokeNested[0].InvokePayload, &next); err != nil {
			t.Fatal(err)
		}
		r = next
	}
	if want := []string{"function2", "function3", "function1", "function2"}; !slices.Equal(names, want) {
		t.Errorf("chain %v, want %v", names, want)
	}
	// A two-level response: hop 1 took 10 ms for a callee handler of 7 ms,
	// hop 2 4 ms for 3 ms.
	leaf := &lab.Response{Depth: 2, Timing: lab.Timing{Start: 100, End: 100 + 3e6}}
	mid := &lab.Response{Depth: 1, Timing: lab.Timing{Start: 0, End: 7e6},
		Nested: []lab.NestedResult{{DurationNS: 4e6, Response: leaf}}}
	root := &lab.Response{Nested: []lab.NestedResult{{DurationNS: 10e6, Response: mid}}}
	levels, ms, ok := hopOverheads(root)
	if !ok || len(levels) != 2 || levels[0] != 1 || levels[1] != 2 || ms[0] != 3 || ms[1] != 1 {
		t.Errorf("hopOverheads = %v %v %v", levels, ms, ok)
	}
	root.Nested[0].Error = &lab.Error{Kind: lab.ErrNested}
	if _, _, ok := hopOverheads(root); ok {
		t.Error("a failed hop was not reported")
	}
}

func TestPriceCost(t *testing.T) {
	aws, err := PriceByName("aws-lambda-x86")
	if err != nil {
		t.Fatal(err)
	}
	// 1 s at 1 GB: one GB-second plus one request.
	if got, want := aws.Cost(1000, 1024), 0.0000166667+0.0000002; math.Abs(got-want) > 1e-15 {
		t.Errorf("aws 1s@1GB = %g, want %g", got, want)
	}
	// Billed 1.2 ms rounds up to 2 ms.
	if got, want := aws.Cost(1.2, 128), 0.0000002+0.0000166667*0.002*0.125; math.Abs(got-want) > 1e-15 {
		t.Errorf("aws 1.2ms@128MB = %g, want %g", got, want)
	}
	az, _ := PriceByName("azure-consumption")
	// Azure: at least 100 ms, memory rounded up to 128 MB.
	if got, want := az.Cost(20, 100), 0.0000002+0.000016*0.1*0.125; math.Abs(got-want) > 1e-15 {
		t.Errorf("azure 20ms@100MB = %g, want %g", got, want)
	}
	if _, err := PriceByName("nope"); err == nil {
		t.Error("unknown price accepted")
	}
	for _, p := range Prices {
		if p.Source == "" || p.PerGBSecondUSD <= 0 || p.PerRequestUSD <= 0 {
			t.Errorf("price %s lacks a source or a price", p.Name)
		}
	}
	if _, err := time.Parse("2006-01-02", PricesAsOf); err != nil {
		t.Errorf("PricesAsOf %q is not a date", PricesAsOf)
	}
}

func TestOffsetFromSamples(t *testing.T) {
	const off = 5e6 // function clock 5 ms ahead
	// t0 client send, t1/t2 function entry/exit (function clock), t3 receive.
	mk := func(t0, up, proc, down int64) pingSample {
		return pingSample{t0, t0 + up + off, t0 + up + off + proc, t0 + up + proc + down}
	}
	ss := []pingSample{
		mk(0, 3e6, 1e6, 9e6),   // asymmetric, delay 12 ms
		mk(1e9, 1e6, 2e6, 1e6), // symmetric, delay 2 ms: the best
		mk(2e9, 4e6, 1e6, 2e6), // delay 6 ms
	}
	o, ok := offsetFromSamples(ss)
	if !ok || o.Offset != off || o.Delay != 2e6 || o.Uncertainty != 1e6 || o.Samples != 3 {
		t.Errorf("offset %+v, want 5ms ±1ms from the 2 ms sample", o)
	}
	if got := o.ToClient(10e9 + off); got != 10e9 {
		t.Errorf("ToClient = %d", got)
	}
	// With only the asymmetric sample the error stays within half the delay.
	o, _ = offsetFromSamples(ss[:1])
	if d := o.Offset - off; d < -o.Uncertainty || d > o.Uncertainty {
		t.Errorf("offset %v outside ±%v of the truth", o.Offset, o.Uncertainty)
	}
	if _, ok := offsetFromSamples(nil); ok {
		t.Error("an offset from no samples")
	}
}

func TestEstimatesSetDropsNaN(t *testing.T) {
	e := Estimates{}
	var ee *EstimateError
	if err := e.Set("a", math.NaN()); !errors.As(err, &ee) || ee.Key != "a" {
		t.Errorf("Set(NaN) = %v", err)
	}
	if err := e.Set("b", math.Inf(1)); err == nil || !strings.Contains(err.Error(), "infinite") {
		t.Errorf("Set(+Inf) = %v", err)
	}
	if err := e.Set("", 1); err == nil {
		t.Error("Set with no key accepted")
	}
	if err := e.Set("c", 1); err != nil {
		t.Error(err)
	}
	if len(e) != 1 || e["c"] != 1 {
		t.Errorf("estimates %v", e)
	}
	if err := e.Validate(); err != nil {
		t.Error(err)
	}
	e["d"], e["a"] = math.Inf(-1), math.NaN() // around Set
	if err := e.Validate(); err == nil || !strings.Contains(err.Error(), `"a"`) || !strings.Contains(err.Error(), `"d"`) {
		t.Errorf("Validate = %v", err)
	}
}

// TestEstimatesBuilder: a statistic of no data (NaN) is absent, any other
// refusal is kept and returned with the run's error.
func TestEstimatesBuilder(t *testing.T) {
	est := newEstimates()
	est.stat("p50_ms", median(nil))
	est.set("n", 3)
	if got, err := est.result(nil); err != nil || len(got) != 1 || got["n"] != 3 {
		t.Fatalf("result = %v, %v", got, err)
	}
	est.stat("rate", math.Inf(1))
	if _, err := est.result(nil); err == nil || !strings.Contains(err.Error(), `"rate"`) {
		t.Fatalf("an infinite statistic was not reported: %v", err)
	}
}

// TestServiceMS: a sample's latency without the set-up of a connection
// opened for it; over a connection already open, the full latency.
func TestServiceMS(t *testing.T) {
	fresh := &engine.Result{Record: results.Invocation{LatencyNS: 100e6, DNSNS: 1e6, ConnectNS: 2e6, TLSNS: 30e6}}
	if got := serviceMS(fresh); got != 67 {
		t.Errorf("fresh connection: serviceMS = %v, want 67", got)
	}
	if got := connSetup(fresh); got != 33*time.Millisecond {
		t.Errorf("connSetup = %v, want 33ms", got)
	}
	reused := &engine.Result{Record: results.Invocation{LatencyNS: 100e6, ConnReused: true}}
	if got := serviceMS(reused); got != 100 {
		t.Errorf("reused connection: serviceMS = %v, want 100", got)
	}
}
