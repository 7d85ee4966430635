// Package measure runs one load-generation measurement with either fbrun's
// engine (through the plain HTTP provider) or vegeta (as a library) against
// an HTTP target, and summarises it the same way for both tools: throughput,
// send lateness against the tool's own schedule, client overhead (latency
// minus the server's own handling time), CPU per 1,000 requests (getrusage)
// and live memory while requests are in flight.
//
// A measurement has a warm-up (connections opened, instances started) and
// a window; only requests sent inside the window count, and CPU and memory
// are sampled at the window's edges and inside it. Run one measurement per
// process (the bench command does) so that CPU and memory belong to one
// tool only.
package measure

import (
	"context"
	"errors"
	"fmt"
	"math"
	"runtime/metrics"
	"slices"
	"sync"
	"time"

	"github.com/faas-benchmarker/faas-benchmarker/stats"
)

// Tools.
const (
	ToolFBRun  = "fbrun"
	ToolVegeta = "vegeta"
)

// Modes.
const (
	// ModeMax is a closed loop at fixed concurrency: each of Concurrency
	// workers sends its next request when the previous one returns.
	ModeMax = "max"
	// ModeRate is an open loop at a constant Rate.
	ModeRate = "rate"
)

// Sinks for fbrun's records.
const (
	// SinkDiscard counts records and drops them (measures the engine).
	SinkDiscard = "discard"
	// SinkSQLite streams records into a results database (end to end).
	SinkSQLite = "sqlite"
)

// LateThreshold is the send lateness counted as late.
const LateThreshold = time.Millisecond

// Spec describes one measurement.
type Spec struct {
	Tool string `json:"tool"`
	Mode string `json:"mode"`
	// Target names the target in reports ("minimal", "local").
	Target string `json:"target"`
	// URL is the URL both tools POST to.
	URL string `json:"url"`
	// Function is the lab function name fbrun's provider maps to URL
	// (default "function1").
	Function string `json:"function,omitempty"`
	// Concurrency is the number of closed-loop workers (ModeMax).
	Concurrency int `json:"concurrency,omitempty"`
	// Rate is the open-loop rate in requests per second (ModeRate).
	Rate float64 `json:"rate,omitempty"`
	// Warmup precedes the measured Window.
	Warmup time.Duration `json:"warmup"`
	// Window is the measured part of the attack.
	Window time.Duration `json:"window"`
	// Sink is SinkDiscard (default) or SinkSQLite (fbrun only).
	Sink string `json:"sink,omitempty"`
	// DBDir holds the SQLite database for SinkSQLite.
	DBDir string `json:"db_dir,omitempty"`
	// Variant names the bench column the measurement belongs to, e.g.
	// "fbrun@vegeta-load" (informational; the bench sets it).
	Variant string `json:"variant,omitempty"`
	// Stall is how long the target stopped answering about a quarter into
	// the window (informational: the bench, which owns the target, stalls
	// it; the attack itself is unchanged).
	Stall time.Duration `json:"stall,omitempty"`
}

// Validate reports an inconsistent Spec.
func (s Spec) Validate() error {
	var errs []error
	if s.Tool != ToolFBRun && s.Tool != ToolVegeta {
		errs = append(errs, fmt.Errorf("unknown tool %q", s.Tool))
	}
	switch s.Mode {
	case ModeMax:
		if s.Concurrency <= 0 {
			errs = append(errs, errors.New("mode max needs concurrency > 0"))
		}
	case ModeRate:
		if s.Rate <= 0 || s.Rate > 1e6 || s.Rate != math.Trunc(s.Rate) {
			errs = append(errs, errors.New("mode rate needs a whole rate in (0, 1e6] req/s"))
		}
	default:
		errs = append(errs, fmt.Errorf("unknown mode %q", s.Mode))
	}
	if s.URL == "" {
		errs = append(errs, errors.New("no URL"))
	}
	if s.Window <= 0 || s.Warmup < 0 {
		errs = append(errs, errors.New("window must be > 0 and warmup >= 0"))
	}
	switch s.Sink {
	case "", SinkDiscard:
	case SinkSQLite:
		if s.Tool != ToolFBRun || s.DBDir == "" {
			errs = append(errs, errors.New("sink sqlite is for fbrun and needs db_dir"))
		}
	default:
		errs = append(errs, fmt.Errorf("unknown sink %q", s.Sink))
	}
	return errors.Join(errs...)
}

