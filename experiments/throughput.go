package experiments

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/faas-benchmarker/faas-benchmarker/engine"
	"github.com/faas-benchmarker/faas-benchmarker/functions/lab"
	"github.com/faas-benchmarker/faas-benchmarker/providers"
)

// Throughput measures compute throughput and what it costs.
//
// Question: how much CPU work does an invocation get done, alone and with
// others running at the same time, at each memory size — and what does one
// invocation cost?
//
// Method: throughput_time asks the lab function to spin the CPU for that
// many seconds and report the iterations it completed: iterations per
// second is the compute speed the platform gives one invocation (Lambda
// scales CPU with memory). The monolith workloads (fib, nqueens, ... with
// fixed sizes and seeds, so the work is identical every time) report their
// own run time. Each runs sequentially (mode "sequential": one invocation
// at a time) and concurrently (mode "concurrent": bursts of `concurrency`
// behind a barrier), so contention shows as the ratio. For a memory sweep,
// deploy the function once per memory size and list the deployments in
// functions; the memory size of each invocation is read from the platform
// report (or the function's own view). Cost per invocation is computed
// from the platform-reported billed duration and memory with the dated
// price table in prices.go (PricesAsOf, sources listed there); price=auto
// picks the platform's table: on AWS the entry of each function's
// architecture as Lambda reports it (arm64 or x86_64), local is priced as
// Lambda x86.
//
// Metrics: throughput_iterations_per_s and workload_ms with tags
// memory_mb, mode, workload; cost_usd_per_invocation with tag memory_mb.
//
// Parameters: functions (function1), throughput_time (200ms), monolith
// (monolith; empty: skip the workloads), workloads (fib:30,nqueens:10),
// modes (sequential,concurrent), repeats (5), concurrency (2), price (auto;
// or a name from the price table; none: no cost).
//
// Estimates: throughput_iterations_per_s (sequential) and
// throughput_concurrent_iterations_per_s (per invocation, concurrent), both
// medians; concurrency_slowdown (sequential / concurrent);
// workload_ms_<name> (sequential median); cost_usd_per_invocation (median,
// throughput_time invocations); memory_mb. With several functions the
// per-function values get the suffix _<memory>mb. Medians carry 95 %
// order-statistic intervals, concurrency_slowdown the Price–Bonett interval
// of a ratio of medians. The invocations of one function run on the
// instances it had warm, so the intervals describe those instances: the
// spread between hosts shows only across runs (the study's repetitions).
//
// Known limits: CPU speed varies with the host an instance lands on; read
// the spread, not only the median. Costs leave out free tiers, data
// transfer and provisioned concurrency; check the price table's date.
type Throughput struct{}

// Name implements Experiment.
func (Throughput) Name() string { return "throughput" }

// Summary implements Experiment.
func (Throughput) Summary() string {
	return "compute throughput (busy CPU and monolith workloads), sequential vs concurrent, per memory size, with cost per invocation"
}

// Params implements Experiment.
func (Throughput) Params() []Param {
	return []Param{
		ListParam("functions", "function1", "deployments to compare (one per memory size)").Required(),
		DurationParam("throughput_time", "200ms", "busy CPU per invocation (a plain number is seconds, as before)").AtLeast(0).Seconds(),
		StringParam("monolith", "monolith", "function running the workloads (empty: skip)"),
		ListParam("workloads", "fib:30,nqueens:10", "monolith workloads as name:size").Checked(checkWorkloads),
		ListParam("modes", "sequential,concurrent", "sequential and/or concurrent").OneOf("sequential", "concurrent"),
		IntParam("repeats", "5", "invocations per function, workload and mode").AtLeast(1),
		IntParam("concurrency", "2", "invocations at once in concurrent mode").AtLeast(1),
		StringParam("price", "auto", "price table entry (auto, none, or a name from prices.go)").OneOf(priceChoices()...),
	}
}

