// Package reporttest writes a fixed, seeded synthetic dataset into a results
// database: one or more runs of every experiment kind the report knows
// (cold-start on two platforms and two dates, package-size, idle-timeout,
// scaling, load, nested, throughput) plus an experiment the report has
// never heard of. The report's golden-file tests, the export tests and the
// 1M-invocation benchmark use it. The numbers are synthetic test data, not
// measurements: they are never shown as results of a platform.
package reporttest

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/faas-benchmarker/faas-benchmarker/experiments"
	"github.com/faas-benchmarker/faas-benchmarker/results"
	"github.com/faas-benchmarker/faas-benchmarker/stats"
)

// Config sizes the dataset.
type Config struct {
	// Seed seeds the generator (default 1).
	Seed uint64
	// Scale multiplies the invocation counts (default 1: about 2,600
	// invocations over all runs).
	Scale int
}

// Base is the start time of the first fixture run.
var Base = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

type gen struct {
	rng *rand.Rand
	w   *results.Writer
	db  *results.DB
	ctx context.Context
}

// Populate writes the dataset into db and returns the run ids in creation
// order.
func Populate(ctx context.Context, db *results.DB, cfg Config) ([]string, error) {
	if cfg.Seed == 0 {
		cfg.Seed = 1
	}
	if cfg.Scale <= 0 {
		cfg.Scale = 1
	}
	g := &gen{rng: rand.New(rand.NewPCG(cfg.Seed, 42)), db: db, ctx: ctx}
	g.w = db.NewWriter(results.WriterConfig{BatchSize: 5000})
	var ids []string
	steps := []func(int) (string, error){
		func(s int) (string, error) { return g.coldStart("run-cold-local-1", "local", Base, 1.0, s) },
		func(s int) (string, error) {
			return g.coldStart("run-cold-lambda-1", "aws-lambda", Base.Add(2*time.Hour), 1.8, s)
		},
		func(s int) (string, error) {
			return g.coldStart("run-cold-lambda-2", "aws-lambda", Base.Add(9*24*time.Hour), 1.3, s)
		},
		g.packageSize, g.idleTimeout, g.scaling, g.load, g.nested, g.throughput, g.unknown,
	}
	for _, f := range steps {
		id, err := f(cfg.Scale)
		if err != nil {
			g.w.Close()
			return nil, err
		}
		ids = append(ids, id)
	}
	if err := g.w.Close(); err != nil {
		return nil, err
	}
	return ids, nil
}

func (g *gen) start(id, exp, platform string, at time.Time, params map[string]string) error {
	return g.db.CreateRun(g.ctx, results.Run{ID: id, Experiment: exp, Platform: platform, Params: params,
		PlatformConfig: map[string]any{"memory_mb": 256}, ToolVersion: "v0.0.0-fixture", GitCommit: "0000000",
		StartedAt: at})
}

func (g *gen) finish(id string, at time.Time, dur time.Duration, est map[string]float64) error {
	sum, err := json.Marshal(map[string]any{"estimates": est})
	if err != nil {
		return err
	}
	return g.db.FinishRun(g.ctx, id, results.StatusOK, at.Add(dur), sum, "")
}

// lognormal returns a latency in ns with the given median (ms) and shape.
func (g *gen) lognormal(medianMS, sigma float64) int64 {
	return int64(medianMS * math.Exp(sigma*g.rng.NormFloat64()) * 1e6)
}

func ptr[T any](v T) *T { return &v }

func (g *gen) inv(run string, seq int64, phase string, sent, lat int64, cold bool, inst string) results.Invocation {
	return results.Invocation{RunID: run, Seq: seq, Phase: phase, Function: "lab", Status: results.InvOK,
		ScheduledNS: -1, SentNS: sent, LatencyNS: lat, RequestID: fmt.Sprintf("req-%d", seq), InstanceID: inst,
		Cold: ptr(cold), HTTPStatus: 200}
}

