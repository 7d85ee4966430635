package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"

	"github.com/faas-benchmarker/faas-benchmarker/bench/measure"
	"github.com/faas-benchmarker/faas-benchmarker/bench/target"
	"github.com/faas-benchmarker/faas-benchmarker/localfaas"
)

// attackMain runs one measurement (the child side) and writes its
// measure.Result as JSON to w.
func attackMain(ctx context.Context, args []string, w io.Writer) (err error) {
	fs := flag.NewFlagSet("attack", flag.ContinueOnError)
	specJSON := fs.String("spec", "", "measurement spec as JSON (see bench/measure.Spec)")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the measurement to this file")
	memProfile := fs.String("memprofile", "", "write an allocation profile of the measurement to this file (go tool pprof -sample_index=alloc_space)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *memProfile != "" {
		defer func() {
			if werr := writeAllocProfile(*memProfile); werr != nil && err == nil {
				err = werr
			}
		}()
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	var spec measure.Spec
	if err := json.Unmarshal([]byte(*specJSON), &spec); err != nil {
		return fmt.Errorf("attack: bad -spec: %w", err)
	}
	res, err := measure.Run(ctx, spec)
	if err != nil {
		return fmt.Errorf("attack: %w", err)
	}
	return json.NewEncoder(w).Encode(res)
}

// writeAllocProfile writes the allocations since the start of the process
// (the "allocs" profile) to path.
func writeAllocProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("memprofile: %w", err)
	}
	if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
		f.Close()
		return fmt.Errorf("memprofile: %w", err)
	}
	return f.Close()
}

// targetMain serves the minimal target until ctx is done.
func targetMain(ctx context.Context, w io.Writer) error {
	url, _, stop, err := startTarget()
	if err != nil {
		return err
	}
	defer stop()
	fmt.Fprintln(w, url)
	<-ctx.Done()
	return nil
}

// options are the flags of a bench run.
type options struct {
	short            bool
	reps             int
	warmup, window   time.Duration
	concurrency      []int
	rates            []float64
	memConcurrency   []int
	memDelay         time.Duration
	stall            time.Duration // 0: no stall-recovery measurement
	stallRate        float64
	local            bool
	localConcurrency int
	localRate        float64
	sqlite           bool
	ingestRows       int
	jsonOut          string
	// only holds the parts to run (groupMax, groupRate, groupMem,
	// partIngest); all when -only is not given.
	only map[string]bool
}

// partIngest names the results-database ingest in -only.
const partIngest = "ingest"

// runs reports whether part is to be measured.
func (o options) runs(part string) bool { return o.only == nil || o.only[part] }