// Result is the summary of one measurement. Durations are in
// microseconds, CPU in milliseconds.
type Result struct {
	Spec Spec `json:"spec"`
	// Requests is the number of requests sent in the window that
	// completed; Errors of them failed.
	Requests int `json:"requests"`
	Errors   int `json:"errors"`
	// ErrorKinds counts the errors by kind (fbrun's error kind, vegeta's
	// error text or HTTP status).
	ErrorKinds map[string]int `json:"error_kinds,omitempty"`
	// Throughput is Requests per second of window.
	Throughput float64 `json:"throughput"`
	// InFlight is the mean number of requests in flight over the window
	// (Little's law: the summed latency of the window's requests divided
	// by the window). In closed loop it shows the concurrency a tool really
	// kept up, which can be below the configured one: vegeta's workers
	// wait on an unbuffered results channel between requests.
	InFlight float64 `json:"in_flight"`
	// Open loop: requests due in the window, not sent at all (fbrun's
	// in-flight bound; vegeta never drops), and sent more than
	// LateThreshold after their due time.
	Scheduled int `json:"scheduled,omitempty"`
	Dropped   int `json:"dropped,omitempty"`
	Late      int `json:"late,omitempty"`
	// AchievedRate is (sent-1)/(last send - first send) in the window.
	AchievedRate float64 `json:"achieved_rate,omitempty"`
	// Lateness is actual minus scheduled send time (open loop only).
	LatenessP50US float64 `json:"lateness_p50_us,omitempty"`
	LatenessP99US float64 `json:"lateness_p99_us,omitempty"`
	LatenessMaxUS float64 `json:"lateness_max_us,omitempty"`
	// Latency is the tool-measured round trip; Overhead is latency minus
	// the server's own handling time, over requests that report it.
	LatencyP50US  float64 `json:"latency_p50_us"`
	LatencyP99US  float64 `json:"latency_p99_us"`
	OverheadP50US float64 `json:"overhead_p50_us"`
	OverheadP99US float64 `json:"overhead_p99_us"`
	// OverheadN is the number of requests with a known server time.
	OverheadN int `json:"overhead_n"`
	// CPU used by this process during the window (getrusage).
	UserCPUMS    float64 `json:"user_cpu_ms"`
	SysCPUMS     float64 `json:"sys_cpu_ms"`
	CPUMSPer1000 float64 `json:"cpu_ms_per_1000"`
	// Medians of samples taken every 100 ms in the window: live heap after
	// the last GC, goroutine stacks, goroutines.
	LiveHeapBytes float64 `json:"live_heap_bytes"`
	StackBytes    float64 `json:"stack_bytes"`
	Goroutines    float64 `json:"goroutines"`
	// StackStartBytes is the stack the runtime gives a new goroutine
	// (median over the window): since Go 1.19 it is the average stack in
	// use at the last GCs, rounded up to a power of two, so a small change
	// in stack depth can double every new goroutine's stack.
	StackStartBytes float64 `json:"stack_start_bytes"`
	// SinkRecords is the number of records fbrun's sink received (all of
	// the attack, warm-up included).
	SinkRecords int64 `json:"sink_records,omitempty"`
}

// sample is one request as seen by a tool, times relative to the start of
// its attack.
type sample struct {
	scheduled time.Duration // -1 in closed loop
	sent      time.Duration
	latency   time.Duration
	server    time.Duration // -1 when unknown
	ok        bool
	errKind   string // when !ok
}

// Run performs the measurement described by spec.
func Run(ctx context.Context, spec Spec) (*Result, error) {
	if spec.Function == "" {
		spec.Function = "function1"
	}
	if spec.Sink == "" {
		spec.Sink = SinkDiscard
	}
	if err := spec.Validate(); err != nil {
		return nil, fmt.Errorf("measure: %w", err)
	}
	var (
		out *run
		err error
	)
	switch spec.Tool {
	case ToolFBRun:
		out, err = runFBRun(ctx, spec)
	default:
		out, err = runVegeta(ctx, spec)
	}
	if err != nil {
		return nil, err
	}
	return summarize(spec, out), nil
}

// run is what a tool run hands to summarize.
type run struct {
	samples     []sample
	dropped     int
	sinkRecords int64
	window      windowStats
}

// windowStats holds what the observer saw during the window.
type windowStats struct {
	user, sys              time.Duration
	heap, stack, goroutine []float64
	stackStart             []float64
}

// observer snapshots CPU at the window's edges and samples memory inside
// it. Start it when the attack starts; Wait returns what it saw.
type observer struct {
	done chan struct{}
	ws   windowStats
	err  error
}

