package localfaas

import (
	"bytes"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestTokenBucket(t *testing.T) {
	t0 := time.Unix(1000, 0)
	tests := []struct {
		name  string
		burst int
		rate  float64
		// at lists request times (offsets from t0); want the outcomes.
		at   []time.Duration
		want []bool
	}{
		{"burst then refused", 3, 1, []time.Duration{0, 0, 0, 0}, []bool{true, true, true, false}},
		{"one token per second", 1, 1, []time.Duration{0, 500 * time.Millisecond, time.Second, 1500 * time.Millisecond, 2 * time.Second},
			[]bool{true, false, true, false, true}},
		{"refill capped at burst", 2, 10, []time.Duration{0, 0, 10 * time.Second, 10 * time.Second, 10 * time.Second},
			[]bool{true, true, true, true, false}},
		{"zero rate never refills", 1, 0, []time.Duration{0, time.Hour}, []bool{true, false}},
		{"clock going back is ignored", 1, 1, []time.Duration{2 * time.Second, time.Second}, []bool{true, false}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := newTokenBucket(tc.burst, tc.rate, t0)
			for i, d := range tc.at {
				if got := b.allow(t0.Add(d)); got != tc.want[i] {
					t.Errorf("request %d at +%v: allow = %v, want %v", i, d, got, tc.want[i])
				}
			}
		})
	}
}

func TestReportLine(t *testing.T) {
	tests := []struct {
		name string
		res  result
		want string
	}{
		{"cold: init billed, Init Duration present",
			result{cold: true, duration: 170190 * time.Microsecond, initDuration: 196770 * time.Microsecond, memoryMB: 128, maxMemoryMB: 72},
			"REPORT RequestId: r1\tDuration: 170.19 ms\tBilled Duration: 367 ms\tMemory Size: 128 MB\tMax Memory Used: 72 MB\tInit Duration: 196.77 ms\n"},
		{"warm: no Init Duration",
			result{duration: 3270 * time.Microsecond, memoryMB: 512, maxMemoryMB: 19},
			"REPORT RequestId: r1\tDuration: 3.27 ms\tBilled Duration: 4 ms\tMemory Size: 512 MB\tMax Memory Used: 19 MB\n"},
		{"sub-millisecond bills 1 ms",
			result{duration: 200 * time.Microsecond, memoryMB: 128, maxMemoryMB: 5},
			"REPORT RequestId: r1\tDuration: 0.20 ms\tBilled Duration: 1 ms\tMemory Size: 128 MB\tMax Memory Used: 5 MB\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := reportLine("r1", &tc.res); got != tc.want {
				t.Errorf("got  %q\nwant %q", got, tc.want)
			}
		})
	}
}

func TestTailBuffer(t *testing.T) {
	var tb tailBuffer
	tb.Write([]byte("abc"))
	tb.Write(bytes.Repeat([]byte("x"), tailBytes-2))
	tb.Write([]byte("yz"))
	got := string(tb.buf)
	if len(got) != tailBytes || !strings.HasSuffix(got, "xyz") || strings.Contains(got, "a") || tb.total != tailBytes+3 {
		t.Errorf("tail %d bytes, total %d, ends %q", len(got), tb.total, got[len(got)-5:])
	}
	tb.Write(bytes.Repeat([]byte("q"), 3*tailBytes))
	if len(tb.buf) != tailBytes || tb.buf[0] != 'q' {
		t.Errorf("big write: %d bytes", len(tb.buf))
	}
}

