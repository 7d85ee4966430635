package experiments

import (
	"context"
	"testing"
	"time"

	"github.com/faas-benchmarker/faas-benchmarker/localfaas"
	"github.com/faas-benchmarker/faas-benchmarker/stats"
	"github.com/faas-benchmarker/faas-benchmarker/stats/survival"
)

func TestAttribute(t *testing.T) {
	s := time.Second
	lane := func() *idleLane {
		return &idleLane{instances: map[string]*heldInstance{"a": {release: 1 * s}, "b": {release: 2 * s}, "c": {release: 3 * s}}}
	}
	warm := func(id string, sent time.Duration) probeAnswer {
		return probeAnswer{ok: true, instance: id, known: true, sent: sent, received: sent + s}
	}
	cold := func(id string, sent time.Duration) probeAnswer {
		a := warm(id, sent)
		a.cold = true
		return a
	}
	tests := []struct {
		name    string
		answers []probeAnswer
		want    map[string]idleObservation // by instance
		held    int
	}{
		{"all warm: each its own gap", []probeAnswer{warm("a", 10*s), warm("b", 10*s), warm("c", 10*s)},
			map[string]idleObservation{"a": {gap: 9 * s}, "b": {gap: 8 * s}, "c": {gap: 7 * s}}, 3},
		{"an old id missing was evicted", []probeAnswer{warm("a", 10*s), cold("x", 10*s), warm("c", 10*s)},
			map[string]idleObservation{"a": {gap: 9 * s}, "b": {gap: 8 * s, evicted: true}, "c": {gap: 7 * s}}, 3},
		// Unknown ids stay held (their idle period continues).
		{"incomplete burst: missing ids unknown", []probeAnswer{warm("a", 10*s), {ok: false, sent: 10 * s}, warm("c", 10*s)},
			map[string]idleObservation{"a": {gap: 9 * s}, "c": {gap: 7 * s}}, 3},
		{"one instance served two: missing ids unknown", []probeAnswer{warm("a", 10*s), warm("a", 10*s), warm("c", 10*s)},
			map[string]idleObservation{"a": {gap: 9 * s}, "c": {gap: 7 * s}}, 3},
		// A burst that asked fewer than the lane holds: a missing id is
		// evicted only if the burst started a new instance.
		{"asked fewer, no new instance: missing ids unknown", []probeAnswer{warm("a", 10*s), warm("c", 10*s)},
			map[string]idleObservation{"a": {gap: 9 * s}, "c": {gap: 7 * s}}, 3},
		{"asked fewer, a new instance: missing ids evicted", []probeAnswer{warm("a", 10*s), cold("x", 10*s)},
			map[string]idleObservation{"a": {gap: 9 * s}, "b": {gap: 8 * s, evicted: true}, "c": {gap: 7 * s, evicted: true}}, 2},
		// Every instance is observed as of the burst's first send, warm or
		// evicted: an instant that depended on the outcome would order a
		// burst's ties by it.
		{"sends spread: all as of the first send", []probeAnswer{warm("c", 11*s), cold("x", 12*s), warm("a", 10*s)},
			map[string]idleObservation{"a": {gap: 9 * s}, "b": {gap: 8 * s, evicted: true}, "c": {gap: 7 * s}}, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := lane()
			obs := attribute(l, &burstResult{answers: tt.answers}, 3)
			if len(obs) != len(tt.want) {
				t.Fatalf("observations %+v, want %v", obs, tt.want)
			}
			for _, o := range obs {
				w, ok := tt.want[o.instance]
				if !ok || w.gap != o.gap || w.evicted != o.evicted {
					t.Errorf("observation %+v, want %+v", o, w)
				}
			}
			if len(l.instances) != tt.held {
				t.Errorf("lane holds %d instances, want %d", len(l.instances), tt.held)
			}
		})
	}
}