func observe(ctx context.Context, warmup, window time.Duration) *observer {
	o := &observer{done: make(chan struct{})}
	start := time.Now()
	go func() {
		defer close(o.done)
		if !sleepUntil(ctx, start.Add(warmup)) {
			o.err = ctx.Err()
			return
		}
		u0, s0, err := cpuTimes()
		if err != nil {
			o.err = err
			return
		}
		names := []metrics.Sample{{Name: "/gc/heap/live:bytes"}, {Name: "/memory/classes/heap/stacks:bytes"},
			{Name: "/sched/goroutines:goroutines"}, {Name: "/gc/stack/starting-size:bytes"}}
		end := start.Add(warmup + window)
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for time.Now().Before(end) {
			metrics.Read(names)
			o.ws.heap = append(o.ws.heap, metricValue(names[0]))
			o.ws.stack = append(o.ws.stack, metricValue(names[1]))
			o.ws.goroutine = append(o.ws.goroutine, metricValue(names[2]))
			o.ws.stackStart = append(o.ws.stackStart, metricValue(names[3]))
			left := time.Until(end)
			if left <= 0 {
				break
			}
			select {
			case <-ctx.Done():
				o.err = ctx.Err()
				return
			case <-tick.C:
			case <-time.After(left):
			}
		}
		u1, s1, err := cpuTimes()
		if err != nil {
			o.err = err
			return
		}
		o.ws.user, o.ws.sys = u1-u0, s1-s0
	}()
	return o
}

func (o *observer) wait() (windowStats, error) {
	<-o.done
	return o.ws, o.err
}

func metricValue(s metrics.Sample) float64 {
	switch s.Value.Kind() {
	case metrics.KindUint64:
		return float64(s.Value.Uint64())
	case metrics.KindFloat64:
		return s.Value.Float64()
	}
	return 0
}

func sleepUntil(ctx context.Context, t time.Time) bool {
	d := time.Until(t)
	if d <= 0 {
		return ctx.Err() == nil
	}
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-tm.C:
		return true
	}
}

// summarize turns samples into a Result; only samples sent in
// [Warmup, Warmup+Window) count.
func summarize(spec Spec, r *run) *Result {
	res := &Result{Spec: spec, Dropped: r.dropped, SinkRecords: r.sinkRecords}
	lo, hi := spec.Warmup, spec.Warmup+spec.Window
	var lat, over, late []float64
	var latSum time.Duration
	first, last := time.Duration(math.MaxInt64), time.Duration(math.MinInt64)
	for _, s := range r.samples {
		ref := s.sent
		if s.scheduled >= 0 {
			ref = s.scheduled // open loop: the window is over the schedule
		}
		if ref < lo || ref >= hi {
			continue
		}
		res.Requests++
		if !s.ok {
			res.Errors++
			if res.ErrorKinds == nil {
				res.ErrorKinds = map[string]int{}
			}
			res.ErrorKinds[s.errKind]++
		}
		first, last = min(first, s.sent), max(last, s.sent)
		lat = append(lat, us(s.latency))
		latSum += s.latency
		if s.server >= 0 {
			over = append(over, us(s.latency-s.server))
		}
		if s.scheduled >= 0 {
			l := s.sent - s.scheduled
			late = append(late, us(l))
			if l > LateThreshold {
				res.Late++
			}
		}
	}
	res.Throughput = float64(res.Requests) / spec.Window.Seconds()
	res.InFlight = latSum.Seconds() / spec.Window.Seconds()
	res.LatencyP50US, res.LatencyP99US = p50p99(lat)
	res.OverheadP50US, res.OverheadP99US = p50p99(over)
	res.OverheadN = len(over)
	if spec.Mode == ModeRate {
		res.Scheduled = res.Requests + res.Dropped
		res.LatenessP50US, res.LatenessP99US = p50p99(late)
		if len(late) > 0 {
			res.LatenessMaxUS = slices.Max(late)
		}
		if res.Requests > 1 && last > first {
			res.AchievedRate = float64(res.Requests-1) / (last - first).Seconds()
		}
	}
	w := r.window
	res.UserCPUMS, res.SysCPUMS = ms(w.user), ms(w.sys)
	if res.Requests > 0 {
		res.CPUMSPer1000 = (res.UserCPUMS + res.SysCPUMS) / float64(res.Requests) * 1000
	}
	res.LiveHeapBytes = median(w.heap)
	res.StackBytes = median(w.stack)
	res.Goroutines = median(w.goroutine)
	res.StackStartBytes = median(w.stackStart)
	return res
}

func us(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }
func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// p50p99 returns the median and 99th percentile of xs, zeros when xs is
// empty (JSON has no NaN; the counts say whether there were samples).
func p50p99(xs []float64) (float64, float64) {
	if len(xs) == 0 {
		return 0, 0
	}
	s := stats.Sorted(xs)
	return stats.Percentile(s, 0.50), stats.Percentile(s, 0.99)
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	return stats.Median(stats.Sorted(xs))
}

// collector gathers samples from concurrent workers.
type collector struct {
	mu      sync.Mutex
	samples []sample
}

func (c *collector) add(s []sample) {
	c.mu.Lock()
	c.samples = append(c.samples, s...)
	c.mu.Unlock()
}