func TestParseFunctionName(t *testing.T) {
	tests := []struct {
		in   string
		name string
		ok   bool
	}{
		{"function1", "function1", true},
		{"function1:$LATEST", "function1", true},
		{"function1:prod", "function1", false},
		{"arn:aws:lambda:us-east-1:000000000000:function:function1", "function1", true},
		{"000000000000:function:monolith", "monolith", true},
		{"arn:aws:lambda:us-east-1:000000000000:function:f:7", "f", false},
		{"", "", false},
	}
	for _, tc := range tests {
		name, ok := parseFunctionName(tc.in)
		if name != tc.name || ok != tc.ok {
			t.Errorf("parseFunctionName(%q) = %q, %v; want %q, %v", tc.in, name, ok, tc.name, tc.ok)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	good := FunctionSpec{Name: "f", Runtime: RuntimeLambda, Command: []string{"/bin/true"}}
	tests := []struct {
		name   string
		modify func(*Config)
		want   string // substring of the error; "" means valid
	}{
		{"defaults", func(*Config) {}, ""},
		{"default functions", func(c *Config) { c.Functions = DefaultFunctions([]string{"/fbrun", "lab-runtime", "lambda"}) }, ""},
		{"public address refused", func(c *Config) { c.Addr = "0.0.0.0:8080" }, "not a loopback address"},
		{"public address allowed", func(c *Config) { c.Addr = "0.0.0.0:8080"; c.AllowNonLoopback = true }, ""},
		{"localhost", func(c *Config) { c.Addr = "localhost:0" }, ""},
		{"bad address", func(c *Config) { c.Addr = "nope" }, "Addr"},
		{"negative idle", func(c *Config) { c.IdleTimeout = -1 }, "IdleTimeout"},
		{"fraction 0", func(c *Config) { c.IdleEvictFraction = 0 }, "IdleEvictFraction"},
		{"max instances 0", func(c *Config) { c.MaxInstances = 0 }, "MaxInstances"},
		{"burst 0", func(c *Config) { c.ScaleBurst = 0 }, "ScaleBurst"},
		{"memory too small", func(c *Config) { c.DefaultMemoryMB = 64 }, "DefaultMemoryMB"},
		{"timeout too long", func(c *Config) { c.DefaultTimeout = time.Hour }, "DefaultTimeout"},
		{"half gateway auth", func(c *Config) { c.GatewayUser = "u" }, "GatewayPassword"},
		{"bad function name", func(c *Config) { g := good; g.Name = "a/b"; c.Functions = []FunctionSpec{g} }, "function name"},
		{"function name too long", func(c *Config) { g := good; g.Name = strings.Repeat("f", 65); c.Functions = []FunctionSpec{g} }, "1 to 64"},
		{"longest function name", func(c *Config) { g := good; g.Name = strings.Repeat("f", 64); c.Functions = []FunctionSpec{g} }, ""},
		{"bad runtime", func(c *Config) { g := good; g.Runtime = "python"; c.Functions = []FunctionSpec{g} }, "runtime"},
		{"no command", func(c *Config) { g := good; g.Command = nil; c.Functions = []FunctionSpec{g} }, "command"},
		{"duplicate", func(c *Config) { c.Functions = []FunctionSpec{good, good} }, "duplicate"},
		{"bad env name", func(c *Config) { g := good; g.Env = map[string]string{"A=B": "x"}; c.Functions = []FunctionSpec{g} }, "environment"},
		{"bad catalog", func(c *Config) { c.CodeCatalog = map[string]Code{"x": {Runtime: "lambda"}} }, "CodeCatalog"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := DefaultConfig()
			tc.modify(&c)
			err := c.Validate()
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("unexpected error: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("error %v, want one mentioning %q", err, tc.want)
			}
		})
	}
}

// TestDescribeListsEveryKnob: Describe has one row per knob and fixed
// setting, each with the value of this configuration (not the default).
func TestDescribeListsEveryKnob(t *testing.T) {
	c := DefaultConfig()
	c.Functions = DefaultFunctions([]string{"lab"})
	if err := c.SetKnobs(knobText); err != nil {
		t.Fatal(err)
	}
	c.InitTimeout, c.DefaultTimeout, c.DefaultMemoryMB, c.AsyncRetryFor = 11*time.Second, 12*time.Second, 130, 13*time.Second
	rows := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(c.Describe()), "\n") {
		name, rest, ok := strings.Cut(line, " = ")
		if !ok {
			continue // a function line
		}
		value, _, _ := strings.Cut(rest, " # ")
		name = strings.TrimSpace(name)
		if _, dup := rows[name]; dup {
			t.Errorf("row %s twice", name)
		}
		rows[name] = strings.TrimSpace(value)
	}
	want := map[string]string{"init-timeout": "11s", "default-timeout": "12s", "default-memory-mb": "130", "async-retry-for": "13s", "concurrency": "1"}
	for _, k := range Knobs() {
		want[k.Name] = knobText[k.Name]
	}
	for name, v := range want {
		if rows[name] != v {
			t.Errorf("Describe row %s = %q, want %q", name, rows[name], v)
		}
	}
	if len(rows) != len(want) {
		t.Errorf("Describe has %d rows, want %d:\n%s", len(rows), len(want), c.Describe())
	}
}

