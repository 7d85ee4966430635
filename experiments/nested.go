package experiments

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/faas-benchmarker/faas-benchmarker/engine"
	"github.com/faas-benchmarker/faas-benchmarker/functions/lab"
)

// Nested measures the cost of function-to-function calls.
//
// Question: how much latency does each level of a call chain add, what
// does fanning out to several callees cost, and how much does one cold
// link slow the whole chain (the weakest link)?
//
// Method: warm chains of length 1..depth (phase "chain-<d>"): the root
// calls the next function in `chain`, which calls the next, and so on
// (function1 → function2 → function3 → function1 ...). Every caller
// reports, on its own monotonic clock, how long its nested call took; the
// callee reports how long its handler ran. The difference is the overhead
// of one hop — platform routing, network and (de)serialisation — measured
// inside the platform, free of the client's network, and with no clock
// comparison. Each hop is stored as the metric nested_overhead_ms (tag
// level: the callee's depth). Fan-out (phase "fanout-<f>"): the root calls
// f callees in parallel; its handler time is stored as fanout_ms (tag f).
// Weakest link (phase "cold-link"): the second function of the chain is
// made cold (ForceColdStart) before a chain of the full depth; the root
// latency minus the warm median of the same depth is the cold link's
// penalty.
//
// Parameters: chain (function1,function2,function3), depth (3), fanout
// (1,2,4; empty: skip), samples (5), cold_link (true; needs a platform that
// can force cold starts).
//
// Estimates: nested_overhead_ms_per_level (median hop overhead, warm),
// chain_<d>_p50_ms (client latency of a chain of d nested levels),
// fanout_<f>_p50_ms (root handler time with f parallel callees),
// cold_link_penalty_ms, cold_link_cold_fraction (fraction of cold-link
// samples where the link reported cold: 1 expected). Medians carry 95 %
// order-statistic intervals, cold_link_penalty_ms the Price–Bonett interval
// of a difference of medians, the fraction a Clopper–Pearson interval;
// failed_samples is an exact count.
//
// Known limits: the lab functions call each other through the platform's
// public invoke API, as user code would; platform-internal shortcuts are
// not used. A depth beyond the lab functions' guard (8 levels) is refused.
type Nested struct{}

// Name implements Experiment.
func (Nested) Name() string { return "nested" }

// Summary implements Experiment.
func (Nested) Summary() string {
	return "chain and fan-out overhead per level, and the penalty of one cold link, from caller-side timings"
}

// Params implements Experiment.
func (Nested) Params() []Param {
	return []Param{
		ListParam("chain", "function1,function2,function3", "functions of the chain, in call order (repeated when depth is longer)").Required(),
		IntParam("depth", "3", "longest chain: nested levels below the root").In(1, lab.DefaultMaxDepth-1),
		IntListParam("fanout", "1,2,4", "parallel callees of the root (empty: skip)").AtLeast(1),
		IntParam("samples", "5", "samples per chain length, fan-out and cold link").AtLeast(1),
		BoolParam("cold_link", "true", "measure the penalty of one cold link"),
	}
}

// chainRequest builds the request for chain[0] that calls down `levels`
// more functions.
func chainRequest(chain []string, levels int) lab.Request {
	var req lab.Request
	for l := levels; l >= 1; l-- {
		inner, _ := json.Marshal(req)
		req = lab.Request{InvokeNested: []lab.NestedCall{{FunctionName: chain[l%len(chain)], InvokePayload: inner}}}
	}
	return req
}

// hopOverheads walks a response tree and returns, per hop, the callee's
// depth and the caller-side duration minus the callee's handler time.
func hopOverheads(r *lab.Response) (levels []int, ms []float64, ok bool) {
	ok = true
	var walk func(*lab.Response)
	walk = func(r *lab.Response) {
		for _, n := range r.Nested {
			if n.Error != nil || n.Response == nil || n.Response.Error != nil {
				ok = false
				continue
			}
			handler := n.Response.Timing.End - n.Response.Timing.Start
			levels = append(levels, n.Response.Depth)
			ms = append(ms, float64(n.DurationNS-handler)/1e6)
			walk(n.Response)
		}
	}
	walk(r)
	return levels, ms, ok
}

