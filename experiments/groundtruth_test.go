package experiments_test

// Ground-truth validation: each test configures the embedded local platform
// with known behaviour (idle timeout, lifetime, concurrency limit, scale-out
// rate, init delay) and checks that the experiment's estimate recovers it.
// Tolerances follow from each method's resolution, stated next to each
// assertion; none depends on how fast this machine happens to be.

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/faas-benchmarker/faas-benchmarker/engine"
	"github.com/faas-benchmarker/faas-benchmarker/experiments"
	"github.com/faas-benchmarker/faas-benchmarker/localfaas"
	"github.com/faas-benchmarker/faas-benchmarker/localfaas/localfaastest"
	localplatform "github.com/faas-benchmarker/faas-benchmarker/platforms/local"
	"github.com/faas-benchmarker/faas-benchmarker/providers/local"
	"github.com/faas-benchmarker/faas-benchmarker/results"
	"github.com/faas-benchmarker/faas-benchmarker/runner/session"
	"github.com/faas-benchmarker/faas-benchmarker/stats"
)

// outcome is one experiment run on a local platform.
type outcome struct {
	est  experiments.Estimates
	plat *localfaas.Platform
	db   *results.DB
	run  string
}

// runOn runs exp on an already started platform and fails t unless the run
// ended ok.
func runOn(t testing.TB, plat *localfaas.Platform, exp experiments.Experiment, sets map[string]string) outcome {
	t.Helper()
	params, err := experiments.Resolve(exp, sets)
	if err != nil {
		t.Fatal(err)
	}
	inv, err := local.New(local.Config{Endpoint: plat.URL()})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	db, err := results.Open(ctx, filepath.Join(t.TempDir(), "results.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	// The engine offers what the local platform declares (its price too).
	desc := localplatform.Platform()
	ecfg := engine.Config{Capabilities: desc.Caps(), Pricing: desc.Pricing}
	out, err := session.Run(ctx, session.Config{DB: db, Experiment: exp, Params: params, Invoker: inv, Engine: ecfg})
	if err != nil {
		t.Fatal(err)
	}
	if out.Status != results.StatusOK {
		t.Fatalf("%s: status %s: %v (estimates %v)", exp.Name(), out.Status, out.Err, out.Estimates)
	}
	t.Logf("%s estimates: %v", exp.Name(), out.Estimates)
	checkReportContract(t, db, exp, out.RunID)
	return outcome{est: out.Estimates, plat: plat, db: db, run: out.RunID}
}

// checkReportContract fails t when a run lacks a metric its experiment's
// report sections draw: a renamed or dropped metric would otherwise make
// the section vanish silently. The estimates a section marks are checked
// over all the runs of a test (markCheck): one run may rightly produce
// neither an estimate nor a bound of it (a median the data cannot bound on
// either side under heavy load).
func checkReportContract(t testing.TB, db *results.DB, exp experiments.Experiment, run string) {
	t.Helper()
	r, ok := exp.(experiments.Reporter)
	if !ok {
		return
	}
	for _, sec := range r.ReportSections() {
		for _, f := range sec.Figures {
			for _, name := range []string{f.Metric, f.Dropped} {
				if name == "" {
					continue
				}
				ms, err := db.Metrics(context.Background(), run, name)
				if err != nil {
					t.Fatal(err)
				}
				if len(ms) == 0 {
					t.Errorf("%s: report section %s draws metric %s, which the run did not record", exp.Name(), sec.ID, name)
				}
				for _, m := range ms {
					if _, ok := m.Tags[f.Tag]; f.Tag != "" && !ok {
						t.Errorf("%s: metric %s lacks tag %s that section %s draws", exp.Name(), name, f.Tag, sec.ID)
						break
					}
				}
			}
		}
	}
}

// markCheck checks, over the runs of one test, that every estimate the
// experiment's report sections mark was produced — as a value or a bound —
// by at least one run: a renamed or dropped estimate is missing from all.
type markCheck struct {
	mu   sync.Mutex
	seen map[string]bool
}

// newMarkCheck returns a markCheck for exp whose verdict t reports when it
// ends (after its parallel subtests).
func newMarkCheck(t *testing.T, exp experiments.Experiment) *markCheck {
	m := &markCheck{seen: map[string]bool{}}
	r, ok := exp.(experiments.Reporter)
	if !ok {
		return m
	}
	t.Cleanup(func() {
		if t.Failed() && len(m.seen) == 0 {
			return // no run finished: nothing to judge
		}
		for _, sec := range r.ReportSections() {
			for _, f := range sec.Figures {
				for _, mk := range f.Marks {
					if !m.seen[mk.Key] {
						t.Errorf("%s: report section %s draws estimate %s, which no run produced (neither it nor a bound)", exp.Name(), sec.ID, mk.Key)
					}
				}
			}
		}
	})
	return m
}

// saw records the estimates of one run.
func (m *markCheck) saw(est experiments.Estimates) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for k := range est {
		m.seen[stats.BaseKey(k)] = true
	}
}

// runLocal starts a platform with cfg (zero knobs take the defaults) and
// runs exp on it.
func runLocal(t *testing.T, cfg localfaas.Config, exp experiments.Experiment, sets map[string]string) outcome {
	t.Helper()
	return runOn(t, localfaastest.Start(t, cfg), exp, sets)
}

// need returns est[key] or fails t when the estimate is missing.
func need(t *testing.T, est experiments.Estimates, key string) float64 {
	t.Helper()
	v, ok := est[key]
	if !ok {
		t.Fatalf("estimate %s missing (have %v)", key, est)
	}
	return v
}

func TestColdStartGroundTruth(t *testing.T) {
	const delay = 150 * time.Millisecond
	o := runLocal(t, localfaas.Config{ExtraInitDelay: delay}, experiments.ColdStart{},
		map[string]string{"samples": "5", "warm": "2"})
	// Forced cold starts: every cold-phase sample is cold by both signals,
	// every warm one warm, and the signals agree everywhere.
	for key, want := range map[string]float64{"cold_fraction_flag": 1, "cold_fraction_platform": 1,
		"cold_agreement": 1, "warm_cold_fraction": 0, "samples": 5} {
		if got := need(t, o.est, key); got != want {
			t.Errorf("%s = %v, want %v", key, got, want)
		}
	}
	// The init delay is part of every cold start and of no warm one.
	if d := need(t, o.est, "cold_minus_warm_p50_ms"); d < float64(delay.Milliseconds()) {
		t.Errorf("cold−warm median %.1f ms < the configured extra init delay %v", d, delay)
	}
	if d := need(t, o.est, "init_p50_ms"); d < float64(delay.Milliseconds()) {
		t.Errorf("platform init median %.1f ms < %v", d, delay)
	}
	// Both signals and their agreement are stored per sample.
	ms, err := o.db.Metrics(context.Background(), o.run, "cold_signal_agreement")
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 15 {
		t.Errorf("%d cold_signal_agreement metrics, want 15 (5 cold + 10 warm)", len(ms))
	}
	for _, m := range ms {
		if m.Value != 1 || (m.Phase == "cold") != (m.Tags["flag"] == "true") {
			t.Errorf("sample %+v: signals disagree or do not match the phase", m)
		}
	}
	// Ground truth: exactly one instance was created per forced cold start.
	if n := localfaastest.CountEvents(o.plat, "function1", localfaas.EventCreated, false); n != 5 {
		t.Errorf("platform created %d instances of function1, want 5", n)
	}

	t.Run("burst", func(t *testing.T) {
		o := runLocal(t, localfaas.Config{}, experiments.ColdStart{},
			map[string]string{"samples": "2", "warm": "0", "concurrency": "3"})
		if got := need(t, o.est, "cold_fraction_flag"); got != 1 {
			t.Errorf("cold_fraction_flag = %v under a burst, want 1", got)
		}
		if got := need(t, o.est, "samples"); got != 6 {
			t.Errorf("samples = %v, want 6", got)
		}
		if n := localfaastest.CountEvents(o.plat, "function1", localfaas.EventInvoked, true); n != 6 {
			t.Errorf("platform saw %d cold invocations, want 6", n)
		}
	})
	t.Run("memory sweep", func(t *testing.T) {
		o := runLocal(t, localfaas.Config{}, experiments.ColdStart{},
			map[string]string{"samples": "2", "warm": "1", "memory": "256,1024"})
		for _, mb := range []int{256, 1024} {
			if got := need(t, o.est, fmt.Sprintf("cold_fraction_flag_%dmb", mb)); got != 1 {
				t.Errorf("%d MB: cold_fraction_flag = %v, want 1", mb, got)
			}
		}
		if need(t, o.est, "samples") != need(t, o.est, "samples_256mb") {
			t.Error("unsuffixed estimates do not describe the first size")
		}
		// The platform reports the memory size each phase ran with.
		invs, err := o.db.Invocations(context.Background(), o.run)
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]int{}
		for _, v := range invs {
			if v.Report == nil {
				t.Fatalf("invocation %d has no platform report", v.Seq)
			}
			if want := strings.TrimSuffix(v.Phase[strings.Index(v.Phase, "/")+1:], "MB"); fmt.Sprint(v.Report.MemorySizeMB) != want {
				t.Errorf("phase %s ran with %d MB", v.Phase, v.Report.MemorySizeMB)
			}
			seen[v.Phase]++
		}
		if seen["cold/256MB"] != 2 || seen["warm/1024MB"] != 2 {
			t.Errorf("phases = %v", seen)
		}
		if ms, _ := o.db.Metrics(context.Background(), o.run, "memory_mb"); len(ms) != 2 {
			t.Errorf("%d memory_mb metrics, want 2", len(ms))
		}
	})
	t.Run("nested", func(t *testing.T) {
		o := runLocal(t, localfaas.Config{ExtraInitDelay: delay}, experiments.ColdStart{},
			map[string]string{"samples": "3", "warm": "1", "nested": "true"})
		if got := need(t, o.est, "nested_cold_fraction_flag"); got != 1 {
			t.Errorf("nested_cold_fraction_flag = %v, want 1", got)
		}
		if d := need(t, o.est, "cold_minus_warm_p50_ms"); d < float64(delay.Milliseconds()) {
			t.Errorf("callee cold−warm %.1f ms < %v", d, delay)
		}
		if n := localfaastest.CountEvents(o.plat, "function2", localfaas.EventInvoked, true); n != 3 {
			t.Errorf("callee cold starts = %d, want 3", n)
		}
	})
}

