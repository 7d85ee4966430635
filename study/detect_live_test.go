package study

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/faas-benchmarker/faas-benchmarker/experiments"
	"github.com/faas-benchmarker/faas-benchmarker/internal/testtools"
	"github.com/faas-benchmarker/faas-benchmarker/localfaas"
	"github.com/faas-benchmarker/faas-benchmarker/localfaas/localfaastest"
	"github.com/faas-benchmarker/faas-benchmarker/providers/local"
	"github.com/faas-benchmarker/faas-benchmarker/results"
	"github.com/faas-benchmarker/faas-benchmarker/runner/session"
	"github.com/faas-benchmarker/faas-benchmarker/stats"
)

// Repetitions per study run of the live study tests. The cold starts get
// eight. A local cold start's Init Duration is the lab runtime's own
// start-up (fork/exec 1.4–4.8 ms, the rest Go runtime start and package
// initialisation: CPU work), so it grows with the machine's load, and on
// the shared 2-core machine at load 11–30 the per-run medians of
// init_p50_ms (12 samples) ranged over 50–224 ms within one run of this
// test (run-to-run SD 17–40 ms): the run-to-run spread is the load's drift,
// not the sampling. With 4 repetitions (6 degrees of freedom) and Holm over
// the ~20 estimates of two platforms a change is flagged beyond about 4.3
// standard errors of the difference, about 3 run-to-run SDs — too close to
// a 60 ms change (3 failures in 4 runs); 8 repetitions (14 degrees of
// freedom, critical t ≈ 3.3, standard error of the difference SD/2) flag it
// beyond about 1.7 SDs. The scaling runs are long and their rate
// estimates tight: three.
const (
	coldReps  = 8
	scaleReps = 3
)

