package report

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/faas-benchmarker/faas-benchmarker/providers"
	"github.com/faas-benchmarker/faas-benchmarker/results"
	"github.com/faas-benchmarker/faas-benchmarker/stats"
)

// The metric names, tags and estimate keys the report reads are the
// experiments' (experiments.Metric*, experiments.Est*: the contract
// documented in docs/reports.md); error kinds are providers.Kind values.
const (
	timelineBins        = 120
	nsPerMS             = 1e6
	unknownPhase        = "(none)"
	coldFlag, warmFlag  = "cold (in-function flag)", "warm (in-function flag)"
	initLabel           = "platform Init Duration"
	maxMetricsTableRows = 200
	maxComparePhases    = 6
)

// errorKindThrottled is the stored error kind of a throttled invocation.
var errorKindThrottled = string(providers.KindThrottled)

// RunData is everything the report and the summary table show about one
// run, reduced from its invocations and metrics in one streaming pass.
type RunData struct {
	Run       results.Run
	Estimates map[string]float64

	Invocations int64 // all rows
	Client      int64 // Depth 0
	Nested      int64 // Depth > 0
	OK          int64 // client invocations with status ok
	// Errors counts failed client invocations by "status/kind".
	Errors               map[string]int64
	Cold, Warm, ColdNone int64 // client invocations by in-function flag

	// Phases lists the client phases in natural order.
	Phases []string
	// PhaseStats has per-phase counts and ascending latencies (ms) of
	// successful client invocations.
	PhaseStats map[string]*PhaseStats
	// ColdLatency and WarmLatency are ascending client latencies (ms) of
	// successful invocations by the in-function cold flag.
	ColdLatency, WarmLatency []float64
	// InitMS are the platform-reported init durations (ms), ascending.
	InitMS []float64
	// DepthLatency holds ascending latencies (ms) of nested calls by depth,
	// as measured by the calling function.
	DepthLatency map[int][]float64

	Timeline Timeline
	Metrics  []results.Metric
}

// PhaseStats describes the client invocations of one phase.
type PhaseStats struct {
	N, OK, Errors, Throttled, Cold int64
	// LatencyMS are the latencies of successful invocations, ascending.
	LatencyMS []float64
	// LatenessMS are SentNS-ScheduledNS of scheduled sends, ascending.
	LatenessMS []float64
	// FirstSentNS and LastSentNS are the earliest and latest sends.
	FirstSentNS, LastSentNS int64
}

// Timeline bins a run's client invocations over time.
type Timeline struct {
	BinNS int64
	// Per bin: instances alive (seen between their first send and last
	// answer), requests in flight at any moment of the bin, sends,
	// throttles and cold starts.
	Instances, InFlight, Sent, Throttles, ColdStarts []float64
}

// LoadConfig selects what Load reads.
type LoadConfig struct {
	// TimelineBins is the number of timeline bins (default: one per 5
	// client invocations, between 20 and 120).
	TimelineBins int
	// Parallel is the number of seq ranges read concurrently (0: one per
	// CPU, at most 4, for runs of 50,000 invocations or more).
	Parallel int
}

// parallelMin is the number of invocations above which Load reads seq
// ranges concurrently.
const parallelMin = 50_000

type span struct{ start, end int64 }

// acc accumulates invocations; partial accumulators of seq ranges merge.
type acc struct {
	d         *RunData
	spans     []span
	throttles []int64
	colds     []int64
	instances map[string]*span
}

func newAcc() *acc {
	return &acc{
		d:         &RunData{Errors: map[string]int64{}, PhaseStats: map[string]*PhaseStats{}, DepthLatency: map[int][]float64{}},
		instances: map[string]*span{},
	}
}