func parseOptions(args []string) (options, error) {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	o := options{}
	var conc, rates, memConc, only string
	fs.BoolVar(&o.short, "short", false, "smoke version: one repetition, short windows, fewer scenarios (< 60 s)")
	// Six repetitions are the fewest that give the paired ratios a 95 %
	// interval (stats.MedianCI), which the goal verdicts need; shorter
	// windows keep the total window time of the former 3 × 5 s.
	fs.IntVar(&o.reps, "reps", 6, "repetitions of every measurement (6 or more give the paired ratios a 95 % interval)")
	fs.DurationVar(&o.warmup, "warmup", 500*time.Millisecond, "warm-up before each measured window")
	fs.DurationVar(&o.window, "window", 2500*time.Millisecond, "measured window of each measurement")
	fs.StringVar(&conc, "concurrency", "1,16,64", "closed-loop concurrencies for maximum throughput")
	fs.StringVar(&rates, "rates", "1000,5000,10000", "open-loop rates (req/s)")
	fs.StringVar(&memConc, "mem-concurrency", "50,500", "two concurrencies for memory per in-flight request")
	fs.DurationVar(&o.memDelay, "mem-delay", 100*time.Millisecond, "server delay that holds requests in flight for the memory measurement")
	fs.BoolVar(&o.local, "local", true, "also attack the embedded local platform")
	fs.IntVar(&o.localConcurrency, "local-concurrency", 8, "closed-loop concurrency against the local platform")
	fs.Float64Var(&o.localRate, "local-rate", 1000, "open-loop rate against the local platform (req/s)")
	fs.BoolVar(&o.sqlite, "sqlite", true, "also run fbrun with the real SQLite writer as sink (end to end)")
	fs.IntVar(&o.ingestRows, "ingest-rows", 1_000_000, "rows written through the results writer for the ingest rate")
	fs.StringVar(&o.jsonOut, "json", "", "also write every result as JSON to this file")
	fs.DurationVar(&o.stall, "stall", 300*time.Millisecond, "how long the target stops answering in the stall-recovery measurement")
	fs.Float64Var(&o.stallRate, "stall-rate", 10000, "open-loop rate (req/s) of the stall-recovery measurement")
	fs.StringVar(&only, "only", "", "measure only these parts, comma-separated: max (closed loop), rate (open loop), mem, stall, ingest")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if only != "" {
		o.only = map[string]bool{}
		for _, part := range strings.Split(only, ",") {
			part = strings.TrimSpace(part)
			switch part {
			case groupMax, groupRate, groupMem, groupStall, partIngest:
				o.only[part] = true
			default:
				return o, fmt.Errorf("-only: unknown part %q (want max, rate, mem, stall or ingest)", part)
			}
		}
	}
	if o.short {
		o.reps, o.warmup, o.window = 1, 300*time.Millisecond, time.Second
		conc, rates, memConc = "16", "1000,5000", "10,100"
		o.memDelay, o.ingestRows, o.localRate = 50*time.Millisecond, 50_000, 200
		o.localConcurrency = 4
		o.stall, o.stallRate = 100*time.Millisecond, 2000
	}
	var err error
	if o.concurrency, err = parseInts(conc); err != nil {
		return o, fmt.Errorf("-concurrency: %w", err)
	}
	if o.memConcurrency, err = parseInts(memConc); err != nil || len(o.memConcurrency) != 2 || o.memConcurrency[0] >= o.memConcurrency[1] {
		return o, errors.New("-mem-concurrency: want two increasing numbers, e.g. 50,500")
	}
	for _, s := range strings.Split(rates, ",") {
		r, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil || r <= 0 {
			return o, fmt.Errorf("-rates: bad rate %q", s)
		}
		o.rates = append(o.rates, r)
	}
	if o.reps < 1 || o.window <= 0 || o.warmup < 0 {
		return o, errors.New("need -reps >= 1, -window > 0, -warmup >= 0")
	}
	if o.stall < 0 || o.stall >= o.window/2 || o.stallRate <= 0 || o.stallRate != math.Trunc(o.stallRate) {
		return o, fmt.Errorf("need 0 <= -stall < half the window (%v) and a whole -stall-rate > 0", o.window/2)
	}
	return o, nil
}

func parseInts(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("bad number %q", f)
		}
		out = append(out, n)
	}
	return out, nil
}

// scenario is one measurement, run once per tool variant and repetition.
type scenario struct {
	group    string // table it belongs to
	spec     measure.Spec
	variants []variant
}

// variant is a tool with its sink.
type variant struct {
	name string // column name: "fbrun", "vegeta", "fbrun+sqlite", "fbrun@vegeta-load"
	tool string
	sink string
	// matched runs fbrun closed-loop at the concurrency vegeta really kept
	// in flight in the same repetition (its mean in flight, rounded), right
	// after vegeta's run: vegeta's workers hand every result to one
	// goroutine over an unbuffered channel and wait for the next tick, so
	// at c workers fewer than c requests are in flight, and a latency
	// comparison at the nominal c compares different loads.
	matched bool
}

var (
	vFBRun   = variant{name: "fbrun", tool: measure.ToolFBRun, sink: measure.SinkDiscard}
	vVegeta  = variant{name: "vegeta", tool: measure.ToolVegeta}
	vSQLite  = variant{name: "fbrun+sqlite", tool: measure.ToolFBRun, sink: measure.SinkSQLite}
	vMatched = variant{name: "fbrun@vegeta-load", tool: measure.ToolFBRun, sink: measure.SinkDiscard, matched: true}
)

