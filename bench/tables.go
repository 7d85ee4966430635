package main

import (
	"fmt"
	"io"
	"math"
	"time"

	"github.com/faas-benchmarker/faas-benchmarker/bench/measure"
	"github.com/faas-benchmarker/faas-benchmarker/stats"
)

// agg is the median and range of one quantity over repetitions.
type agg struct{ med, lo, hi float64 }

func aggregate(runs []*measure.Result, f func(*measure.Result) float64) agg {
	return summarize(values(runs, f))
}

// values is f of every run, in repetition order.
func values(runs []*measure.Result, f func(*measure.Result) float64) []float64 {
	xs := make([]float64, len(runs))
	for i, r := range runs {
		xs[i] = f(r)
	}
	return xs
}

// ratios is a[i] / b[i] for the repetitions both have (b[i] = 0 skipped).
func ratios(a, b []float64) []float64 {
	var xs []float64
	for i := 0; i < min(len(a), len(b)); i++ {
		if b[i] != 0 {
			xs = append(xs, a[i]/b[i])
		}
	}
	return xs
}

// summarize is the median and range of xs (NaN when empty).
func summarize(xs []float64) agg {
	st := stats.Summarize(xs)
	return agg{st.P50, st.Min, st.Max}
}

// fmt prints the median with the range when there are several runs.
func (a agg) fmt(prec int) string {
	if math.IsNaN(a.med) {
		return "–"
	}
	if a.lo == a.hi {
		return fmt.Sprintf("%.*f", prec, a.med)
	}
	return fmt.Sprintf("%.*f (%.*f–%.*f)", prec, a.med, prec, a.lo, prec, a.hi)
}

// pairedRatio is the median and range over repetitions of f(a[i]) /
// f(b[i]): the bench runs the tools of a cell back to back in every
// repetition, so a ratio within a repetition cancels the machine's drift
// between repetitions (the same binary's throughput wanders by ±15 % over
// minutes on a shared virtual machine), which a ratio of medians would not.
func pairedRatio(a, b []*measure.Result, f func(*measure.Result) float64) string {
	return ratioSummary(pairedRatios(a, b, f))
}

// pairedRatios is f(a[i]) / f(b[i]) for the repetitions both have.
func pairedRatios(a, b []*measure.Result, f func(*measure.Result) float64) []float64 {
	return ratios(values(a, f), values(b, f))
}

// ratioSummary prints per-repetition ratios as their median, then, from 6
// repetitions on, the distribution-free 95 % confidence interval for that
// median in brackets (stats.Summarize's MedianCI: order statistics, exact
// binomial coverage, no assumption about the ratios' distribution, which
// on a shared machine has heavy tails), then the range.
func ratioSummary(xs []float64) string {
	if len(xs) == 0 {
		return "–"
	}
	st := stats.Summarize(xs)
	if ci := st.MedianCI; ci.OK {
		return fmt.Sprintf("%.2f [%.2f–%.2f] (%.2f–%.2f)", st.P50, ci.Low, ci.High, st.Min, st.Max)
	}
	return agg{st.P50, st.Min, st.Max}.fmt(2)
}

// perRequest is, for each repetition i, (f(hi[i]) − f(lo[i])) / (cHi − cLo):
// the memory one more in-flight request holds, from the two concurrencies
// of the same repetition.
func perRequest(lo, hi []*measure.Result, cLo, cHi int, f func(*measure.Result) float64) []float64 {
	var xs []float64
	for i := 0; i < min(len(lo), len(hi)); i++ {
		xs = append(xs, (f(hi[i])-f(lo[i]))/float64(cHi-cLo))
	}
	return xs
}

// key identifies a cell of the tables: a target at one concurrency (closed
// loop) or rate (open loop), and the stall of a stall-recovery cell.
type key struct {
	target string
	c      int
	rate   float64
	stall  time.Duration
}

// match selects the specs of cell k.
func (k key) match() func(measure.Spec) bool {
	return func(s measure.Spec) bool {
		return s.Target == k.target && s.Concurrency == k.c && s.Rate == k.rate && s.Stall == k.stall
	}
}