func (a *acc) add(v *results.InvocationLite) {
	d := a.d
	d.Invocations++
	lat := float64(v.LatencyNS) / nsPerMS
	if v.Depth > 0 {
		d.Nested++
		if v.OK() {
			d.DepthLatency[v.Depth] = append(d.DepthLatency[v.Depth], lat)
		}
		return
	}
	d.Client++
	phase := v.Phase
	if phase == "" {
		phase = unknownPhase
	}
	ps := d.PhaseStats[phase]
	if ps == nil {
		ps = &PhaseStats{FirstSentNS: v.SentNS, LastSentNS: v.SentNS}
		d.PhaseStats[phase] = ps
	}
	ps.N++
	ps.FirstSentNS = min(ps.FirstSentNS, v.SentNS)
	ps.LastSentNS = max(ps.LastSentNS, v.SentNS)
	if v.ScheduledNS >= 0 {
		ps.LatenessMS = append(ps.LatenessMS, float64(v.SentNS-v.ScheduledNS)/nsPerMS)
	}
	end := v.SentNS + v.LatencyNS
	a.spans = append(a.spans, span{v.SentNS, end})
	if v.OK() {
		d.OK++
		ps.OK++
		ps.LatencyMS = append(ps.LatencyMS, lat)
	} else {
		ps.Errors++
		key := v.Status
		if v.ErrorKind != "" {
			key += "/" + v.ErrorKind
		}
		d.Errors[key]++
	}
	if v.ErrorKind == errorKindThrottled {
		ps.Throttled++
		a.throttles = append(a.throttles, v.SentNS)
	}
	switch v.Cold {
	case 1:
		d.Cold++
		ps.Cold++
		a.colds = append(a.colds, v.SentNS)
		if v.OK() {
			d.ColdLatency = append(d.ColdLatency, lat)
		}
	case 0:
		d.Warm++
		if v.OK() {
			d.WarmLatency = append(d.WarmLatency, lat)
		}
	default:
		d.ColdNone++
	}
	if v.InstanceID != "" {
		if s := a.instances[v.InstanceID]; s == nil {
			a.instances[v.InstanceID] = &span{v.SentNS, end}
		} else {
			s.start = min(s.start, v.SentNS)
			s.end = max(s.end, end)
		}
	}
}

// merge adds b's invocations to a.
func (a *acc) merge(b *acc) {
	d, e := a.d, b.d
	d.Invocations += e.Invocations
	d.Client += e.Client
	d.Nested += e.Nested
	d.OK += e.OK
	d.Cold += e.Cold
	d.Warm += e.Warm
	d.ColdNone += e.ColdNone
	for k, n := range e.Errors {
		d.Errors[k] += n
	}
	for k, v := range e.DepthLatency {
		d.DepthLatency[k] = append(d.DepthLatency[k], v...)
	}
	for k, q := range e.PhaseStats {
		p := d.PhaseStats[k]
		if p == nil {
			d.PhaseStats[k] = q
			continue
		}
		p.N += q.N
		p.OK += q.OK
		p.Errors += q.Errors
		p.Throttled += q.Throttled
		p.Cold += q.Cold
		p.LatencyMS = append(p.LatencyMS, q.LatencyMS...)
		p.LatenessMS = append(p.LatenessMS, q.LatenessMS...)
		p.FirstSentNS = min(p.FirstSentNS, q.FirstSentNS)
		p.LastSentNS = max(p.LastSentNS, q.LastSentNS)
	}
	d.ColdLatency = append(d.ColdLatency, e.ColdLatency...)
	d.WarmLatency = append(d.WarmLatency, e.WarmLatency...)
	a.spans = append(a.spans, b.spans...)
	a.throttles = append(a.throttles, b.throttles...)
	a.colds = append(a.colds, b.colds...)
	for k, s := range b.instances {
		if t := a.instances[k]; t == nil {
			a.instances[k] = s
		} else {
			t.start = min(t.start, s.start)
			t.end = max(t.end, s.end)
		}
	}
}