// TestInFlight: the in-flight time of an answer leaves out the platform's
// REPORT duration where it is known (the runtime's own work is not in
// flight), else the handler time.
func TestInFlight(t *testing.T) {
	ms := time.Millisecond
	for _, tc := range []struct {
		name string
		a    probeAnswer
		want time.Duration
		ok   bool
	}{
		{"report known", probeAnswer{sent: 0, received: 200 * ms, handler: 150 * ms, invoked: 170 * ms}, 30 * ms, true},
		{"handler only", probeAnswer{sent: 0, received: 200 * ms, handler: 150 * ms}, 50 * ms, true},
		{"neither", probeAnswer{sent: 0, received: 200 * ms}, 0, false},
	} {
		if got, ok := tc.a.inFlight(); got != tc.want || ok != tc.ok {
			t.Errorf("%s: inFlight = %v, %v; want %v, %v", tc.name, got, ok, tc.want, tc.ok)
		}
	}
}

// TestBurstSize: a burst asks `instances` more than the held instances
// expected to be warm (plus two standard deviations and one), all of them
// without a fit; so a lane whose instances are all past the fitted
// eviction times asks instances + 1, not instances + all it holds (which
// made every lane's pool grow by `instances` per burst).
func TestBurstSize(t *testing.T) {
	s := time.Second
	l := &idleLane{instances: map[string]*heldInstance{}}
	for i := range 12 {
		l.instances[string(rune('a'+i))] = &heldInstance{release: s}
	}
	var obs []survival.Observation
	for g := 1.0; g <= 20; g++ {
		for range 3 {
			obs = append(obs, survival.Observation{Gap: g, Event: g > 5})
		}
	}
	fit, err := survival.FitCurrentStatus(obs)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		gap  time.Duration
		fit  *survival.CurrentStatus
		want int
	}{
		{10 * s, nil, 12 + 3}, // no fit: ask all
		{10 * s, fit, 1 + 3},  // all past the timeout: none expected warm
		{2 * s, fit, 12 + 3},  // none evicted yet: all expected warm
	} {
		if got := l.burstSize(3, c.gap, c.fit, false); got != c.want {
			t.Errorf("gap %v, fit %v: burst of %d, want %d", c.gap, c.fit != nil, got, c.want)
		}
	}

	// 30 % never evicted, the rest at 5 s; the 12 held instances all
	// survived 10 s before. Sized for new instances, a burst at 10 s
	// expects 3.6 of them warm and asks ⌈3.6 + 2√3.6 + 1⌉ = 9 of the 12
	// (the 3 it does not reach are observed later, and only if evicted,
	// see burstSize); sized for persistent eviction times all 12 are
	// certain, at 12 s too (F̂ flat from 10 s).
	obs = obs[:0]
	for g := 1.0; g <= 20; g++ {
		for i := range 10 {
			obs = append(obs, survival.Observation{Gap: g, Event: g > 5 && i < 7})
		}
	}
	never, err := survival.FitCurrentStatus(obs)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range l.instances {
		h.survived = 10 * s
	}
	for _, c := range []struct {
		gap        time.Duration
		persistent bool
		want       int
	}{
		{10 * s, false, 9 + 3},
		{10 * s, true, 12 + 3},
		{12 * s, true, 12 + 3},
	} {
		if got := l.burstSize(3, c.gap, never, c.persistent); got != c.want {
			t.Errorf("30 %% never evicted, gap %v, persistent %v: burst of %d, want %d", c.gap, c.persistent, got, c.want)
		}
	}
	// Survived only 2 s (before any eviction): persistence changes
	// nothing, 1 − F̂(10 s) = 0.3 each.
	for _, h := range l.instances {
		h.survived = 2 * s
	}
	if got := l.burstSize(3, 10*s, never, true); got != 9+3 {
		t.Errorf("survived 2 s, persistent: burst of %d, want %d", got, 9+3)
	}
}

