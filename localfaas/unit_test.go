package localfaas

import (
	"bytes"
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

func TestDescribeListsEveryKnob(t *testing.T) {
	d := DefaultConfig().Describe()
	for _, knob := range []string{"idle-timeout", "idle-jitter", "idle-evict-fraction", "max-lifetime", "max-instances",
		"scale-burst", "scale-rate", "extra-init-delay", "init-timeout", "default-timeout", "default-memory-mb",
		"async-retry-for", "concurrency", "10s"} {
		if !strings.Contains(d, knob) {
			t.Errorf("Describe lacks %q:\n%s", knob, d)
		}
	}
}

// TestReapPartialEviction: an expired idle instance is evicted with
// probability IdleEvictFraction, otherwise it lives another idle timeout;
// jittered deadlines are respected.
func TestReapPartialEviction(t *testing.T) {
	cfg := DefaultConfig()
	cfg.IdleTimeout = time.Second
	cfg.IdleEvictFraction = 0.5
	cfg.MaxLifetime = 0
	p, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	f := newFunction(p, FunctionSpec{Name: "f", Runtime: RuntimeLambda, Command: []string{"/bin/true"}}, functionMeta{})
	now := time.Now()
	const n = 200
	for i := range n {
		in := p.newInstance(f, f.spec)
		in.attached = true
		in.idleDeadline = now.Add(time.Duration(i%2) * time.Hour) // odd ones not expired
		f.instances[in] = struct{}{}
		f.idle = append(f.idle, in)
	}
	f.reap(now)
	total, idle := f.counts()
	evicted := n - total
	if total != idle {
		t.Fatalf("total %d idle %d", total, idle)
	}
	// 100 expired, each evicted with p = 0.5: 50 ± 5 sd; the seed is fixed.
	if evicted < 25 || evicted > 75 {
		t.Errorf("%d of 100 expired instances evicted with fraction 0.5", evicted)
	}
	for _, in := range f.idle {
		if in.idleDeadline.Before(now.Add(time.Second)) {
			t.Errorf("survivor's idle deadline not extended: %v", in.idleDeadline.Sub(now))
		}
	}
	cfg.IdleEvictFraction = 1
	p.cfg = cfg
	f.reap(now.Add(2 * time.Hour))
	if total, _ := f.counts(); total != 0 {
		t.Errorf("%d instances left after everything expired with fraction 1", total)
	}
}

// TestIdleJitter: each instance draws its extra idle time once, uniform in
// [0, IdleJitter), and release sets its idle deadline with it.
func TestIdleJitter(t *testing.T) {
	cfg := DefaultConfig()
	cfg.IdleTimeout = time.Second
	cfg.IdleJitter = 500 * time.Millisecond
	p, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	f := newFunction(p, FunctionSpec{Name: "f", Runtime: RuntimeLambda, Command: []string{"/bin/true"}}, functionMeta{})
	var lo, hi time.Duration = time.Hour, 0
	for range 1000 {
		in := p.newInstance(f, f.spec)
		lo, hi = min(lo, in.idleJitter), max(hi, in.idleJitter)
		if in.idleJitter < 0 || in.idleJitter >= cfg.IdleJitter {
			t.Fatalf("jitter %v outside [0, %v)", in.idleJitter, cfg.IdleJitter)
		}
	}
	if lo > 50*time.Millisecond || hi < 450*time.Millisecond {
		t.Errorf("1000 jitters span only [%v, %v]", lo, hi)
	}
	in := p.newInstance(f, f.spec)
	in.attached = true
	f.instances[in] = struct{}{}
	before := time.Now()
	f.release(in)
	if d := in.idleDeadline.Sub(before); d < cfg.IdleTimeout+in.idleJitter || d > cfg.IdleTimeout+in.idleJitter+time.Second {
		t.Errorf("idle deadline %v after release, want %v + jitter %v", d, cfg.IdleTimeout, in.idleJitter)
	}
}