func (g *gen) coldStart(id, platform string, at time.Time, factor float64, scale int) (string, error) {
	if err := g.start(id, "cold-start", platform, at, map[string]string{"samples": "60"}); err != nil {
		return "", err
	}
	var seq int64
	var t int64
	n := 60 * scale
	var colds, warms []float64
	for i := 0; i < n; i++ {
		seq++
		lat := g.lognormal(180*factor, 0.25)
		v := g.inv(id, seq, "cold", t, lat, true, fmt.Sprintf("%s-i%d", id, i))
		init := float64(lat)/1e6*0.6 + g.rng.Float64()*5
		v.Report = &results.PlatformReport{DurationMS: 3, BilledMS: 4, MemorySizeMB: 256, MaxMemoryUsedMB: 40, InitDurationMS: &init}
		colds = append(colds, float64(lat)/1e6)
		if err := g.w.Add(v); err != nil {
			return "", err
		}
		t += lat + 50e6
		for j := 0; j < 4; j++ {
			seq++
			wl := g.lognormal(6*factor, 0.3)
			w := g.inv(id, seq, "warm", t, wl, false, fmt.Sprintf("%s-i%d", id, i))
			w.Report = &results.PlatformReport{DurationMS: 1.2, BilledMS: 2, MemorySizeMB: 256, MaxMemoryUsedMB: 40}
			warms = append(warms, float64(wl)/1e6)
			if err := g.w.Add(w); err != nil {
				return "", err
			}
			t += wl + 10e6
		}
	}
	// Two failures, so error rows show up.
	for k, kind := range []string{"timeout", "throttled"} {
		seq++
		e := g.inv(id, seq, "warm", t, 0, false, "")
		e.Status, e.ErrorKind, e.Cold = results.InvError, kind, nil
		if err := g.w.Add(e); err != nil {
			return "", err
		}
		t += int64(k+1) * 1e6
	}
	est := map[string]float64{"cold_p50_ms": median(colds), "warm_p50_ms": median(warms), "cold_agreement": 1}
	// Intervals as the experiment stores them (<key>_low, <key>_high).
	for k, xs := range map[string][]float64{"cold_p50_ms": colds, "warm_p50_ms": warms} {
		if iv := stats.MedianCI(stats.Sorted(xs), 0.95); iv.OK {
			lo, hi := stats.IntervalKeys(k)
			est[lo], est[hi] = iv.Low, iv.High
		}
	}
	return id, g.finish(id, at, time.Duration(t), est)
}

func median(xs []float64) float64 {
	c := slices.Clone(xs)
	slices.Sort(c)
	if len(c) == 0 {
		return math.NaN()
	}
	if len(c)%2 == 1 {
		return c[len(c)/2]
	}
	return (c[len(c)/2-1] + c[len(c)/2]) / 2
}

func (g *gen) packageSize(scale int) (string, error) {
	id := "run-pkg-local-1"
	at := Base.Add(3 * time.Hour)
	if err := g.start(id, "package-size", "local", at, map[string]string{"samples": "30"}); err != nil {
		return "", err
	}
	var seq, t int64
	for _, variant := range []struct {
		name string
		ms   float64
	}{{"function1", 150}, {"monolith", 420}} {
		for i := 0; i < 30*scale; i++ {
			seq++
			lat := g.lognormal(variant.ms, 0.2)
			v := g.inv(id, seq, "cold/"+variant.name, t, lat, true, fmt.Sprintf("%s-%d", variant.name, i))
			init := float64(lat) / 1e6 * 0.7
			v.Report = &results.PlatformReport{DurationMS: 2, BilledMS: 3, MemorySizeMB: 256, InitDurationMS: &init}
			if err := g.w.Add(v); err != nil {
				return "", err
			}
			t += lat + 20e6
			seq++
			wl := g.lognormal(5, 0.3)
			if err := g.w.Add(g.inv(id, seq, "warm/"+variant.name, t, wl, false, fmt.Sprintf("%s-%d", variant.name, i))); err != nil {
				return "", err
			}
			t += wl + 5e6
		}
	}
	return id, g.finish(id, at, time.Duration(t), map[string]float64{"cold_p50_ms": 150})
}

func (g *gen) idleTimeout(scale int) (string, error) {
	id := "run-idle-local-1"
	at := Base.Add(4 * time.Hour)
	if err := g.start(id, experiments.IdleTimeout{}.Name(), "local", at, map[string]string{"gaps": "30..900"}); err != nil {
		return "", err
	}
	var seq, t int64
	for _, gap := range []int{30, 60, 120, 240, 300, 360, 480, 600, 900} {
		// warm probability falls from 1 to 0 around 330 s.
		pWarm := 1 / (1 + math.Exp((float64(gap)-330)/25))
		for i := 0; i < 8*scale; i++ {
			cold := g.rng.Float64() >= pWarm
			v := 0.0
			if cold {
				v = 1
			}
			seq++
			lat := g.lognormal(8, 0.2)
			if cold {
				lat = g.lognormal(190, 0.2)
			}
			if err := g.w.Add(g.inv(id, seq, fmt.Sprintf("gap-%d", gap), t, lat, cold, fmt.Sprintf("inst-%d", seq))); err != nil {
				return "", err
			}
			if err := g.w.AddMetric(results.Metric{RunID: id, Name: experiments.MetricIdleProbe, Value: v, Tags: map[string]string{experiments.TagGapS: fmt.Sprint(gap), experiments.TagIdleS: fmt.Sprint(gap), "burst": fmt.Sprint(seq)},
				Phase: fmt.Sprintf("gap-%d", gap), AtNS: t}); err != nil {
				return "", err
			}
			t += lat + int64(gap)*1e9
		}
	}
	return id, g.finish(id, at, time.Duration(t), map[string]float64{
		"idle_timeout_s": 330, "idle_timeout_s_low": 300, "idle_timeout_s_high": 360,
		"idle_warm_s": 270, "idle_warm_s_low": 240, "idle_warm_s_high": 300,
		"idle_cold_s": 400, "idle_cold_s_low": 360, "idle_cold_s_high": 480, "idle_precision_reached": 1,
	})
}

