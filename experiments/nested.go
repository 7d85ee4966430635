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

// Run implements Experiment: chains of every length, fan-outs, and a
// cold link in the chain.
func (Nested) Run(ctx context.Context, b *engine.Benchmarker, p Params) (Estimates, error) {
	chain, depth, samples := p.List("chain"), p.Int("depth"), p.Int("samples")
	fanouts := p.Ints("fanout")
	b.Expect(int64(samples*(depth+len(fanouts)+1) + depth))
	n := &nestedRun{b: b, est: newEstimates(), chain: chain, samples: samples, chainMS: map[int][]float64{}}
	n.chains(ctx, depth)
	for _, f := range fanouts {
		if ctx.Err() == nil {
			n.fanout(ctx, f)
		}
	}
	if p.Bool("cold_link") && len(chain) > 1 && ctx.Err() == nil {
		if !b.CanForceColdStart() {
			b.Logger().Warn("nested: cold_link skipped: the platform cannot force a cold start of one function")
		} else if err := n.coldLink(ctx, depth); err != nil {
			return n.est.result(err)
		}
	}
	n.est.set("failed_samples", float64(n.bad))
	n.est.logNotes(b.Logger())
	if err := ctx.Err(); err != nil {
		return n.est.result(err)
	}
	if len(n.overheads) == 0 {
		return n.est.result(errors.New("nested: no successful chain"))
	}
	return n.est.result(nil)
}

// nestedRun is one nested run in progress.
type nestedRun struct {
	b         *engine.Benchmarker
	est       *estimates
	chain     []string
	samples   int
	overheads []float64         // per-hop overheads of every chain
	chainMS   map[int][]float64 // client latency by chain length
	bad       int               // failed samples
}

// chains warms every link once per chain length (a chain of d levels
// needs up to d+1 concurrent instances when the chain repeats functions),
// then measures chains of 1..depth levels: the client latency and each
// hop's overhead.
func (n *nestedRun) chains(ctx context.Context, depth int) {
	root := n.chain[0]
	wb := n.b.WithPhase("warmup")
	for d := 1; d <= depth && ctx.Err() == nil; d++ {
		wb.Invoke(ctx, root, chainRequest(n.chain, d))
	}
	for d := 1; d <= depth && ctx.Err() == nil; d++ {
		pb := n.b.WithPhase(fmt.Sprintf("chain-%d", d))
		req := chainRequest(n.chain, d)
		for i := 0; i < n.samples && ctx.Err() == nil; i++ {
			r := pb.Invoke(ctx, root, req)
			if !r.OK() || r.Response == nil {
				n.bad++
				continue
			}
			levels, ms, ok := hopOverheads(r.Response)
			if !ok || len(levels) != d {
				n.bad++
				continue
			}
			n.chainMS[d] = append(n.chainMS[d], latencyMS(r))
			for j, lv := range levels {
				n.overheads = append(n.overheads, ms[j])
				pb.Record(MetricNestedOverhead, ms[j], map[string]string{TagLevel: strconv.Itoa(lv)})
			}
		}
		n.est.quantile(fmt.Sprintf("chain_%d_p50_ms", d), n.chainMS[d], 0.5)
	}
	n.est.quantile("nested_overhead_ms_per_level", n.overheads, 0.5)
}

// fanout measures the root calling f instances of the next function at
// once: the root handler's duration.
func (n *nestedRun) fanout(ctx context.Context, f int) {
	callee := n.chain[1%len(n.chain)]
	calls := make([]lab.NestedCall, f)
	for i := range calls {
		calls[i] = lab.NestedCall{FunctionName: callee, InvokePayload: json.RawMessage(`{}`)}
	}
	req := lab.Request{InvokeNested: calls}
	pb := n.b.WithPhase(fmt.Sprintf("fanout-%d", f))
	pb.Invoke(ctx, n.chain[0], req) // warm f callee instances
	var hs []float64
	for i := 0; i < n.samples && ctx.Err() == nil; i++ {
		r := pb.Invoke(ctx, n.chain[0], req)
		if !r.OK() || r.Response == nil {
			n.bad++
			continue
		}
		h := float64(r.Response.Timing.End-r.Response.Timing.Start) / 1e6
		hs = append(hs, h)
		pb.Record(MetricFanout, h, map[string]string{"f": strconv.Itoa(f)})
	}
	n.est.quantile(fmt.Sprintf("fanout_%d_p50_ms", f), hs, 0.5)
}

// coldLink forces a cold start of the second link before each chain of
// depth levels: the penalty against the warm chain and how often the link
// really was cold.
func (n *nestedRun) coldLink(ctx context.Context, depth int) error {
	link := n.chain[1]
	pb := n.b.WithPhase("cold-link")
	req := chainRequest(n.chain, depth)
	var lat []float64
	cold, known := 0, 0
	for i := 0; i < n.samples && ctx.Err() == nil; i++ {
		if err := n.b.ForceColdStart(ctx, link); err != nil {
			if ctx.Err() != nil {
				break
			}
			return err
		}
		r := pb.Invoke(ctx, n.chain[0], req)
		if !r.OK() || r.Response == nil || len(r.Response.Nested) != 1 || r.Response.Nested[0].Response == nil {
			n.bad++
			continue
		}
		lat = append(lat, latencyMS(r))
		known++
		if r.Response.Nested[0].Response.Instance.Cold {
			cold++
		}
	}
	n.est.diffMedians("cold_link_penalty_ms", lat, n.chainMS[depth])
	n.est.fraction("cold_link_cold_fraction", cold, known)
	return nil
}