// idleSlack is how far the platform's idle time may differ from what the
// estimates assume: the platform evicts at the exact deadline (a timer, not
// a polling reaper), and a probe's idle time as the platform sees it
// (release to acquire) differs from the client's gap plus the estimated
// round trip by scheduling delays, a millisecond when idle and tens of ms
// on a loaded 2-core machine.
const idleSlack = 0.05

// idleCase is one eviction model of the live ground-truth test.
type idleCase struct {
	name string
	cfg  localfaas.Config
	sets map[string]string
}

// idleCases are the live models, with timeouts shortened so each run takes
// tens of seconds. The spread models are checked at level 0.999: every
// reported interval must contain the truth, and with four spread runs of
// three intervals each at a per-interval miss probability of at most 0.1 %
// (the simulated coverage at level 0.95 is at or above nominal, see
// TestIdleTimeoutCoverage), a false failure has a probability below about
// 1 % — dominated by the four medians, 0.4 %. The sharp model is checked at
// the default 0.95: its intervals cannot miss (every observation below T is
// warm and above it cold).
func idleCases() []idleCase {
	ms := time.Millisecond
	spread := map[string]string{"min_gap": "200ms", "max_gap": "3200ms", "precision": "0.1", "level": "0.999",
		"probe_sleep": "150ms", "max_stagger": "1s", "max_time": "40s", "max_probes": "300"}
	with := func(extra map[string]string) map[string]string {
		out := map[string]string{}
		for k, v := range spread {
			out[k] = v
		}
		for k, v := range extra {
			out[k] = v
		}
		return out
	}
	return []idleCase{
		{"sharp 1.2 s", localfaas.Config{IdleTimeout: 1200 * ms, Seed: 1}, map[string]string{
			"min_gap": "200ms", "max_gap": "3200ms", "precision": "0.05", "probe_sleep": "150ms", "max_stagger": "1s"}},
		{"uniform jitter [0.8 s, 2 s]", localfaas.Config{IdleTimeout: 800 * ms, IdleJitter: 1200 * ms, Seed: 2}, spread},
		{"partial eviction 0.5, T 0.6 s", localfaas.Config{IdleTimeout: 600 * ms, IdleEvictFraction: 0.5, Seed: 3},
			with(map[string]string{"max_gap": "4s", "max_time": "30s"})},
		{"sweep 1 s, T 1 s", localfaas.Config{IdleTimeout: time.Second, IdleSweep: time.Second, Seed: 4}, spread},
		{"sweep 0.8 s + jitter 0.4 s, T 0.8 s", localfaas.Config{IdleTimeout: 800 * ms, IdleJitter: 400 * ms, IdleSweep: 800 * ms, Seed: 5}, spread},
		// --local-idle-sweep with a phase, and --local-idle-persistent.
		{"sweep 1.6 s phase 0.7 s, T 1 s", localfaas.Config{IdleTimeout: time.Second, IdleSweep: 1600 * ms, IdleSweepPhase: 700 * ms, Seed: 6}, spread},
		{"persistent uniform [0.8 s, 2 s]", localfaas.Config{IdleTimeout: 800 * ms, IdleJitter: 1200 * ms, IdlePersistent: true, Seed: 7}, spread},
	}
}