// liveRunner runs exp on one local platform started with cfg, one real
// run per call, and returns the run's estimates.
func liveRunner(t *testing.T, cfg localfaas.Config, exp experiments.Experiment, sets map[string]string) func() map[string]float64 {
	t.Helper()
	plat := localfaastest.Start(t, cfg)
	inv, err := local.New(local.Config{Endpoint: plat.URL()})
	if err != nil {
		t.Fatal(err)
	}
	params, err := experiments.Resolve(exp, sets)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	db, err := results.Open(ctx, filepath.Join(t.TempDir(), "pool.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return func() map[string]float64 {
		o, err := session.Run(ctx, session.Config{DB: db, Experiment: exp, Params: params, Invoker: inv})
		if err != nil {
			t.Fatal(err)
		}
		if o.Status != results.StatusOK {
			t.Fatalf("%s: status %s: %v", exp.Name(), o.Status, o.Err)
		}
		return o.Estimates
	}
}

// livePools makes n[name] real runs per pool, one run at a time and the
// pools interleaved, so that no run slows another and a drift of the
// machine's load touches every pool alike.
func livePools(runners map[string]func() map[string]float64, n map[string]int) map[string][]map[string]float64 {
	out := map[string][]map[string]float64{}
	names := make([]string, 0, len(runners))
	for name := range runners {
		names = append(names, name)
	}
	slices.Sort(names)
	for more := true; more; {
		more = false
		for _, name := range names {
			if len(out[name]) < n[name] {
				out[name] = append(out[name], runners[name]())
				more = true
			}
		}
	}
	return out
}

// studyPair runs a study of the given platforms and experiment twice
// through the journal (Run, with a fake executor that stores the given
// estimates as each cell's run) and returns the change detector's flags.
// est(studyRun, platform, repetition) returns a cell's estimates.
func studyPair(t *testing.T, platforms []string, exp string, reps int, est func(studyRun int, platform string, rep int) map[string]float64) []Change {
	t.Helper()
	db := testDB(t)
	src := "name: live\nplatforms:\n"
	for _, p := range platforms {
		src += fmt.Sprintf("  - {name: %s, platform: local}\n", p)
	}
	src += fmt.Sprintf("experiments: [%s]\nrepetitions: %d\n", exp, reps)
	s, err := Parse("live.yaml", []byte(src), testVocab())
	if err != nil {
		t.Fatal(err)
	}
	f := newFake(db)
	studyRun := 0
	f.estimates = func(c Cell) map[string]float64 { return est(studyRun, c.Platform.Name, c.Repetition) }
	ctx := context.Background()
	cfg := cfgFor(t, db, s, f)
	sec := 0
	cfg.Now = func() time.Time { sec++; return time.Date(2026, 12, 1, 3, 0, sec, 0, time.UTC) }
	for studyRun = 1; studyRun <= 2; studyRun++ {
		if _, err := Run(ctx, cfg); err != nil {
			t.Fatal(err)
		}
	}
	a, err := Analyze(ctx, db, "live")
	if err != nil {
		t.Fatal(err)
	}
	return a.Changes
}

// TestStudyDetectsChangesSerial drives the change detector with real local runs
// (made once, interleaved) stored as the cells of two study runs: an init
// delay 20 ms → 80 ms on one platform flags that platform's cold start and
// init medians and nothing on the other platform or warm; two unchanged
// study runs flag nothing in at least 19 of 20 seeded pairings of the runs;
// a scale rate 2/s → 5/s flags scale_rate_per_s. No noise check skips an
// assertion: the sample counts are chosen so that the changes stand out of
// the run-to-run variation of a loaded machine.
func TestStudyDetectsChangesSerial(t *testing.T) {
	if testing.Short() {
		t.Skip("runs real experiments on the local platform")
	}
	testtools.SerialOnly(t)
	cold := map[string]string{"samples": "12", "warm": "1"}
	// The cold-start runs are made once, by the first cold subtest that
	// needs them, so that -run '/scale' does not make them.
	var pools map[string][]map[string]float64
	coldPools := func(t *testing.T) map[string][]map[string]float64 {
		if pools != nil {
			return pools
		}
		pools = livePools(map[string]func() map[string]float64{
			"cold20": liveRunner(t, localfaas.Config{ExtraInitDelay: 20 * time.Millisecond}, experiments.ColdStart{}, cold),
			"cold80": liveRunner(t, localfaas.Config{ExtraInitDelay: 80 * time.Millisecond}, experiments.ColdStart{}, cold),
		}, map[string]int{"cold20": 4*coldReps + 1, "cold80": coldReps + 1})
		// The first cold-start run on a fresh platform pays one-time costs
		// (the lab binary read from disk, the platform's first spawns): in 3
		// of 4 runs of this test on a loaded machine its median stood 15–70
		// ms above the next three runs'. It is a warm-up, not a repetition.
		pools["cold20"], pools["cold80"] = pools["cold20"][1:], pools["cold80"][1:]
		for _, name := range []string{"cold20", "cold80"} {
			for _, e := range pools[name] {
				t.Logf("%s: cold_p50_ms %s, init_p50_ms %s", name, stats.EstimateText(e, "cold_p50_ms"), stats.EstimateText(e, "init_p50_ms"))
			}
		}
		return pools
	}

	t.Run("init delay 20ms to 80ms", func(t *testing.T) {
		c20, c80 := coldPools(t)["cold20"], coldPools(t)["cold80"]
		changes := studyPair(t, []string{"a", "b"}, "cold-start", coldReps, func(sr int, p string, rep int) map[string]float64 {
			switch {
			case sr == 2 && p == "a":
				return c80[rep-1]
			case p == "a":
				return c20[rep-1]
			}
			return c20[sr*coldReps+rep-1] // b: unchanged, runs coldReps+1 … 3·coldReps
		})
		flagged := map[string]bool{}
		for _, c := range changes {
			t.Logf("flag: %s", c)
			flagged[c.Platform+" "+c.Key] = true
			// cold_minus_warm_p50_ms moves with the cold median by construction.
			if c.Platform != "a" || !slices.Contains([]string{"cold_p50_ms", "init_p50_ms", "cold_minus_warm_p50_ms"}, c.Key) {
				t.Errorf("unexpected flag %s", c)
			}
		}
		for _, k := range []string{"a cold_p50_ms", "a init_p50_ms"} {
			if !flagged[k] {
				t.Errorf("%s not flagged (flags: %v)", k, changes)
			}
		}
	})

	t.Run("no change", func(t *testing.T) {
		c20 := coldPools(t)["cold20"]
		withFlags := 0
		for seed := range uint64(20) {
			perm := rand.New(rand.NewPCG(seed, 26)).Perm(len(c20))
			changes := studyPair(t, []string{"a", "b"}, "cold-start", coldReps, func(sr int, p string, rep int) map[string]float64 {
				i := (sr-1)*2*coldReps + rep - 1
				if p == "b" {
					i += coldReps
				}
				return c20[perm[i]]
			})
			if len(changes) > 0 {
				withFlags++
				t.Logf("seed %d: %v", seed, changes)
			}
		}
		if withFlags > 1 {
			t.Errorf("%d of 20 unchanged study-run pairs flagged a change, want at most 1", withFlags)
		}
	})

	t.Run("scale rate 2/s to 5/s", func(t *testing.T) {
		scaling := map[string]string{"bursts": "", "steps": "12", "step_duration": "5s", "sleep": "500ms"}
		scaleCfg := func(rate float64) localfaas.Config {
			return localfaas.Config{ScaleBurst: 1, ScaleRate: rate, MaxInstances: 30}
		}
		scalePools := livePools(map[string]func() map[string]float64{
			"scale2": liveRunner(t, scaleCfg(2), experiments.Scaling{}, scaling),
			"scale5": liveRunner(t, scaleCfg(5), experiments.Scaling{}, scaling),
		}, map[string]int{"scale2": scaleReps, "scale5": scaleReps})
		s2, s5 := scalePools["scale2"], scalePools["scale5"]
		for _, p := range append(s2, s5...) {
			t.Logf("scale_rate_per_s %v [%v, %v]", p["scale_rate_per_s"], p["scale_rate_per_s_low"], p["scale_rate_per_s_high"])
		}
		changes := studyPair(t, []string{"a"}, "scaling", scaleReps, func(sr int, _ string, rep int) map[string]float64 {
			if sr == 1 {
				return s2[rep-1]
			}
			return s5[rep-1]
		})
		found := false
		for _, c := range changes {
			t.Logf("flag: %s", c)
			found = found || c.Key == "scale_rate_per_s"
		}
		if !found {
			t.Errorf("scale_rate_per_s not flagged: %v", changes)
		}
	})
}