func (g *gen) scaling(scale int) (string, error) {
	id := "run-scale-local-1"
	at := Base.Add(5 * time.Hour)
	if err := g.start(id, "scaling", "local", at, map[string]string{"bursts": "10,50,100"}); err != nil {
		return "", err
	}
	var seq, t int64
	instances := 0
	for _, burst := range []int{10, 50, 100} {
		n := burst * scale
		for i := 0; i < n; i++ {
			seq++
			sent := t + int64(i)*2e6
			cold := i >= instances && i < 80
			inst := i
			if i >= 80 {
				inst = i % 80
			}
			lat := g.lognormal(12, 0.3)
			if cold {
				lat = g.lognormal(200, 0.2)
			}
			v := g.inv(id, seq, fmt.Sprintf("burst-%d", burst), sent, lat, cold, fmt.Sprintf("inst-%d", inst))
			if i >= 80 {
				v.Status, v.ErrorKind, v.Cold, v.InstanceID = results.InvError, "throttled", nil, ""
			}
			if err := g.w.Add(v); err != nil {
				return "", err
			}
		}
		instances = max(instances, min(n, 80))
		t += 5e9
	}
	return id, g.finish(id, at, time.Duration(t), map[string]float64{"max_instances": 80, "scale_rate_per_s": 40, "throttled": 20})
}

func (g *gen) load(scale int) (string, error) {
	id := "run-load-local-1"
	at := Base.Add(6 * time.Hour)
	if err := g.start(id, "load", "local", at, map[string]string{"rates": "10..80"}); err != nil {
		return "", err
	}
	var seq, t int64
	for k, rate := range []float64{10, 20, 40, 80} {
		phase := fmt.Sprintf("step-%d", k+1)
		if err := g.w.AddMetric(results.Metric{RunID: id, Name: experiments.MetricOfferedRate, Value: rate, Phase: phase, AtNS: t}); err != nil {
			return "", err
		}
		n := int(rate*2) * scale
		period := int64(1e9 / rate / float64(scale))
		for i := 0; i < n; i++ {
			seq++
			sched := t + int64(i)*period
			late := int64(g.rng.ExpFloat64() * 0.2e6 * rate / 10)
			lat := g.lognormal(8+rate/10, 0.25)
			v := g.inv(id, seq, phase, sched+late, lat, false, fmt.Sprintf("inst-%d", i%int(rate/5)))
			v.ScheduledNS = sched
			if err := g.w.Add(v); err != nil {
				return "", err
			}
		}
		if err := g.w.AddMetric(results.Metric{RunID: id, Name: experiments.MetricDropped, Value: float64(k * k), Phase: phase, AtNS: t}); err != nil {
			return "", err
		}
		t += int64(n) * period
	}
	return id, g.finish(id, at, time.Duration(t), map[string]float64{"max_rate_per_s": 80})
}

func (g *gen) nested(scale int) (string, error) {
	id := "run-nested-local-1"
	at := Base.Add(7 * time.Hour)
	if err := g.start(id, "nested", "local", at, map[string]string{"depth": "3"}); err != nil {
		return "", err
	}
	var seq, t int64
	for i := 0; i < 40*scale; i++ {
		seq++
		parent := seq
		lat := g.lognormal(30, 0.2)
		if err := g.w.Add(g.inv(id, parent, "chain", t, lat, false, "inst-a")); err != nil {
			return "", err
		}
		for depth := 1; depth <= 3; depth++ {
			seq++
			n := g.inv(id, seq, "chain", 0, g.lognormal(float64(28-7*depth), 0.2), false, fmt.Sprintf("inst-d%d", depth))
			n.Depth, n.ParentSeq = depth, parent
			if err := g.w.Add(n); err != nil {
				return "", err
			}
			if err := g.w.AddMetric(results.Metric{RunID: id, Name: experiments.MetricNestedOverhead, Value: 2 + float64(depth)*0.5 + g.rng.Float64(),
				Tags: map[string]string{"level": fmt.Sprint(depth)}, Phase: "chain", AtNS: t}); err != nil {
				return "", err
			}
			parent = seq
		}
		t += lat + 10e6
	}
	return id, g.finish(id, at, time.Duration(t), map[string]float64{"nested_overhead_ms_per_level": 2.5})
}