// Load reads one run into a RunData. It streams the invocations; large
// runs are read as concurrent seq ranges (one per CPU, at most 4).
func Load(ctx context.Context, db *results.DB, run results.Run, cfg LoadConfig) (*RunData, error) {
	lo, hi, err := db.SeqRange(ctx, run.ID)
	if err != nil {
		return nil, fmt.Errorf("report: load run %s: %w", run.ID, err)
	}
	parts := cfg.Parallel
	if parts <= 0 {
		parts = 1
		if hi-lo+1 >= parallelMin {
			parts = min(max(runtime.GOMAXPROCS(0), 1), 4)
		}
	}
	parts = int(min(int64(parts), max(hi-lo+1, 1)))
	accs := make([]*acc, parts)
	errs := make([]error, parts)
	var wg sync.WaitGroup
	step := (hi - lo + int64(parts)) / int64(parts)
	for i := range accs {
		accs[i] = newAcc()
		from := lo + int64(i)*step
		to := min(from+step-1, hi)
		if i == parts-1 {
			to = hi
		}
		wg.Add(1)
		go func(a *acc, i int) {
			defer wg.Done()
			errs[i] = db.EachInvocationLite(ctx, run.ID, from, to, func(v *results.InvocationLite) error {
				a.add(v)
				return nil
			})
		}(accs[i], i)
	}
	wg.Wait()
	for _, e := range errs {
		if e != nil {
			return nil, fmt.Errorf("report: load run %s: %w", run.ID, e)
		}
	}
	a := accs[0]
	for _, b := range accs[1:] {
		a.merge(b)
	}
	d := a.d
	d.Run = run
	sum, err := results.ParseSummary(run.Summary)
	if err != nil {
		return nil, fmt.Errorf("report: load run %s: %w", run.ID, err)
	}
	d.Estimates = sum.Estimates
	if d.InitMS, err = db.InitDurations(ctx, run.ID); err != nil {
		return nil, fmt.Errorf("report: load run %s: %w", run.ID, err)
	}
	for _, ps := range d.PhaseStats {
		slices.Sort(ps.LatencyMS)
		slices.Sort(ps.LatenessMS)
	}
	for k := range d.DepthLatency {
		slices.Sort(d.DepthLatency[k])
	}
	slices.Sort(d.ColdLatency)
	slices.Sort(d.WarmLatency)
	slices.Sort(d.InitMS)
	d.Phases = make([]string, 0, len(d.PhaseStats))
	for p := range d.PhaseStats {
		d.Phases = append(d.Phases, p)
	}
	sortPhases(d.Phases)
	bins := cfg.TimelineBins
	if bins <= 0 {
		bins = int(min(max(d.Client/5, 20), timelineBins))
	}
	d.Timeline = timeline(a, bins)

	d.Metrics, err = db.Metrics(ctx, run.ID, "")
	if err != nil {
		return nil, fmt.Errorf("report: load run %s: %w", run.ID, err)
	}
	return d, nil
}

// timeline bins the accumulated spans and events.
func timeline(a *acc, nb int) Timeline {
	if len(a.spans) == 0 {
		return Timeline{}
	}
	var last int64
	for _, s := range a.spans {
		last = max(last, s.end)
	}
	bin := max(last/int64(nb)+1, 1)
	tl := Timeline{BinNS: bin}
	inflight := make([]float64, nb+1)
	alive := make([]float64, nb+1)
	idx := func(ns int64) int { return int(min(max(ns/bin, 0), int64(nb-1))) }
	for _, s := range a.spans {
		inflight[idx(s.start)]++
		inflight[idx(s.end)+1]--
	}
	for _, s := range a.instances {
		alive[idx(s.start)]++
		alive[idx(s.end)+1]--
	}
	tl.InFlight = prefixSum(inflight)[:nb]
	tl.Instances = prefixSum(alive)[:nb]
	tl.Sent = make([]float64, nb)
	tl.Throttles = make([]float64, nb)
	tl.ColdStarts = make([]float64, nb)
	for _, s := range a.spans {
		tl.Sent[idx(s.start)]++
	}
	for _, t := range a.throttles {
		tl.Throttles[idx(t)]++
	}
	for _, t := range a.colds {
		tl.ColdStarts[idx(t)]++
	}
	return tl
}

func prefixSum(xs []float64) []float64 {
	out := make([]float64, len(xs))
	var acc float64
	for i, x := range xs {
		acc += x
		out[i] = acc
	}
	return out
}

// EstimateKeys returns the estimate names in sorted order, each interval's
// bounds folded into its estimate (stats.EstimateKeys; EstimateText shows
// them).
func (d *RunData) EstimateKeys() []string { return stats.EstimateKeys(d.Estimates) }

// EstimateText renders estimate k with its 95 % interval, "v [lo, hi]"
// (stats.EstimateText).
func (d *RunData) EstimateText(k string) string { return stats.EstimateText(d.Estimates, k) }