// TestReapEvictsAtDeadline: reap evicts exactly the idle instances whose
// eviction time has come, and keeps the others.
func TestReapEvictsAtDeadline(t *testing.T) {
	cfg := DefaultConfig()
	cfg.IdleTimeout = time.Second
	cfg.MaxLifetime = 0
	p, f := unitFunction(t, cfg)
	now := time.Now()
	const n = 10
	for i := range n {
		in := p.newInstance(f, f.spec)
		in.attached = true
		in.idleDeadline, in.evictable = now.Add(time.Duration(i%2)*time.Hour), true // odd ones not due
		f.instances[in] = struct{}{}
		f.idle = append(f.idle, in)
	}
	f.reap(now)
	if total, idle := f.counts(); total != n/2 || idle != n/2 {
		t.Fatalf("after reap: %d instances, %d idle; want %d of each", total, idle, n/2)
	}
	if next, ok := f.nextDeadline(); !ok || !next.Equal(now.Add(time.Hour)) {
		t.Errorf("next deadline %v %v, want in one hour", next.Sub(now), ok)
	}
	f.reap(now.Add(2 * time.Hour))
	if total, _ := f.counts(); total != 0 {
		t.Errorf("%d instances left after every deadline passed", total)
	}
}

// TestAcquireSkipsExpired: an idle instance past its eviction time is
// never handed out, even before the reaper ran (its timer fires late under
// load): acquire evicts it and takes a warm one that is not due.
func TestAcquireSkipsExpired(t *testing.T) {
	cfg := DefaultConfig()
	cfg.IdleTimeout = time.Second
	cfg.MaxLifetime = 0
	p, f := unitFunction(t, cfg)
	now := time.Now()
	var ins []*instance
	// The most recently used (last) instance is due: acquire would pick it.
	for _, due := range []time.Duration{time.Hour, -time.Millisecond} {
		in := p.newInstance(f, f.spec)
		in.attached = true
		in.idleDeadline, in.evictable = now.Add(due), true
		f.instances[in] = struct{}{}
		f.idle = append(f.idle, in)
		ins = append(ins, in)
	}
	got, apiErr := f.acquire("r1")
	if apiErr != nil {
		t.Fatal(apiErr)
	}
	if got != ins[0] {
		t.Errorf("acquire handed out the instance past its eviction time")
	}
	if total, idle := f.counts(); total != 1 || idle != 0 {
		t.Errorf("after acquire: %d instances, %d idle; want 1 (the busy one), 0", total, idle)
	}
	if ins[1].attached || ins[1].killReason != ReasonIdle {
		t.Errorf("the expired instance is attached=%v, kill reason %q; want evicted as idle", ins[1].attached, ins[1].killReason)
	}
}

// TestEvictAt: the eviction time of one idle period under each model.
func TestEvictAt(t *testing.T) {
	origin := time.Unix(1000, 0)
	r := origin.Add(1300 * time.Millisecond)
	s := time.Second
	seq := func(us ...float64) func() float64 {
		return func() float64 { u := us[0]; us = us[1:]; return u }
	}
	tests := []struct {
		name string
		e    Eviction
		u    []float64
		want time.Duration // after r
	}{
		{"sharp", Eviction{Timeout: 10 * s, Fraction: 1}, nil, 10 * s},
		{"jitter", Eviction{Timeout: 3 * s, Jitter: 4 * s, Fraction: 1}, []float64{0.5}, 5 * s},
		// deadline 1.3+2 = 3.3 s after origin: next sweep at 4 s.
		{"sweep", Eviction{Timeout: 2 * s, Sweep: 2 * s, Fraction: 1}, nil, 2700 * time.Millisecond},
		// survives the first check (0.9 ≥ 0.5) at 3.3 s, evicted at 5.3 s.
		{"partial", Eviction{Timeout: 2 * s, Fraction: 0.5}, []float64{0.9, 0.1}, 4 * s},
		// deadline 3.3+0.5 = 3.8 → sweep 4; survives; 4+2 = 6 → sweep 6.
		{"sweep+jitter+partial", Eviction{Timeout: 2 * s, Jitter: s, Sweep: 2 * s, Fraction: 0.5}, []float64{0.5, 0.9, 0.1}, 4700 * time.Millisecond},
		// sweeps at 0.5 s + 2k s after origin: deadline 3.3 s → sweep 4.5 s.
		{"sweep phase", Eviction{Timeout: 2 * s, Sweep: 2 * s, SweepPhase: 500 * time.Millisecond, Fraction: 1}, nil, 3200 * time.Millisecond},
		// the instance's own draw (0.25) is its jitter; the shared stream is not read.
		{"persistent", Eviction{Timeout: 3 * s, Jitter: 4 * s, Fraction: 1, Persistent: true}, nil, 4 * s},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			at, ok := tt.e.EvictAt(r, origin, 0.25, seq(append(tt.u, 0)...))
			if !ok || at.Sub(r) != tt.want {
				t.Errorf("evicted after %v (ok %v), want %v", at.Sub(r), ok, tt.want)
			}
		})
	}
	if _, ok := (Eviction{}).EvictAt(r, origin, 0, nil); ok {
		t.Error("Timeout 0 evicts")
	}
}