// Table groups.
const (
	groupMax  = "max"
	groupRate = "rate"
	groupMem  = "mem"
	// groupStall is an open loop whose target stops answering for a while
	// (see stallAt): does the tool recover, or does the backlog it sends
	// once the target answers again keep it behind?
	groupStall = "stall"
)

// stallAt is when the bench stalls the target, from the start of an attack
// child: about a quarter into the window (the child's own start-up comes
// before its warm-up).
func stallAt(s measure.Spec) time.Duration { return s.Warmup + s.Window/4 }

func plan(o options, minimalURL, localURL string) []scenario {
	base := measure.Spec{Warmup: o.warmup, Window: o.window}
	var out []scenario
	add := func(group, tgt, url string, mode string, c int, rate float64, vs ...variant) {
		s := base
		s.Target, s.URL, s.Mode, s.Concurrency, s.Rate = tgt, url, mode, c, rate
		out = append(out, scenario{group: group, spec: s, variants: vs})
	}
	if o.runs(groupMax) {
		for i, c := range o.concurrency {
			vs := []variant{vFBRun, vVegeta}
			if o.sqlite && i == len(o.concurrency)-1 {
				vs = append(vs, vSQLite)
			}
			if c > 1 {
				vs = append(vs, vMatched)
			}
			add(groupMax, "minimal", minimalURL, measure.ModeMax, c, 0, vs...)
		}
	}
	if o.runs(groupRate) {
		for _, r := range o.rates {
			add(groupRate, "minimal", minimalURL, measure.ModeRate, 0, r, vFBRun, vVegeta)
		}
	}
	if o.runs(groupStall) && o.stall > 0 {
		add(groupStall, "minimal", minimalURL, measure.ModeRate, 0, o.stallRate, vFBRun, vVegeta)
		out[len(out)-1].spec.Stall = o.stall
	}
	if o.runs(groupMem) {
		for _, c := range o.memConcurrency {
			add(groupMem, "minimal+delay", minimalURL+"?delay="+o.memDelay.String(), measure.ModeMax, c, 0, vFBRun, vVegeta)
		}
	}
	if localURL != "" {
		vs := []variant{vFBRun, vVegeta}
		if o.localConcurrency > 1 {
			vs = append(vs, vMatched)
		}
		if o.runs(groupMax) {
			add(groupMax, "local", localURL, measure.ModeMax, o.localConcurrency, 0, vs...)
		}
		if o.runs(groupRate) {
			add(groupRate, "local", localURL, measure.ModeRate, 0, o.localRate, vFBRun, vVegeta)
		}
	}
	return out
}

// outcome holds the repetitions of one variant of one scenario.
type outcome struct {
	scenario scenario
	variant  variant
	runs     []*measure.Result
}

// report is everything a run produced, also written as JSON.
type report struct {
	Machine  machine           `json:"machine"`
	Options  map[string]any    `json:"options"`
	Results  []*measure.Result `json:"results"`
	Ingest   *ingestResult     `json:"ingest,omitempty"`
	Duration float64           `json:"duration_s"`
}