// sortPhases orders phases naturally: "cold" before "warm", numeric
// suffixes numerically ("step-2" before "step-10"), otherwise by name.
func sortPhases(ps []string) {
	sort.SliceStable(ps, func(i, j int) bool { return phaseLess(ps[i], ps[j]) })
}

func phaseLess(a, b string) bool {
	ra, rb := phaseRank(a), phaseRank(b)
	if ra != rb {
		return ra < rb
	}
	pa, na, oka := splitNum(a)
	pb, nb, okb := splitNum(b)
	if oka && okb && pa == pb {
		return na < nb
	}
	return a < b
}

func phaseRank(p string) int {
	switch {
	case p == "cold" || strings.HasPrefix(p, "cold/"):
		return 0
	case p == "warm" || strings.HasPrefix(p, "warm/"):
		return 1
	case p == unknownPhase:
		return 3
	}
	return 2
}

// splitNum splits "step-12" into ("step-", 12, true).
func splitNum(s string) (string, float64, bool) {
	i := len(s)
	for i > 0 && (s[i-1] >= '0' && s[i-1] <= '9' || s[i-1] == '.') {
		i--
	}
	if i == len(s) {
		return s, 0, false
	}
	n, err := strconv.ParseFloat(s[i:], 64)
	if err != nil {
		return s, 0, false
	}
	return s[:i], n, true
}

// metricsNamed returns the metrics with the given name.
func (d *RunData) metricsNamed(name string) []results.Metric {
	var out []results.Metric
	for _, m := range d.Metrics {
		if m.Name == name {
			out = append(out, m)
		}
	}
	return out
}

// groupByTag groups metric values by one tag, in natural order of the tag.
func groupByTag(ms []results.Metric, tag string) (keys []string, vals map[string][]float64) {
	vals = map[string][]float64{}
	for _, m := range ms {
		k, ok := m.Tags[tag]
		if !ok {
			continue
		}
		if _, seen := vals[k]; !seen {
			keys = append(keys, k)
		}
		vals[k] = append(vals[k], m.Value)
	}
	sort.SliceStable(keys, func(i, j int) bool {
		a, ea := strconv.ParseFloat(keys[i], 64)
		b, eb := strconv.ParseFloat(keys[j], 64)
		if ea == nil && eb == nil {
			return a < b
		}
		return keys[i] < keys[j]
	})
	for k := range vals {
		slices.Sort(vals[k])
	}
	return keys, vals
}

// joinKV renders m as "k=v" pairs in key order, joined by sep.
func joinKV(m map[string]string, sep string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + m[k]
	}
	return strings.Join(parts, sep)
}

// MetricRow aggregates the values of one metric name, phase and tag set.
type MetricRow struct {
	Name, Phase, Tags string
	Summary           stats.Summary
}

// MetricRows aggregates the run's metrics for the metrics table, in
// recording order of first appearance, at most limit rows (0: all).
func (d *RunData) MetricRows(limit int) (rows []MetricRow, truncated int) {
	idx := map[string]int{}
	var vals [][]float64
	for _, m := range d.Metrics {
		tags := joinKV(m.Tags, ", ")
		key := m.Name + "\x00" + m.Phase + "\x00" + tags
		i, ok := idx[key]
		if !ok {
			i = len(rows)
			idx[key] = i
			rows = append(rows, MetricRow{Name: m.Name, Phase: m.Phase, Tags: tags})
			vals = append(vals, nil)
		}
		vals[i] = append(vals[i], m.Value)
	}
	for i := range rows {
		rows[i].Summary = stats.Summarize(vals[i])
	}
	if limit > 0 && len(rows) > limit {
		truncated = len(rows) - limit
		rows = rows[:limit]
	}
	return rows, truncated
}

// AllLatency returns every successful client latency (ms), ascending.
func (d *RunData) AllLatency() []float64 {
	var out []float64
	for _, p := range d.Phases {
		out = append(out, d.PhaseStats[p].LatencyMS...)
	}
	slices.Sort(out)
	return out
}

// DurationS is the run's wall-clock duration in seconds (NaN while running).
func (d *RunData) DurationS() float64 {
	if d.Run.EndedAt.IsZero() || d.Run.StartedAt.IsZero() {
		return math.NaN()
	}
	return d.Run.EndedAt.Sub(d.Run.StartedAt).Seconds()
}