// TestIdleTimeoutGroundTruth runs idle-timeout on the embedded platform
// under every eviction model and checks that every reported interval
// contains the configured truth (docs/local-platform.md gives the
// distributions; localfaas.Eviction computes them).
func TestIdleTimeoutGroundTruth(t *testing.T) {
	marks := newMarkCheck(t, experiments.IdleTimeout{})
	for _, c := range idleCases() {
		t.Run(c.name, func(t *testing.T) {
			if !strings.HasPrefix(c.name, "sharp") {
				t.Parallel()
			}
			o := runLocal(t, c.cfg, experiments.IdleTimeout{}, c.sets)
			marks.saw(o.est)
			e := c.cfg.Eviction()
			if e.Fraction == 0 {
				e.Fraction = 1
			}
			checkIdleEstimates(t, o, e)
		})
	}
}

// contains reports whether the reported interval of key (an absent end is
// unbounded) meets [lo, hi] within idleSlack.
func contains(est experiments.Estimates, key string, lo, hi float64) (float64, float64, bool) {
	l, h := est[key+"_low"], math.Inf(1)
	if v, ok := est[key+"_high"]; ok {
		h = v
	}
	return l, h, l <= hi+idleSlack && lo-idleSlack <= h
}

func checkIdleEstimates(t *testing.T, o outcome, e localfaas.Eviction) {
	t.Helper()
	mLo, mHi := e.Quantile(0.5), e.QuantileUpper(0.5)
	t.Logf("truth: median [%.3f, %.3f], 5%% %.3f, 95%% %.3f", mLo, mHi, e.Quantile(0.05), e.Quantile(0.95))
	for _, k := range []struct {
		key    string
		lo, hi float64
	}{
		{experiments.KeyIdleTimeout, mLo, mHi},
		{experiments.KeyIdleWarm, e.Quantile(0.05), e.Quantile(0.05)},
		{experiments.KeyIdleCold, e.Quantile(0.95), e.Quantile(0.95)},
	} {
		// An absent end is unbounded (a value is reported only with both).
		if l, h, ok := contains(o.est, k.key, k.lo, k.hi); !ok {
			t.Errorf("%s interval [%.3f, %.3f] misses the truth [%.3f, %.3f] (±%.2f)", k.key, l, h, k.lo, k.hi, idleSlack)
		}
	}
	if e.Jitter == 0 && e.Sweep == 0 && e.Fraction >= 1 {
		// Sharp: at least as good as the bisection it replaced (1.229 s
		// [1.204, 1.254] for 1.2 s): within 5 %, and the interval is
		// bounded and within ±10 % — beyond the run's resolution, the
		// uncertainty of each observation's idle time that the run
		// measures and widens its intervals by (milliseconds on a quiet
		// machine; hundreds of ms at a load of 20 on 2 cores).
		T := e.Timeout.Seconds()
		res := need(t, o.est, experiments.KeyIdleResolution) / 1000
		med := need(t, o.est, experiments.KeyIdleTimeout)
		if math.Abs(med-T) > 0.05*T+res {
			t.Errorf("idle_timeout_s = %.3f, truth %.3f: off by more than 5%% + the resolution %.3f", med, T, res)
		}
		lk, hk := stats.IntervalKeys(experiments.KeyIdleTimeout)
		lo, hi := need(t, o.est, lk), need(t, o.est, hk)
		if lo < 0.9*T-res || hi > 1.1*T+res {
			t.Errorf("sharp interval [%.3f, %.3f] wider than ±10%% of %.3f + the resolution %.3f", lo, hi, T, res)
		}
		// Whether the ±5 % precision is reached within the budget depends
		// on the machine (the resolution, how the probes land): a claim
		// about efficiency, asserted in the simulation (sharp timeouts
		// reach it in ≥ 95 % of runs, TestIdleTimeoutCoverage), only
		// noted here. Under load it was missed with a ±5.2 % interval.
		if need(t, o.est, experiments.KeyIdlePrecisionReached) != 1 {
			t.Logf("precision not reached on a sharp timeout at a resolution of %.3f s (a budget ended the run)", res)
		}
	}
	// Every observation is stored: one idle_probe metric each.
	ms, err := o.db.Metrics(context.Background(), o.run, experiments.MetricIdleProbe)
	if err != nil {
		t.Fatal(err)
	}
	if float64(len(ms)) != need(t, o.est, experiments.KeyIdleObservations) || len(ms) == 0 {
		t.Errorf("%d idle_probe metrics for %v observations", len(ms), o.est[experiments.KeyIdleObservations])
	}
	for _, m := range ms {
		if m.Tags["gap_s"] == "" || m.Tags["instance"] == "" || m.Tags["lane"] == "" || (m.Value != 0 && m.Value != 1) {
			t.Fatalf("bad idle_probe metric %+v", m)
		}
	}
	// Ground truth: the platform did evict idle instances.
	n := 0
	for _, ev := range o.plat.Events() {
		if ev.Kind == localfaas.EventEvicted && ev.Reason == localfaas.ReasonIdle {
			n++
		}
	}
	if n == 0 {
		t.Error("the platform evicted no idle instance")
	}
}