func benchMain(ctx context.Context, args []string, w io.Writer) error {
	o, err := parseOptions(args)
	if err != nil {
		return err
	}
	began := time.Now()
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("find own executable: %w", err)
	}
	tmp, err := os.MkdirTemp("", "fb-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)

	mach := describeMachine()
	minimalURL, stall, stopTarget, err := startTarget()
	if err != nil {
		return err
	}
	defer stopTarget()
	var localURL string
	if o.local && (o.runs(groupMax) || o.runs(groupRate)) {
		u, stopLocal, err := startLocal(ctx, exe, max(o.localConcurrency*4, 64))
		if err != nil {
			return err
		}
		defer stopLocal()
		localURL = u
	}

	scenarios := plan(o, minimalURL, localURL)
	var outcomes []*outcome
	index := map[string]*outcome{}
	for rep := 0; rep < o.reps; rep++ {
		for si, sc := range scenarios {
			var vs, matched []variant
			for _, v := range sc.variants {
				if v.matched {
					matched = append(matched, v) // after vegeta's run of this repetition
				} else {
					vs = append(vs, v)
				}
			}
			if rep%2 == 1 { // alternate which tool goes first
				vs = reversed(vs)
			}
			for _, v := range append(vs, matched...) {
				key := fmt.Sprintf("%d/%s", si, v.name)
				spec := sc.spec
				spec.Tool, spec.Sink, spec.Variant = v.tool, v.sink, v.name
				if v.matched {
					vr := index[fmt.Sprintf("%d/%s", si, vVegeta.name)].runs
					spec.Concurrency = matchedConcurrency(vr[len(vr)-1].InFlight)
				}
				if v.sink == measure.SinkSQLite {
					spec.DBDir = filepath.Join(tmp, fmt.Sprintf("db-%d-%d", rep, si))
					if err := os.MkdirAll(spec.DBDir, 0o755); err != nil {
						return err
					}
				}
				var stallTimer *time.Timer
				if spec.Stall > 0 {
					d := spec.Stall
					stallTimer = time.AfterFunc(stallAt(spec), func() { stall(d) })
				}
				res, err := runChild(ctx, exe, spec)
				if stallTimer != nil {
					stallTimer.Stop()
				}
				if err != nil {
					return fmt.Errorf("%s %s %s: %w", v.name, spec.Target, spec.Mode, err)
				}
				oc := index[key]
				if oc == nil {
					oc = &outcome{scenario: sc, variant: v}
					index[key] = oc
					outcomes = append(outcomes, oc)
				}
				oc.runs = append(oc.runs, res)
				fmt.Fprintf(os.Stderr, "rep %d %-17s %-14s %-4s c=%-3d rate=%-6g -> %8.0f req/s, %d errors\n",
					rep+1, v.name, spec.Target, spec.Mode, spec.Concurrency, spec.Rate, res.Throughput, res.Errors)
			}
		}
	}
	var ing *ingestResult
	if o.runs(partIngest) {
		if ing, err = measureIngest(ctx, filepath.Join(tmp, "ingest"), o.ingestRows); err != nil {
			return err
		}
	}
	mach.LoadAfter = loadAvg()
	rep := report{Machine: mach, Ingest: ing, Duration: time.Since(began).Seconds(), Options: map[string]any{
		"short": o.short, "reps": o.reps, "warmup": o.warmup.String(), "window": o.window.String(),
		"concurrency": o.concurrency, "rates": o.rates, "mem_concurrency": o.memConcurrency, "mem_delay": o.memDelay.String(),
		"local": o.local, "local_concurrency": o.localConcurrency, "local_rate": o.localRate, "ingest_rows": o.ingestRows,
		"stall": o.stall.String(), "stall_rate": o.stallRate,
	}}
	for _, oc := range outcomes {
		rep.Results = append(rep.Results, oc.runs...)
	}
	if o.jsonOut != "" {
		b, err := json.MarshalIndent(rep, "", "  ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(o.jsonOut, b, 0o644); err != nil {
			return err
		}
	}
	writeTables(w, rep, outcomes, o)
	return nil
}

// matchedConcurrency is the closed-loop concurrency that matches a tool's
// mean requests in flight: the nearest integer, at least 1.
func matchedConcurrency(inFlight float64) int {
	return max(1, int(math.Round(inFlight)))
}

func reversed(vs []variant) []variant {
	out := make([]variant, len(vs))
	for i, v := range vs {
		out[len(vs)-1-i] = v
	}
	return out
}

// runChild runs one measurement in a fresh child process.
func runChild(ctx context.Context, exe string, spec measure.Spec) (*measure.Result, error) {
	js, err := json.Marshal(spec)
	if err != nil {
		return nil, err
	}
	cctx, cancel := context.WithTimeout(ctx, spec.Warmup+spec.Window+60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(cctx, exe, "attack", "-spec", string(js))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("child: %w: %s", err, strings.TrimSpace(stderr.String()))
	}
	var res measure.Result
	if err := json.Unmarshal(out, &res); err != nil {
		return nil, fmt.Errorf("child output: %w", err)
	}
	return &res, nil
}