// memoryOf reads the memory size of an invocation: the platform's report,
// else the function's own view.
func memoryOf(r *engine.Result) int {
	if r.Record.Report != nil && r.Record.Report.MemorySizeMB > 0 {
		return r.Record.Report.MemorySizeMB
	}
	if r.Response != nil {
		return r.Response.Instance.MemoryLimitMB
	}
	return 0
}

type workloadSpec struct {
	name string
	size int
}

// checkWorkloads validates the workloads parameter (Param.Check).
func checkWorkloads(raw string) error {
	if _, err := parseWorkloads(splitList(raw)); err != nil {
		return errors.New("a comma-separated list of name:size, e.g. fib:25,nqueens:8")
	}
	return nil
}

// pricesFor resolves the price parameter for each function before any
// invocation: none (nil prices), one named table entry for all, or auto:
// what the platform declares (engine.Config.Pricing) — one entry for all
// its functions, or the entry of each function's architecture as the
// platform reports it (AWS Lambda bills arm64 20 % below x86_64, and the
// stack deploys arm64 by default). A function whose architecture cannot
// be read is an error naming the prices to set instead.
func pricesFor(ctx context.Context, b *engine.Benchmarker, name string, fns []string) (map[string]*Price, error) {
	out := map[string]*Price{}
	set := func(fn, entry string) error {
		pr, err := PriceByName(entry)
		if err != nil {
			return err
		}
		out[fn] = &pr
		return nil
	}
	pricing := b.Pricing()
	for _, fn := range fns {
		entry := name
		switch {
		case name == "none":
			continue
		case name == "auto" && pricing.ByArchitecture != nil:
			var err error
			if entry, err = archPrice(ctx, b, pricing, fn); err != nil {
				return nil, err
			}
		case name == "auto":
			entry = pricing.Default
		}
		if entry == "" {
			continue
		}
		if err := set(fn, entry); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// archPrice returns the price entry of fn's architecture.
func archPrice(ctx context.Context, b *engine.Benchmarker, pricing providers.Pricing, fn string) (string, error) {
	arch, err := b.Architecture(ctx, fn)
	entry, ok := pricing.ByArchitecture[arch]
	if err == nil && !ok {
		err = fmt.Errorf("no price for architecture %q", arch)
	}
	if err != nil {
		entries := make([]string, 0, len(pricing.ByArchitecture))
		for _, e := range pricing.ByArchitecture {
			entries = append(entries, "price="+e)
		}
		sort.Strings(entries)
		return "", fmt.Errorf("throughput: price=auto: the architecture of %s: %w (set %s or price=none)", fn, err, strings.Join(entries, ", "))
	}
	return entry, nil
}

// priceChoices are the accepted values of the price parameter.
func priceChoices() []string {
	out := []string{"auto", "none"}
	for _, p := range Prices {
		out = append(out, p.Name)
	}
	return out
}

func parseWorkloads(items []string) ([]workloadSpec, error) {
	var out []workloadSpec
	for _, it := range items {
		name, size, ok := strings.Cut(it, ":")
		n, err := strconv.Atoi(size)
		if !ok || err != nil || name == "" {
			return nil, fmt.Errorf("throughput: workload %q: want name:size, e.g. fib:25", it)
		}
		out = append(out, workloadSpec{name, n})
	}
	return out, nil
}

// Run implements Experiment.
func (Throughput) Run(ctx context.Context, b *engine.Benchmarker, p Params) (Estimates, error) {
	fns, modes := p.List("functions"), p.List("modes")
	tt, mono, repeats, conc := p.Duration("throughput_time").Seconds(), p.String("monolith"), p.Int("repeats"), p.Int("concurrency")
	wls, err := parseWorkloads(p.List("workloads"))
	if err != nil {
		return nil, err
	}
	prices, err := pricesFor(ctx, b, p.String("price"), fns)
	if err != nil {
		return nil, err
	}
	rounds := (repeats + conc - 1) / conc
	b.Expect(int64(len(modes) * (len(fns) + len(wls)) * (repeats + rounds*conc)))

	// run invokes fn in mode and returns the successful results.
	run := func(fn, mode string, req lab.Request) []*engine.Result {
		pb := b.WithPhase(mode)
		var rs []*engine.Result
		if mode == "sequential" {
			rs = pb.InvokeSequentially(ctx, fn, repeats, req)
		} else {
			for i := 0; i < rounds && ctx.Err() == nil; i++ {
				rs = append(rs, pb.InvokeConcurrently(ctx, fn, conc, req)...)
			}
		}
		var ok []*engine.Result
		for _, r := range rs {
			if r.OK() {
				ok = append(ok, r)
			}
		}
		return ok
	}
	est := newEstimates()
	suffix := func(mem int) string {
		if len(fns) > 1 {
			return fmt.Sprintf("_%dmb", mem)
		}
		return ""
	}
	var seqIPS, conIPS []float64
	for _, fn := range fns {
		fnMem := 0
		for _, mode := range modes {
			// Warm the function first so cold starts do not count as throughput.
			b.WithPhase("warmup").Invoke(ctx, fn, lab.Request{})
			pb := b.WithPhase(mode)
			var ips, costs []float64
			mem, price := 0, prices[fn]
			for _, r := range run(fn, mode, lab.Request{ThroughputTime: tt}) {
				mem = memoryOf(r)
				tags := map[string]string{TagMemoryMB: strconv.Itoa(mem), "mode": mode, "workload": "throughput_time", "function": fn}
				if th := r.Response.Timing.Throughput; th != nil && th.RequestedS > 0 {
					v := float64(th.Iterations) / th.RequestedS
					ips = append(ips, v)
					pb.Record(MetricThroughput, v, tags)
				}
				if price != nil && r.Record.Report != nil && r.Record.Report.BilledMS > 0 && mem > 0 {
					c := price.Cost(r.Record.Report.BilledMS, float64(mem))
					costs = append(costs, c)
					pb.Record(MetricCostPerInvocation, c, map[string]string{TagMemoryMB: strconv.Itoa(mem), "price": price.Name, "mode": mode})
				}
			}
			if mem > 0 {
				fnMem = mem
			}
			s := suffix(fnMem)
			if mode == "sequential" {
				est.quantile("throughput_iterations_per_s"+s, ips, 0.5)
				est.quantile("cost_usd_per_invocation"+s, costs, 0.5)
				seqIPS = ips
				if mem > 0 {
					est.set("memory_mb"+s, float64(mem))
				}
			} else {
				est.quantile("throughput_concurrent_iterations_per_s"+s, ips, 0.5)
				conIPS = ips
			}
		}
		est.ratioMedians("concurrency_slowdown"+suffix(fnMem), seqIPS, conIPS)
		seqIPS, conIPS = nil, nil
	}
	if mono != "" {
		for _, w := range wls {
			for _, mode := range modes {
				b.WithPhase("warmup").Invoke(ctx, mono, lab.Request{})
				pb := b.WithPhase(mode)
				var ms []float64
				for _, r := range run(mono, mode, lab.Request{RunFunction: w.name, Args: w.size, Seed: 1}) {
					if r.Response.Result == nil {
						continue
					}
					v := float64(r.Response.Result.DurationNS) / 1e6
					ms = append(ms, v)
					pb.Record(MetricWorkloadMS, v, map[string]string{TagMemoryMB: strconv.Itoa(memoryOf(r)), "mode": mode,
						"workload": w.name, "args": strconv.Itoa(w.size)})
				}
				if mode == "sequential" {
					est.quantile("workload_ms_"+w.name, ms, 0.5)
				} else {
					est.quantile("workload_concurrent_ms_"+w.name, ms, 0.5)
				}
			}
		}
	}
	est.logNotes(b.Logger())
	if err := ctx.Err(); err != nil {
		return est.result(err)
	}
	if _, ok := est.Estimates["throughput_iterations_per_s"]; !ok && len(fns) == 1 && tt > 0 && contains(modes, "sequential") {
		return est.result(errors.New("throughput: no successful throughput_time invocation"))
	}
	return est.result(nil)
}

func contains(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}