// TestInstanceLifetimeGroundTruth: with and without lifetime jitter, the
// median lifetime's and the 5% point's intervals contain the truth. The
// platform retires an instance at its lifetime when it is idle then, or at
// the first release after it, so an observed lifetime exceeds the knob by at
// most one invocation; the brackets are one period wide. The intervals are
// at level 0.95 and the simulated coverage (TestLifetimeCoverage) is above
// 97 %, so a false failure of these four intervals has a probability of a
// few percent at most; with brackets this narrow and sharp lifetimes it is
// far below that (both checks are of a near-deterministic interval).
func TestInstanceLifetimeGroundTruth(t *testing.T) {
	const period = 50 * time.Millisecond
	marks := newMarkCheck(t, experiments.InstanceLifetime{})
	for _, c := range []struct {
		name     string
		life     time.Duration
		jitter   time.Duration
		recycles string
	}{
		{"sharp 1 s", time.Second, 0, "6"},
		{"1 s + jitter 0.5 s", time.Second, 500 * time.Millisecond, "10"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			cfg := localfaas.Config{MaxLifetime: c.life, MaxLifetimeJitter: c.jitter, IdleTimeout: time.Minute}
			o := runLocal(t, cfg, experiments.InstanceLifetime{},
				map[string]string{"period": period.String(), "duration": "30s", "max_recycles": c.recycles})
			marks.saw(o.est)
			if got := need(t, o.est, experiments.KeyRecycles); got != mustFloat(t, c.recycles) {
				t.Errorf("recycles = %v, want %s", got, c.recycles)
			}
			L, J := c.life.Seconds(), c.jitter.Seconds()
			slack := (period + 30*time.Millisecond).Seconds()
			// The resolution of the design: each lifetime is known only
			// to its bracket (one period, a round trip and the first and
			// the next cold start: hundreds of ms on a loaded machine,
			// against a 1 s lifetime), and a point estimate is a bracket's
			// middle, so it may be off by half the widest bracket on top
			// of the sampling error.
			ms, err := o.db.Metrics(context.Background(), o.run, experiments.MetricInstanceLifetime)
			if err != nil {
				t.Fatal(err)
			}
			halfWidth := 0.0
			for _, m := range ms {
				halfWidth = max(halfWidth, (mustFloat(t, m.Tags["high_s"])-mustFloat(t, m.Tags["low_s"]))/2)
			}
			for _, k := range []struct {
				key   string
				truth float64
			}{{experiments.KeyLifetime, L + J/2}, {experiments.KeyLifetimeP5, L + 0.05*J}} {
				est := need(t, o.est, k.key)
				lo := need(t, o.est, k.key+"_low")
				hi, ok := o.est[k.key+"_high"]
				if !ok {
					hi = math.Inf(1)
				}
				if lo > k.truth+slack || hi < k.truth {
					t.Errorf("%s interval [%.3f, %.3f] does not contain the truth %.3f", k.key, lo, hi, k.truth)
				}
				if math.Abs(est-k.truth) > 0.15*k.truth+halfWidth {
					t.Errorf("%s = %.3f, truth %.3f: off by more than 15%% + half the widest bracket (%.3f s)", k.key, est, k.truth, halfWidth)
				}
			}
			// Ground truth: the recycled instances were evicted for their lifetime.
			n := 0
			for _, e := range o.plat.Events() {
				if e.Kind == localfaas.EventEvicted && e.Reason == localfaas.ReasonLifetime {
					n++
				}
			}
			if float64(n) < mustFloat(t, c.recycles) {
				t.Errorf("platform evicted %d instances for lifetime, want >= %s", n, c.recycles)
			}
		})
	}
}