// find returns the outcome of variant name for the scenario matching pred.
func find(ocs []*outcome, name string, pred func(measure.Spec) bool) []*measure.Result {
	for _, oc := range ocs {
		if oc.variant.name == name && pred(oc.scenario.spec) {
			return oc.runs
		}
	}
	return nil
}

func writeTables(w io.Writer, rep report, ocs []*outcome, o options) {
	m := rep.Machine
	p := func(format string, args ...any) { fmt.Fprintf(w, format, args...) }
	p("Machine: %s, %d CPUs (GOMAXPROCS %d), %s, %s; load average before %s, after %s; %s.\n",
		m.CPUModel, m.CPUs, m.GOMAXPROCS, m.GoVersion, m.OS, m.LoadBefore, m.LoadAfter, m.Time)
	p("Runs: %d repetition(s) per cell, %v warm-up + %v window each; cells show median (min–max).\n", o.reps, o.warmup, o.window)
	p("Ratios fbrun/vegeta are the median (min–max) of the per-repetition ratios; each repetition runs the tools of a cell back to back. ")
	p("From 6 repetitions on, [a–b] after the median is its distribution-free 95 %% confidence interval (order statistics).\n\n")

	var maxKeys, rateKeys, stallKeys []key
	seen := map[key]bool{}
	for _, oc := range ocs {
		s := oc.scenario.spec
		k := key{s.Target, s.Concurrency, s.Rate, s.Stall}
		if seen[k] {
			continue
		}
		seen[k] = true
		switch oc.scenario.group {
		case groupMax:
			maxKeys = append(maxKeys, k)
		case groupRate:
			rateKeys = append(rateKeys, k)
		case groupStall:
			stallKeys = append(stallKeys, k)
		}
	}
	thr := func(r *measure.Result) float64 { return r.Throughput }
	cpu := func(r *measure.Result) float64 { return r.CPUMSPer1000 }

	if len(maxKeys) > 0 {
		p("### Maximum sustained throughput, closed loop at fixed concurrency (req/s)\n\n")
		p("In flight = mean requests in flight over the window (Little's law: summed latency / window), the concurrency a tool really kept up. ")
		p("\"At vegeta's load\" is fbrun run right after vegeta in the same repetition at the concurrency vegeta really kept (its in flight, rounded).\n\n")
		p("| target | concurrency | fbrun | vegeta | fbrun/vegeta | fbrun at vegeta's load (c) | its ratio to vegeta | fbrun + SQLite sink | fbrun CPU ms/1k req | vegeta CPU ms/1k req | CPU per request fbrun/vegeta | in flight fbrun | in flight vegeta |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|\n")
		inFlight := func(r *measure.Result) float64 { return r.InFlight }
		conc := func(r *measure.Result) float64 { return float64(r.Spec.Concurrency) }
		for _, k := range maxKeys {
			f, v, s, mt := find(ocs, "fbrun", k.match()), find(ocs, "vegeta", k.match()), find(ocs, "fbrun+sqlite", k.match()), find(ocs, vMatched.name, k.match())
			atLoad, atLoadRatio := "–", "–"
			if len(mt) > 0 {
				atLoad = aggregate(mt, thr).fmt(0) + " (" + aggregate(mt, conc).fmt(0) + ")"
				atLoadRatio = pairedRatio(mt, v, thr)
			}
			p("| %s | %d | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", k.target, k.c, aggregate(f, thr).fmt(0), aggregate(v, thr).fmt(0),
				pairedRatio(f, v, thr), atLoad, atLoadRatio,
				aggregate(s, thr).fmt(0), aggregate(f, cpu).fmt(1), aggregate(v, cpu).fmt(1), pairedRatio(f, v, cpu),
				aggregate(f, inFlight).fmt(1), aggregate(v, inFlight).fmt(1))
		}
		p("\n")
	}
	if len(rateKeys) > 0 {
		p("### Open-loop accuracy at fixed rates\n\n")
		p("Lateness = actual send time − the tool's own scheduled send time (µs); late = sent > 1 ms after due.\n\n")
		p("| target | rate | tool | achieved req/s | lateness p50 | lateness p99 | lateness max | late | dropped | errors | CPU ms/1k req |\n|---|---|---|---|---|---|---|---|---|---|---|\n")
	}
	for _, k := range rateKeys {
		for _, name := range []string{"fbrun", "vegeta"} {
			rs := find(ocs, name, k.match())
			p("| %s | %g | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", k.target, k.rate, name,
				aggregate(rs, func(r *measure.Result) float64 { return r.AchievedRate }).fmt(0),
				aggregate(rs, func(r *measure.Result) float64 { return r.LatenessP50US }).fmt(0),
				aggregate(rs, func(r *measure.Result) float64 { return r.LatenessP99US }).fmt(0),
				aggregate(rs, func(r *measure.Result) float64 { return r.LatenessMaxUS }).fmt(0),
				aggregate(rs, func(r *measure.Result) float64 { return float64(r.Late) }).fmt(0),
				aggregate(rs, func(r *measure.Result) float64 { return float64(r.Dropped) }).fmt(0),
				aggregate(rs, func(r *measure.Result) float64 { return float64(r.Errors) }).fmt(0),
				aggregate(rs, cpu).fmt(1))
		}
	}
	if len(rateKeys) > 0 {
		p("\n")
	}

	for _, k := range stallKeys {
		f, v := find(ocs, "fbrun", k.match()), find(ocs, "vegeta", k.match())
		if len(f) == 0 {
			continue
		}
		p("### Recovering from a stall: open loop at %g/s, the target stops answering for %v about a quarter into the window\n\n", k.rate, k.stall)
		p("Requests due during the stall are sent on schedule and wait; when the target answers again the backlog comes back at once. A tool that recovers sends on time again and drops nothing; one that does not falls behind for the rest of the window. ")
		p("Dropped are due requests fbrun did not send because `MaxInFlight` (10,000) were outstanding; vegeta starts more workers instead.\n\n")
		p("| tool | achieved req/s | dropped | errors | lateness p50 (µs) | lateness p99 (µs) | latency p50 (µs) | latency p99 (µs) | mean in flight | CPU ms/1k req |\n|---|---|---|---|---|---|---|---|---|---|\n")
		for _, t := range []struct {
			name string
			rs   []*measure.Result
		}{{"fbrun", f}, {"vegeta", v}} {
			rs := t.rs
			p("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", t.name,
				aggregate(rs, func(r *measure.Result) float64 { return r.AchievedRate }).fmt(0),
				aggregate(rs, func(r *measure.Result) float64 { return float64(r.Dropped) }).fmt(0),
				aggregate(rs, func(r *measure.Result) float64 { return float64(r.Errors) }).fmt(0),
				aggregate(rs, func(r *measure.Result) float64 { return r.LatenessP50US }).fmt(0),
				aggregate(rs, func(r *measure.Result) float64 { return r.LatenessP99US }).fmt(0),
				aggregate(rs, func(r *measure.Result) float64 { return r.LatencyP50US }).fmt(0),
				aggregate(rs, func(r *measure.Result) float64 { return r.LatencyP99US }).fmt(0),
				aggregate(rs, func(r *measure.Result) float64 { return r.InFlight }).fmt(0),
				aggregate(rs, cpu).fmt(1))
		}
		p("\n")
	}

	if len(maxKeys)+len(rateKeys) > 0 {
		p("### Client overhead: tool-measured latency − server handling time (µs)\n\n")
		p("| target | load | fbrun p50 | vegeta p50 | fbrun/vegeta p50 | fbrun p99 | vegeta p99 | fbrun/vegeta p99 |\n|---|---|---|---|---|---|---|---|\n")
	}
	o50 := func(r *measure.Result) float64 { return r.OverheadP50US }
	o99 := func(r *measure.Result) float64 { return r.OverheadP99US }
	row := func(target, load string, f, v []*measure.Result) {
		p("| %s | %s | %s | %s | %s | %s | %s | %s |\n", target, load,
			aggregate(f, o50).fmt(0), aggregate(v, o50).fmt(0), pairedRatio(f, v, o50),
			aggregate(f, o99).fmt(0), aggregate(v, o99).fmt(0), pairedRatio(f, v, o99))
	}
	for _, k := range maxKeys {
		v := find(ocs, "vegeta", k.match())
		row(k.target, fmt.Sprintf("closed loop c=%d", k.c), find(ocs, "fbrun", k.match()), v)
		if mt := find(ocs, vMatched.name, k.match()); len(mt) > 0 {
			row(k.target, fmt.Sprintf("closed loop c=%d, fbrun at vegeta's load (c=%s)", k.c,
				aggregate(mt, func(r *measure.Result) float64 { return float64(r.Spec.Concurrency) }).fmt(0)), mt, v)
		}
	}
	for _, k := range rateKeys {
		row(k.target, fmt.Sprintf("open loop %g/s", k.rate), find(ocs, "fbrun", k.match()), find(ocs, "vegeta", k.match()))
	}

	var memPer map[string][]float64 // KiB per in-flight request by tool, per repetition
	if len(o.memConcurrency) == 2 && o.runs(groupMem) {
		lo, hi := o.memConcurrency[0], o.memConcurrency[1]
		p("\n### Memory per in-flight request (server holds each request %v)\n\n", o.memDelay)
		p("Live heap after GC + goroutine stacks, median of 100 ms samples; per request = (at c=%d − at c=%d) / %d within each repetition, then median (min–max) over repetitions.\n\n", hi, lo, hi-lo)
		p("| tool | KiB at c=%d | KiB at c=%d | KiB per in-flight request | of which heap | of which stacks | goroutines at c=%d |\n|---|---|---|---|---|---|---|\n", lo, hi, hi)
		at := func(name string, c int) []*measure.Result {
			return find(ocs, name, func(s measure.Spec) bool { return s.Target == "minimal+delay" && s.Concurrency == c })
		}
		mem := func(r *measure.Result) float64 { return (r.LiveHeapBytes + r.StackBytes) / 1024 }
		heap := func(r *measure.Result) float64 { return r.LiveHeapBytes / 1024 }
		stack := func(r *measure.Result) float64 { return r.StackBytes / 1024 }
		memPer = map[string][]float64{}
		for _, name := range []string{"fbrun", "vegeta"} {
			l, h := at(name, lo), at(name, hi)
			memPer[name] = perRequest(l, h, lo, hi, mem)
			p("| %s | %s | %s | %s | %s | %s | %s |\n", name, aggregate(l, mem).fmt(0), aggregate(h, mem).fmt(0),
				summarize(memPer[name]).fmt(1), summarize(perRequest(l, h, lo, hi, heap)).fmt(1),
				summarize(perRequest(l, h, lo, hi, stack)).fmt(1),
				aggregate(h, func(r *measure.Result) float64 { return r.Goroutines }).fmt(0))
		}
		if rs := ratios(memPer["fbrun"], memPer["vegeta"]); len(rs) > 0 {
			p("\nfbrun/vegeta per in-flight request, paired by repetition: %s.\n", ratioSummary(rs))
		}
	}
	if len(maxKeys) > 0 || memPer != nil {
		writeGoals(w, ocs, maxKeys, memPer)
	}
	if rep.Ingest != nil {
		p("\n### Results database ingest\n\n%d invocation rows (each with a platform report and a raw response) through results.Writer: %.2f s, **%.0f rows/s**; %.2f CPU-s (writer and producer), %.0f rows per CPU-second.\n",
			rep.Ingest.Rows, rep.Ingest.Seconds, rep.Ingest.RowsPerSec, rep.Ingest.CPUSeconds, rep.Ingest.RowsPerCPUSec)
	}
	p("\nTotal bench time %.0f s.\n", rep.Duration)
}