// startTarget serves the minimal target on a free loopback port.
func startTarget() (url string, stall func(time.Duration), stop func(), err error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, nil, fmt.Errorf("target: %w", err)
	}
	h := target.New(target.Config{})
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(abortiveCloseListener{ln}) //nolint:errcheck // returns ErrServerClosed on stop
	return "http://" + ln.Addr().String() + "/function1", h.Stall, func() { srv.Close() }, nil
}

// abortiveCloseListener makes the target close its connections with a
// reset (SO_LINGER 0) instead of a FIN. A tool closes its connections when
// its measurement ends; answered with a reset, neither end of a connection
// lingers in TIME_WAIT. Otherwise every measurement would leave its
// connections' client ports in TIME_WAIT for a minute, and after a few
// bursts of thousands of connections (the stall measurement) vegeta's
// dials fail with "address already in use": it binds its local address
// before it connects (its -laddr, 0.0.0.0 by default), which needs a port
// nothing holds, and loopback has 28,232 of them. The target closes a
// connection only after the client did (or on a bad request), when all its
// responses are written.
type abortiveCloseListener struct{ net.Listener }

func (l abortiveCloseListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetLinger(0) // best effort: a connection without it only lingers
	}
	return c, err
}

// startLocal starts the embedded local platform with function1 served by
// this executable's lab runtime, and returns its invoke URL.
func startLocal(ctx context.Context, exe string, maxInstances int) (string, func(), error) {
	cfg := localfaas.DefaultConfig()
	cfg.IdleTimeout, cfg.MaxLifetime = time.Hour, 0 // keep instances warm for the whole run
	cfg.MaxInstances, cfg.ScaleBurst = maxInstances, maxInstances
	cfg.Logger = slog.New(slog.DiscardHandler)
	cfg.Functions = []localfaas.FunctionSpec{{Name: "function1", Runtime: localfaas.RuntimeLambda,
		Command: []string{exe, "lab-runtime", "lambda"}, MemoryMB: 128, Timeout: 30 * time.Second}}
	p, err := localfaas.New(cfg)
	if err != nil {
		return "", nil, fmt.Errorf("local platform: %w", err)
	}
	if err := p.Start(ctx); err != nil {
		return "", nil, fmt.Errorf("local platform: %w", err)
	}
	stop := func() {
		sctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		_ = p.Close(sctx)
	}
	url := p.URL() + "/2015-03-31/functions/function1/invocations"
	if err := prewarm(ctx, url, maxInstances); err != nil {
		stop()
		return "", nil, fmt.Errorf("local platform: %w", err)
	}
	return url, stop, nil
}

// prewarm starts n instances of the local function before any measurement:
// n overlapping invocations that each sleep a while. Otherwise the first
// tool whose load needs more instances than are warm pays their cold
// starts — process spawns on the 2 cores the tools share, which stalled
// fbrun's open loop by up to 158 ms in its first repetition and got it
// throttled — and the tool that runs after it finds them warm.
func prewarm(ctx context.Context, url string, n int) error {
	errs := make(chan error, n)
	for range n {
		go func() {
			req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(`{"sleep":0.3}`))
			if err != nil {
				errs <- err
				return
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				errs <- err
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				err = fmt.Errorf("prewarm invocation: status %s", resp.Status)
			}
			errs <- err
		}()
	}
	var first error
	for range n {
		if err := <-errs; err != nil && first == nil {
			first = err
		}
	}
	return first
}

// machine describes where the numbers come from.
type machine struct {
	CPUModel   string `json:"cpu_model"`
	CPUs       int    `json:"cpus"`
	GOMAXPROCS int    `json:"gomaxprocs"`
	GoVersion  string `json:"go_version"`
	OS         string `json:"os"`
	LoadBefore string `json:"load_before"`
	LoadAfter  string `json:"load_after"`
	Time       string `json:"time"`
}

func describeMachine() machine {
	m := machine{CPUs: runtime.NumCPU(), GOMAXPROCS: runtime.GOMAXPROCS(0), GoVersion: runtime.Version(),
		OS: runtime.GOOS + "/" + runtime.GOARCH, LoadBefore: loadAvg(), Time: time.Now().UTC().Format(time.RFC3339)}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPUModel = strings.TrimSpace(v)
				break
			}
		}
	}
	return m
}

func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}