// Run implements Experiment.
func (Nested) Run(ctx context.Context, b *engine.Benchmarker, p Params) (Estimates, error) {
	chain, depth, samples, coldLink := p.List("chain"), p.Int("depth"), p.Int("samples"), p.Bool("cold_link")
	fanouts := p.Ints("fanout")
	b.Expect(int64(samples*(depth+len(fanouts)+1) + depth))
	root := chain[0]
	est := newEstimates()
	var overheads []float64
	chainMS := map[int][]float64{}
	bad := 0

	// Warm every link once per chain length (a chain of d levels needs up
	// to d+1 concurrent instances when the chain repeats functions).
	wb := b.WithPhase("warmup")
	for d := 1; d <= depth && ctx.Err() == nil; d++ {
		wb.Invoke(ctx, root, chainRequest(chain, d))
	}
	for d := 1; d <= depth && ctx.Err() == nil; d++ {
		pb := b.WithPhase(fmt.Sprintf("chain-%d", d))
		req := chainRequest(chain, d)
		for i := 0; i < samples && ctx.Err() == nil; i++ {
			r := pb.Invoke(ctx, root, req)
			if !r.OK() || r.Response == nil {
				bad++
				continue
			}
			levels, ms, ok := hopOverheads(r.Response)
			if !ok || len(levels) != d {
				bad++
				continue
			}
			chainMS[d] = append(chainMS[d], latencyMS(r))
			for j, lv := range levels {
				overheads = append(overheads, ms[j])
				pb.Record(MetricNestedOverhead, ms[j], map[string]string{TagLevel: strconv.Itoa(lv)})
			}
		}
		est.quantile(fmt.Sprintf("chain_%d_p50_ms", d), chainMS[d], 0.5)
	}
	est.quantile("nested_overhead_ms_per_level", overheads, 0.5)

	for _, f := range fanouts {
		if ctx.Err() != nil {
			continue
		}
		callee := chain[1%len(chain)]
		calls := make([]lab.NestedCall, f)
		for i := range calls {
			calls[i] = lab.NestedCall{FunctionName: callee, InvokePayload: json.RawMessage(`{}`)}
		}
		req := lab.Request{InvokeNested: calls}
		pb := b.WithPhase(fmt.Sprintf("fanout-%d", f))
		pb.Invoke(ctx, root, req) // warm f callee instances
		var hs []float64
		for i := 0; i < samples && ctx.Err() == nil; i++ {
			r := pb.Invoke(ctx, root, req)
			if !r.OK() || r.Response == nil {
				bad++
				continue
			}
			h := float64(r.Response.Timing.End-r.Response.Timing.Start) / 1e6
			hs = append(hs, h)
			pb.Record(MetricFanout, h, map[string]string{"f": strconv.Itoa(f)})
		}
		est.quantile(fmt.Sprintf("fanout_%d_p50_ms", f), hs, 0.5)
	}

	if coldLink && len(chain) > 1 && ctx.Err() == nil {
		if !b.CanForceColdStart() {
			b.Logger().Warn("nested: cold_link skipped: the platform cannot force a cold start of one function")
		} else {
			link := chain[1]
			pb := b.WithPhase("cold-link")
			req := chainRequest(chain, depth)
			var lat []float64
			cold, known := 0, 0
			for i := 0; i < samples && ctx.Err() == nil; i++ {
				if err := b.ForceColdStart(ctx, link); err != nil {
					if ctx.Err() != nil {
						break
					}
					return est.result(err)
				}
				r := pb.Invoke(ctx, root, req)
				if !r.OK() || r.Response == nil || len(r.Response.Nested) != 1 || r.Response.Nested[0].Response == nil {
					bad++
					continue
				}
				lat = append(lat, latencyMS(r))
				known++
				if r.Response.Nested[0].Response.Instance.Cold {
					cold++
				}
			}
			est.diffMedians("cold_link_penalty_ms", lat, chainMS[depth])
			est.fraction("cold_link_cold_fraction", cold, known)
		}
	}
	est.set("failed_samples", float64(bad))
	est.logNotes(b.Logger())
	if err := ctx.Err(); err != nil {
		return est.result(err)
	}
	if len(overheads) == 0 {
		return est.result(errors.New("nested: no successful chain"))
	}
	return est.result(nil)
}