func mustFloat(t *testing.T, s string) float64 {
	t.Helper()
	var v float64
	if _, err := fmt.Sscan(s, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

func checkScaling(t *testing.T, maxInst, burst int, rate float64) {
	t.Helper()
	demand := maxInst + 4
	o := runLocal(t, localfaas.Config{MaxInstances: maxInst, ScaleBurst: burst, ScaleRate: rate, IdleTimeout: time.Minute},
		experiments.Scaling{}, map[string]string{
			"bursts": fmt.Sprint(burst + 1), "steps": fmt.Sprint(demand), "sleep": "500ms", "backoff": "50ms",
			// long enough for (maxInst-burst)/rate of rate-limited births plus 2.5 s at the limit
			"step_duration": (time.Duration(float64(maxInst-burst)/rate*float64(time.Second)) + 2500*time.Millisecond).String(),
		})
	if got := need(t, o.est, "max_instances"); got != float64(maxInst) {
		t.Errorf("max_instances = %v, truth %d", got, maxInst)
	}
	// Demand exceeded the limit for 2.5 s after the last instance.
	if got := need(t, o.est, "limit_reached"); got != 1 {
		t.Errorf("limit_reached = %v, want 1", got)
	}
	// A burst of burst+1 from zero gets the bucket's burst, plus the tokens
	// that refilled while its sends were spread out (a loaded machine can
	// spread a barrier burst over hundreds of ms; the engine records it).
	spread := 0.0
	sp, err := o.db.Metrics(context.Background(), o.run, "send_spread_ms")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range sp {
		if strings.HasPrefix(m.Phase, "burst-") {
			spread = max(spread, m.Value/1000)
		}
	}
	if got, extra := need(t, o.est, "burst_max_instances"), math.Ceil(spread*rate); got < float64(burst) || got > float64(burst)+extra {
		t.Errorf("burst_max_instances = %v, truth %d (+%v refilled during a %.0f ms send spread)", got, burst, extra, spread*1000)
	}
	// The platform's event log says when it actually created the step
	// load's instances. The estimator must recover that realised rate; and
	// the realised rate is the configured one unless this machine starved
	// the platform of requests (a load average far above the core count),
	// which the test reports instead of blaming the estimator.
	got := need(t, o.est, "scale_rate_per_s")
	realised, ok := platformScaleRate(o.plat, "function2", maxInst)
	if !ok {
		t.Fatalf("the platform created too few instances under rate limit to check the rate")
	}
	if math.Abs(got-realised) > 0.2*realised {
		t.Errorf("scale_rate_per_s = %.2f, the platform created instances at %.2f/s: off by more than 20%%", got, realised)
	}
	switch {
	case math.Abs(realised-rate) <= 0.2*rate:
		if math.Abs(got-rate) > 0.2*rate {
			t.Errorf("scale_rate_per_s = %.2f, truth %.2f: off by more than 20%%", got, rate)
		}
	default:
		t.Logf("the starved platform realised %.2f/s instead of its configured %.2f/s (estimate %.2f/s)", realised, rate, got)
	}
	// Every throttle the client counted is one the platform issued.
	if got, want := need(t, o.est, "throttled"), localfaastest.CountEvents(o.plat, "function2", localfaas.EventThrottled, false); got != float64(want) || want == 0 {
		t.Errorf("throttled = %v, platform throttled %d", got, want)
	}
}

// platformScaleRate is the least-squares rate of the platform's own
// creation events of the step load (its last maxInst creations) from the
// first one after a throttle on: the rate-limited births, as the platform
// logged them.
func platformScaleRate(p *localfaas.Platform, fn string, maxInst int) (float64, bool) {
	var created []time.Time
	var throttles []time.Time
	for _, e := range p.Events() {
		if e.Function != fn {
			continue
		}
		switch e.Kind {
		case localfaas.EventCreated:
			created = append(created, e.Time)
		case localfaas.EventThrottled:
			throttles = append(throttles, e.Time)
		}
	}
	if len(created) < maxInst {
		return 0, false
	}
	step := created[len(created)-maxInst:]
	var first time.Time
	for _, th := range throttles {
		if !th.Before(step[0]) {
			first = th
			break
		}
	}
	var xs []float64
	for _, c := range step {
		if !first.IsZero() && c.After(first) {
			xs = append(xs, c.Sub(step[0]).Seconds())
		}
	}
	n := float64(len(xs))
	if n < 3 {
		return 0, false
	}
	var mt, mk, cov, vt float64
	for k, x := range xs {
		mt += x
		mk += float64(k)
	}
	mt, mk = mt/n, mk/n
	for k, x := range xs {
		cov += (x - mt) * (float64(k) - mk)
		vt += (x - mt) * (x - mt)
	}
	return cov / vt, vt > 0
}

func TestScalingGroundTruth(t *testing.T) {
	checkScaling(t, 12, 2, 3)

	t.Run("below the limit", func(t *testing.T) {
		o := runLocal(t, localfaas.Config{MaxInstances: 20, ScaleBurst: 20, IdleTimeout: time.Minute}, experiments.Scaling{},
			map[string]string{"bursts": "", "steps": "4", "step_duration": "1500ms", "sleep": "300ms"})
		if got := need(t, o.est, "limit_reached"); got != 0 {
			t.Errorf("limit_reached = %v with demand 4 below the limit 20", got)
		}
		if got := need(t, o.est, "throttled"); got != 0 {
			t.Errorf("throttled = %v below every limit", got)
		}
		if _, ok := o.est["scale_rate_per_s"]; ok {
			t.Errorf("a scale rate without any rate limiting: %v", o.est)
		}
	})
}

// TestScalingProperty: random limits and rates are recovered.
func TestScalingProperty(t *testing.T) {
	cases := 2
	if testing.Short() {
		cases = 1
	}
	// Rates stay low enough that the rate-limited phase lasts 2-6 s: a
	// scheduling stall of a loaded machine then moves the slope little.
	rng := rand.New(rand.NewPCG(7, 11))
	for i := 0; i < cases; i++ {
		m, b, r := 10+rng.IntN(5), 1+rng.IntN(2), float64(2+rng.IntN(3))
		t.Run(fmt.Sprintf("M=%d,B=%d,R=%g", m, b, r), func(t *testing.T) { checkScaling(t, m, b, r) })
	}
}

func TestLoadGroundTruth(t *testing.T) {
	// 20 req/s of 200 ms requests need 4 instances; the platform allows 2,
	// so many are throttled and the rest are slow. Open-loop arrivals must
	// stay on schedule all the same (no coordinated omission).
	o := runLocal(t, localfaas.Config{MaxInstances: 2, IdleTimeout: time.Minute}, experiments.Load{}, map[string]string{
		"function": "function3", "profile": "constant", "rate": "20", "steps": "2", "step_duration": "2s", "sleep": "0.2",
	})
	for k := 1; k <= 2; k++ {
		key := fmt.Sprintf("step_%d_sent_rate", k)
		if got := need(t, o.est, key); math.Abs(got-20) > 2 {
			t.Errorf("%s = %.1f, offered 20: the arrivals were not open-loop", key, got)
		}
		if got := need(t, o.est, fmt.Sprintf("step_%d_offered_rate", k)); got != 20 {
			t.Errorf("step %d offered_rate = %v", k, got)
		}
	}
	// Cold starts and throttles per step add up to the platform's own count.
	cold := need(t, o.est, "step_1_cold") + need(t, o.est, "step_2_cold")
	if want := localfaastest.CountEvents(o.plat, "function3", localfaas.EventInvoked, true); cold != float64(want) || want != 2 {
		t.Errorf("cold starts = %v, platform cold invocations %d (limit 2)", cold, want)
	}
	if got, want := need(t, o.est, "throttled"), localfaastest.CountEvents(o.plat, "function3", localfaas.EventThrottled, false); got != float64(want) || want == 0 {
		t.Errorf("throttled = %v, platform throttled %d", got, want)
	}
	ms, err := o.db.Metrics(context.Background(), o.run, "offered_rate")
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 2 || ms[0].Phase != "step-1" || ms[1].Phase != "step-2" {
		t.Errorf("offered_rate metrics: %+v", ms)
	}
}

func TestThroughputGroundTruth(t *testing.T) {
	fns := localfaastest.Functions(localfaastest.Build(t))
	for i := range fns {
		fns[i].MemoryMB = 256
	}
	o := runLocal(t, localfaas.Config{Functions: fns, IdleTimeout: time.Minute}, experiments.Throughput{}, map[string]string{
		"throughput_time": "0.05", "repeats": "3", "workloads": "fib:27", "concurrency": "2",
	})
	if got := need(t, o.est, "memory_mb"); got != 256 {
		t.Errorf("memory_mb = %v, configured 256", got)
	}
	for _, k := range []string{"throughput_iterations_per_s", "throughput_concurrent_iterations_per_s", "workload_ms_fib"} {
		if need(t, o.est, k) <= 0 {
			t.Errorf("%s not positive", k)
		}
	}
	// Cost: every invocation busy for 50 ms at 256 MB is billed at least
	// that; the estimate must lie between that price and the price of the
	// slowest stored invocation.
	price, _ := experiments.PriceByName("aws-lambda-x86")
	ms, err := o.db.Metrics(context.Background(), o.run, "cost_usd_per_invocation")
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) == 0 {
		t.Fatal("no cost_usd_per_invocation metrics")
	}
	hi := 0.0
	for _, m := range ms {
		hi = max(hi, m.Value)
		if m.Tags["memory_mb"] != "256" {
			t.Errorf("cost metric tags %v", m.Tags)
		}
	}
	if got := need(t, o.est, "cost_usd_per_invocation"); got < price.Cost(50, 256) || got > hi {
		t.Errorf("cost_usd_per_invocation = %g, want in [%g, %g]", got, price.Cost(50, 256), hi)
	}
}

func TestNestedGroundTruth(t *testing.T) {
	const delay = 150 * time.Millisecond
	o := runLocal(t, localfaas.Config{ExtraInitDelay: delay, IdleTimeout: time.Minute}, experiments.Nested{},
		map[string]string{"depth": "2", "fanout": "2", "samples": "3"})
	per := need(t, o.est, "nested_overhead_ms_per_level")
	if per <= 0 || per >= need(t, o.est, "chain_1_p50_ms") {
		t.Errorf("overhead per level %.3f ms must be positive and below a whole 1-level chain (%.3f ms)", per, o.est["chain_1_p50_ms"])
	}
	if got := need(t, o.est, "cold_link_cold_fraction"); got != 1 {
		t.Errorf("cold_link_cold_fraction = %v, want 1", got)
	}
	if got := need(t, o.est, "cold_link_penalty_ms"); got < float64(delay.Milliseconds()) {
		t.Errorf("cold link penalty %.1f ms < the init delay %v", got, delay)
	}
	ms, err := o.db.Metrics(context.Background(), o.run, "nested_overhead_ms")
	if err != nil {
		t.Fatal(err)
	}
	levels := map[string]int{}
	for _, m := range ms {
		levels[m.Tags["level"]]++
	}
	// chain-1: 3 samples × 1 hop; chain-2: 3 samples × 2 hops (levels 1, 2).
	if levels["1"] != 6 || levels["2"] != 3 {
		t.Errorf("nested_overhead_ms per level: %v, want 1:6 2:3", levels)
	}
}

func TestPackageSizeGroundTruth(t *testing.T) {
	// The "large" package takes D longer to load: a shell sleeps before
	// exec'ing the monolith, inside the platform's init.
	const delay = 300 * time.Millisecond
	bins := localfaastest.Build(t)
	fns := localfaastest.Functions(bins)
	for i := range fns {
		if fns[i].Name == "monolith" {
			fns[i].Command = []string{"/bin/sh", "-c", fmt.Sprintf("sleep %g; exec %s lambda", delay.Seconds(), bins.Monolith)}
		}
	}
	o := runLocal(t, localfaas.Config{Functions: fns, IdleTimeout: time.Minute}, experiments.PackageSize{},
		map[string]string{"samples": "8"})
	if got := need(t, o.est, "not_cold"); got != 0 {
		t.Errorf("not_cold = %v", got)
	}
	// Both medians carry a runtime start-up that varies by tens to
	// hundreds of ms on a busy machine, so a fixed floor fails at random
	// (236 ms for D = 300 ms with 4 samples under load). The run's own
	// uncertainty decides instead: the estimate must lie within 20 % of D
	// plus one width of its 95 % interval (about four standard errors,
	// exceeded by chance about once in 10,000 runs), and the interval must
	// exist at 8 samples.
	d := float64(delay.Milliseconds())
	for _, k := range []string{"package_penalty_ms", "package_init_penalty_ms"} {
		got := need(t, o.est, k)
		lk, hk := stats.IntervalKeys(k)
		width := need(t, o.est, hk) - need(t, o.est, lk)
		if math.Abs(got-d) > 0.2*d+width {
			t.Errorf("%s = %.1f ms [%.1f, %.1f], the large package loads %v longer", k, got, o.est[lk], o.est[hk], delay)
		}
	}
}

func TestClockOffsetGroundTruth(t *testing.T) {
	// Client and function share this machine's clock: the true offset is 0,
	// and the NTP bound guarantees |estimate| <= half the network delay.
	o := runLocal(t, localfaas.Config{}, experiments.ClockOffsetExp{}, map[string]string{"samples": "10"})
	off, unc := need(t, o.est, "clock_offset_ms"), need(t, o.est, "clock_offset_uncertainty_ms")
	if math.Abs(off) > unc+0.05 {
		t.Errorf("offset %.3f ms beyond its uncertainty %.3f ms (truth 0)", off, unc)
	}
}

// TestInterrupt: cancelling a long experiment stops it and keeps what was
// measured.
func TestInterrupt(t *testing.T) {
	plat := localfaastest.Start(t, localfaas.Config{})
	inv, err := local.New(local.Config{Endpoint: plat.URL()})
	if err != nil {
		t.Fatal(err)
	}
	db, err := results.Open(context.Background(), filepath.Join(t.TempDir(), "r.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, e := range []experiments.Experiment{experiments.IdleTimeout{}, experiments.InstanceLifetime{}, experiments.Scaling{}, experiments.Load{}} {
		params, _ := experiments.Resolve(e, nil)
		ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
		start := time.Now()
		out, err := session.Run(ctx, session.Config{DB: db, Experiment: e, Params: params, Invoker: inv})
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		// Each of these runs for minutes when not cancelled. How fast it
		// stops is a timing claim (bench, not here): this checks only that
		// the cancel was honoured, with a bound no loaded machine reaches.
		if d := time.Since(start); d > time.Minute {
			t.Errorf("%s stopped %v after start: the cancel at 1.5 s was not honoured", e.Name(), d)
		}
		if out.Status != results.StatusInterrupted || out.Rows == 0 {
			t.Errorf("%s: status %s rows %d, want interrupted with rows stored", e.Name(), out.Status, out.Rows)
		}
	}
}