// TestEvictionDistribution: the documented distribution (CDF, Quantile) is
// the distribution of EvictAt's eviction times for releases at random
// phases, for every model and combination; and the quantiles of the simple
// models are the textbook ones.
func TestEvictionDistribution(t *testing.T) {
	s := time.Second
	models := map[string]Eviction{
		"sharp":                {Timeout: 10 * s, Fraction: 1},
		"jitter":               {Timeout: 3 * s, Jitter: 4 * s, Fraction: 1},
		"partial":              {Timeout: 2 * s, Fraction: 0.5},
		"sweep":                {Timeout: 5 * s, Sweep: 5 * s, Fraction: 1},
		"sweep+jitter":         {Timeout: 2 * s, Jitter: s, Sweep: 2 * s, Fraction: 1},
		"sweep+partial":        {Timeout: 3 * s, Sweep: 2 * s, Fraction: 0.5},
		"jitter+partial":       {Timeout: 2 * s, Jitter: s, Fraction: 0.7},
		"sweep+jitter+partial": {Timeout: 2 * s, Jitter: 3 * s, Sweep: 2 * s, Fraction: 0.5},
		"sweep phase":          {Timeout: 5 * s, Sweep: 4 * s, SweepPhase: 3 * s, Fraction: 1},
		"persistent":           {Timeout: 3 * s, Jitter: 4 * s, Fraction: 1, Persistent: true},
	}
	rng := rand.New(rand.NewPCG(5, 5))
	origin := time.Unix(0, 0)
	for name, e := range models {
		t.Run(name, func(t *testing.T) {
			const n = 20000
			xs := make([]float64, n)
			for i := range xs {
				r := origin.Add(time.Duration(rng.Float64() * float64(time.Hour)))
				at, _ := e.EvictAt(r, origin, rng.Float64(), rng.Float64) // a new instance each
				xs[i] = at.Sub(r).Seconds()
			}
			slices.Sort(xs)
			// Kolmogorov–Smirnov distance; 0.015 is far above its 99.9%
			// point for n = 20000 (1.95/√n = 0.014).
			// At every distinct x compare F(x) with the share ≤ x and the
			// left limit F(x−) with the share < x (the models have atoms).
			var dmax float64
			for i := 0; i < n; {
				j := i
				for j < n && xs[j] == xs[i] {
					j++
				}
				dmax = max(dmax, math.Abs(e.CDF(xs[i])-float64(j)/n), math.Abs(e.CDF(xs[i]-1e-9)-float64(i)/n))
				i = j
			}
			if dmax > 0.015 {
				t.Errorf("KS distance %.4f between EvictAt and CDF", dmax)
			}
		})
	}
	check := func(name string, got, want float64) {
		t.Helper()
		if math.Abs(got-want) > 1e-6 {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	check("sharp median", models["sharp"].Quantile(0.5), 10)
	check("sharp 5%", models["sharp"].Quantile(0.05), 10)
	check("jitter median", models["jitter"].Quantile(0.5), 5)
	check("jitter 95%", models["jitter"].Quantile(0.95), 6.8)
	check("sweep median", models["sweep"].Quantile(0.5), 7.5)
	check("partial median", models["partial"].Quantile(0.5), 2)
	check("partial upper median", models["partial"].QuantileUpper(0.5), 4)
	check("partial 95%", models["partial"].Quantile(0.95), 10)
}

// TestLifetimeJitter: each instance draws its extra lifetime once, uniform
// in [0, MaxLifetimeJitter).
func TestLifetimeJitter(t *testing.T) {
	cfg := DefaultConfig()
	cfg.MaxLifetime = time.Second
	cfg.MaxLifetimeJitter = 500 * time.Millisecond
	p, f := unitFunction(t, cfg)
	var lo, hi time.Duration = time.Hour, 0
	for range 1000 {
		in := p.newInstance(f, f.spec)
		lo, hi = min(lo, in.lifetime), max(hi, in.lifetime)
		if in.lifetime < cfg.MaxLifetime || in.lifetime >= cfg.MaxLifetime+cfg.MaxLifetimeJitter {
			t.Fatalf("lifetime %v outside [1s, 1.5s)", in.lifetime)
		}
	}
	if lo > 1050*time.Millisecond || hi < 1450*time.Millisecond {
		t.Errorf("1000 lifetimes span only [%v, %v]", lo, hi)
	}
}

// unitFunction makes a platform of cfg (never started) and one Lambda
// function "f" on it, for tests of the instance bookkeeping alone.
func unitFunction(t *testing.T, cfg Config) (*Platform, *function) {
	t.Helper()
	p, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return p, newFunction(p, FunctionSpec{Name: "f", Runtime: RuntimeLambda, Command: []string{"/bin/true"}}, functionMeta{})
}