// TestPersistentEvidence: bursts are sized for persistent eviction times
// only once the rechecks' expected evictions under redrawn ones reach
// persistentEvidence with none evicted.
func TestPersistentEvidence(t *testing.T) {
	var obs []survival.Observation
	for g := 1.0; g <= 20; g++ {
		for range 4 {
			obs = append(obs, survival.Observation{Gap: g, Event: g > 10})
		}
	}
	fit, err := survival.FitCurrentStatus(obs)
	if err != nil {
		t.Fatal(err)
	}
	at := func(n int, g float64) []float64 {
		r := make([]float64, n)
		for i := range r {
			r[i] = g
		}
		return r
	}
	for _, c := range []struct {
		name         string
		fit          *survival.CurrentStatus
		rechecks     []float64
		contradicted bool
		want         bool
	}{
		{"no fit", nil, at(20, 15), false, false},
		{"rechecks where nothing is evicted", fit, at(20, 5), false, false},
		{"7 expected", fit, at(7, 15), false, false},
		{"8 expected", fit, at(8, 15), false, true},
		{"one evicted", fit, at(20, 15), true, false},
	} {
		if got := (&recheckLog{idles: c.rechecks, contradicted: c.contradicted}).persistent(c.fit); got != c.want {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}

// TestPlannerBudgets: the design stops on max_probes, on max_time and
// when every lane is full, and says so.
func TestPlannerBudgets(t *testing.T) {
	for _, c := range []struct {
		sets map[string]string
		want string
	}{
		{map[string]string{"max_probes": "30", "precision": "0.001"}, stopProbes},
		{map[string]string{"max_time": "40s", "precision": "0.001"}, stopTime},
		{nil, stopPrecision},
		// Never evicted: the lanes fill with warm instances before a
		// budget ends (an empty reason before stopHeld existed).
		{map[string]string{"max_probes": "100000", "max_time": "1000h", "precision": "0.001"}, stopHeld},
	} {
		d := simDesign(t, c.sets)
		timeout := 10 * time.Second
		if c.want == stopHeld {
			timeout = 0
		}
		run, err := runIdleDesign(context.Background(), newSimEnv(localfaas.Eviction{Timeout: timeout, Fraction: 1}, 1), d, nil)
		if err != nil {
			t.Fatal(err)
		}
		if run.reason != c.want {
			t.Errorf("%v: stopped on %q, want %q", c.sets, run.reason, c.want)
		}
		if run.probes > d.maxProbes || run.elapsed > d.maxTime+d.maxGap {
			t.Errorf("%v: spent %d probes in %v", c.sets, run.probes, run.elapsed)
		}
	}
}

func TestIdleParamsRefused(t *testing.T) {
	for _, sets := range []map[string]string{
		{"min_gap": "0s"}, {"min_gap": "-1s"}, {"min_gap": "5s", "max_gap": "1s"}, {"precision": "0"}, {"precision": "1"},
		{"max_probes": "0"}, {"max_time": "0s"}, {"factor": "1"}, {"instances": "0"}, {"stagger": "2"}, {"level": "1"},
	} {
		if _, err := Resolve(IdleTimeout{}, sets); err == nil {
			t.Errorf("Resolve accepted %v", sets)
		}
	}
}

// TestFlatMedianIsARange: a median on a plateau is stored as its interval
// alone, flagged; otherwise with its value.
func TestFlatMedianIsARange(t *testing.T) {
	for _, flat := range []bool{true, false} {
		est := newEstimates()
		putIdleEstimates(est, idleEstimates{median: survival.Estimate{Value: 3, Low: 2, High: 4, LowFound: true, HighFound: true}, medianFlat: flat})
		_, hasValue := est.Estimates[KeyIdleTimeout]
		_, flagged := est.Estimates[KeyIdleMedianFlat]
		if hasValue == flat || flagged != flat || est.Estimates[KeyIdleTimeout+stats.SuffixLow] != 2 || est.Estimates[KeyIdleTimeout+stats.SuffixHigh] != 4 {
			t.Errorf("flat %v: estimates %v", flat, est.Estimates)
		}
	}
}
