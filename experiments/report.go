package experiments

// Metric names the experiments record with Benchmarker.Record, and the
// tags and estimate keys their report sections read: defined once, used by
// the experiments, their report declarations and the report fixtures.
const (
	// MetricOfferedRate (load): the offered rate of a step, requests/s,
	// recorded under the step's phase.
	MetricOfferedRate = "offered_rate"
	// MetricDropped (load): sends of a step dropped by the in-flight
	// bound, recorded under the step's phase by the engine's InvokeAtRate
	// (engine/rate.go; the ground-truth tests check it is there).
	MetricDropped = "dropped"
	// MetricNestedOverhead (nested): overhead of one hop, ms; tag TagLevel.
	MetricNestedOverhead = "nested_overhead_ms"
	// MetricFanout (nested): root handler time with f parallel callees, ms.
	MetricFanout = "fanout_ms"
	// MetricThroughput (throughput): iterations per second of one
	// invocation; tags TagMemoryMB, mode, workload, function.
	MetricThroughput = "throughput_iterations_per_s"
	// MetricWorkloadMS (throughput): a monolith workload's run time, ms.
	MetricWorkloadMS = "workload_ms"
	// MetricCostPerInvocation (throughput): USD per invocation.
	MetricCostPerInvocation = "cost_usd_per_invocation"
	// MetricColdSignalAgreement (cold-start): 1 when the two cold signals
	// of a sample agree.
	MetricColdSignalAgreement = "cold_signal_agreement"

	// TagGapS is the idle gap in seconds (MetricIdleProbe).
	TagGapS = "gap_s"
	// TagLevel is the callee's depth (MetricNestedOverhead).
	TagLevel = "level"
	// TagMemoryMB is the memory size of the invocation (throughput).
	TagMemoryMB = "memory_mb"
)

// FigureKind says how the report draws a declared figure.
type FigureKind string

// The figure kinds package report draws.
const (
	// FigureSurvival: the current-status survival figure of idle-timeout's
	// per-instance probes (Metric, gap in Tag): every observation, the
	// NPMLE step curve with its pointwise band, and the median, 5 % and
	// 95 % eviction times as marked lines with their intervals
	// (report/idle.go).
	FigureSurvival FigureKind = "survival"
	// FigureRateSteps: client latency percentiles, send lateness and
	// Dropped per phase, over the phase's Metric value (the offered rate),
	// with a table of the steps.
	FigureRateSteps FigureKind = "rate-steps"
	// FigureMedianByTag: the median of Metric (times Scale) per numeric
	// value of Tag with its 95 % CI, one series per distinct value of the
	// GroupBy tags (one series named Series without GroupBy).
	FigureMedianByTag FigureKind = "median-by-tag"
	// FigureNestedDepth: caller-measured nested call latency per depth,
	// from the invocations.
	FigureNestedDepth FigureKind = "nested-depth"
)

// Figure declares one figure of an experiment's report section.
type Figure struct {
	Kind FigureKind
	// Title, XLabel and YLabel label the plot.
	Title, XLabel, YLabel string
	// Metric is the metric drawn (recorded by the experiment).
	Metric string
	// Tag is the metric tag on the x axis.
	Tag string
	// GroupBy are tags whose values split the series (FigureMedianByTag).
	GroupBy []string
	// Series names the one series without GroupBy.
	Series string
	// Scale multiplies the values (0: 1).
	Scale float64
	// Caption says what is drawn: for FigureMedianByTag the words after
	// "Median of metric <Metric>".
	Caption string
	// Dropped is the metric of dropped sends (FigureRateSteps).
	Dropped string
	// Estimate, EstimateLow and EstimateHigh are estimate keys drawn as a
	// line with a band (FigureSurvival).
	Estimate, EstimateLow, EstimateHigh string
}

// Section declares a section of the HTML report of a run: an experiment
// owns the sections of its metrics, so adding an experiment does not edit
// package report. A section is drawn for any run that has its data.
type Section struct {
	// ID is unique among all sections (it becomes an HTML id suffix).
	ID string
	// Title heads the section.
	Title string
	// Figures are drawn in order; one without data is left out.
	Figures []Figure
}

// Reporter is implemented by experiments that declare report sections.
type Reporter interface {
	ReportSections() []Section
}

// ReportSections returns the sections every experiment of the catalog
// declares, in catalog order.
func ReportSections() []Section {
	var out []Section
	for _, e := range Catalog() {
		if r, ok := e.(Reporter); ok {
			out = append(out, r.ReportSections()...)
		}
	}
	return out
}

// ReportSections implements Reporter.
func (IdleTimeout) ReportSections() []Section {
	return []Section{{ID: "idle", Title: "Idle-timeout survival", Figures: []Figure{{
		Kind: FigureSurvival, Metric: MetricIdleProbe, Tag: TagGapS,
		Estimate: KeyIdleTimeout, EstimateLow: KeyIdleTimeoutLow, EstimateHigh: KeyIdleTimeoutHigh,
	}}}}
}

// ReportSections implements Reporter.
func (Load) ReportSections() []Section {
	return []Section{{ID: "load", Title: "Load: latency vs offered rate", Figures: []Figure{{
		Kind: FigureRateSteps, Metric: MetricOfferedRate, Dropped: MetricDropped,
	}}}}
}

// ReportSections implements Reporter.
func (Nested) ReportSections() []Section {
	return []Section{{ID: "nested", Title: "Nested calls", Figures: []Figure{
		{Kind: FigureMedianByTag, Metric: MetricNestedOverhead, Tag: TagLevel, Series: "median overhead (95% CI)",
			Title: "Overhead per nesting level", XLabel: "nesting level", YLabel: "overhead (ms)",
			Caption: "per nesting level with its 95 % order-statistic CI"},
		{Kind: FigureNestedDepth},
	}}}
}

// ReportSections implements Reporter.
func (Throughput) ReportSections() []Section {
	return []Section{{ID: "throughput", Title: "Throughput and cost per memory size", Figures: []Figure{
		{Kind: FigureMedianByTag, Metric: MetricThroughput, Tag: TagMemoryMB, GroupBy: []string{"workload", "mode"},
			Title: "Throughput per memory size", XLabel: "memory (MB)", YLabel: "iterations per second",
			Caption: "per memory size and workload/mode, with 95 % CI"},
		{Kind: FigureMedianByTag, Metric: MetricWorkloadMS, Tag: TagMemoryMB, Series: "median workload time (95% CI)",
			Title: "Workload duration per memory size", XLabel: "memory (MB)", YLabel: "workload duration (ms)",
			Caption: "per memory size with 95 % CI"},
		{Kind: FigureMedianByTag, Metric: MetricCostPerInvocation, Tag: TagMemoryMB, Series: "cost per invocation", Scale: 1e6,
			Title: "Cost per invocation per memory size", XLabel: "memory (MB)", YLabel: "cost (USD per million invocations)",
			Caption: "(scaled to USD per million invocations) per memory size"},
	}}}
}