func (g *gen) throughput(scale int) (string, error) {
	id := "run-tput-local-1"
	at := Base.Add(8 * time.Hour)
	if err := g.start(id, "throughput", "local", at, map[string]string{"memory": "128,256,512,1024"}); err != nil {
		return "", err
	}
	var seq, t int64
	for _, mem := range []int{128, 256, 512, 1024} {
		for _, mode := range []string{"sequential", "parallel"} {
			for i := 0; i < 6*scale; i++ {
				speed := float64(mem) / 128
				if mode == "parallel" {
					speed *= math.Min(float64(mem)/512, 2)
				}
				tput := 1000 * speed * (0.95 + 0.1*g.rng.Float64())
				tags := map[string]string{"memory_mb": fmt.Sprint(mem), "mode": mode, "workload": "cpu"}
				phase := fmt.Sprintf("mem-%d", mem)
				seq++
				lat := int64(1e9/speed) + g.lognormal(5, 0.2)
				if err := g.w.Add(g.inv(id, seq, phase, t, lat, false, fmt.Sprintf("inst-%d", mem))); err != nil {
					return "", err
				}
				for _, m := range []results.Metric{
					{RunID: id, Name: experiments.MetricThroughput, Value: tput, Tags: tags, Phase: phase, AtNS: t},
					{RunID: id, Name: experiments.MetricWorkloadMS, Value: 1000 / speed, Tags: tags, Phase: phase, AtNS: t},
					{RunID: id, Name: experiments.MetricCostPerInvocation, Value: float64(mem) / 1024 * (1 / speed) * 0.0000166667, Tags: map[string]string{"memory_mb": fmt.Sprint(mem)}, Phase: phase, AtNS: t},
				} {
					if err := g.w.AddMetric(m); err != nil {
						return "", err
					}
				}
				t += lat
			}
		}
	}
	return id, g.finish(id, at, time.Duration(t), map[string]float64{})
}

func (g *gen) unknown(scale int) (string, error) {
	id := "run-custom-local-1"
	at := Base.Add(10 * time.Hour)
	if err := g.start(id, "my-custom-experiment", "local", at, nil); err != nil {
		return "", err
	}
	var seq, t int64
	for i := 0; i < 50*scale; i++ {
		seq++
		lat := g.lognormal(9, 0.4)
		v := g.inv(id, seq, "", t, lat, i == 0, "inst-x")
		if i%10 == 9 {
			v.Status, v.ErrorKind = results.InvFunctionError, "panic"
		}
		if err := g.w.Add(v); err != nil {
			return "", err
		}
		if err := g.w.AddMetric(results.Metric{RunID: id, Name: "custom_gauge", Value: float64(i % 7), AtNS: t}); err != nil {
			return "", err
		}
		t += lat + 1e6
	}
	return id, g.finish(id, at, time.Duration(t), map[string]float64{"custom_estimate": 42})
}

// PopulateLarge writes one cold-start-like run with n client invocations
// (about 1 % cold, with platform init reports) for benchmarks, and returns
// its id.
func PopulateLarge(ctx context.Context, db *results.DB, n int, seed uint64) (string, error) {
	g := &gen{rng: rand.New(rand.NewPCG(seed, 7)), db: db, ctx: ctx}
	g.w = db.NewWriter(results.WriterConfig{BatchSize: 20000, Buffer: 1 << 17})
	id := fmt.Sprintf("run-large-%d", n)
	if err := g.start(id, "cold-start", "local", Base, nil); err != nil {
		return "", err
	}
	var t int64
	for i := 0; i < n; i++ {
		cold := i%100 == 0
		lat := g.lognormal(6, 0.3)
		phase := "warm"
		if cold {
			lat, phase = g.lognormal(180, 0.25), "cold"
		}
		v := g.inv(id, int64(i+1), phase, t, lat, cold, fmt.Sprintf("inst-%d", i/100%64))
		v.RequestID = ""
		if cold {
			init := float64(lat) / 1e6 * 0.6
			v.Report = &results.PlatformReport{DurationMS: 2, BilledMS: 3, MemorySizeMB: 256, InitDurationMS: &init}
		}
		if err := g.w.Add(v); err != nil {
			g.w.Close()
			return "", err
		}
		t += lat / 8
	}
	if err := g.w.Close(); err != nil {
		return "", err
	}
	return id, g.finish(id, Base, time.Duration(t), map[string]float64{"cold_p50_ms": 180})
}
