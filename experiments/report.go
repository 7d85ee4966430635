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
	// FigureSurvival: the current-status survival figure of per-instance
	// observations (Metric: 1 = the event happened by the time in Tag;
	// clustered by the Cluster tag; those whose Drop tags match left out):
	// every observation, the NPMLE step curve with its pointwise band, the
	// Marks as marked lines with their intervals, and a table of the Marks
	// and Notes (results/report/idle.go).
	FigureSurvival FigureKind = "survival"
	// FigureIntervals: a table of the Marks with their intervals (the
	// compare view plots them per run).
	FigureIntervals FigureKind = "intervals"
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
	// Marks are quantile estimates with intervals (FigureSurvival,
	// FigureIntervals; the compare view plots every declared Mark per
	// run).
	Marks []Mark
	// Cluster is the tag whose observations share their fate, and Drop
	// the tag values whose observations are left out (FigureSurvival).
	Cluster string
	Drop    map[string]string
	// Notes are further estimates shown in the figure's table.
	Notes []Note
}

// Mark is an estimate of the Q quantile of the time to the event, stored
// under Key with its interval (stats.IntervalKeys; an end absent where the
// data do not bound it, the value absent where it is not a point). A
// survival figure draws it at the level 1 − Q still surviving.
type Mark struct {
	Key, Label string
	Q          float64
}

// Note is a table row of one estimate: as a percentage with its interval
// (Percent), as the text Values gives for its value, or as a number of
// seconds; Absent is shown when the run stored none ("": the row is left
// out).
type Note struct {
	Key, Label string
	Percent    bool
	Values     map[float64]string
	Absent     string
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

// ReportSections implements Reporter: the survival figure of the first
// idle periods at their platform idle time (TagIdleS), as the estimates
// fit them.
func (IdleTimeout) ReportSections() []Section {
	return []Section{{ID: "idle", Title: "Idle-timeout survival", Figures: []Figure{{
		Kind: FigureSurvival, Metric: MetricIdleProbe, Tag: TagIdleS, Cluster: "burst",
		Drop:   map[string]string{TagIdleFirst: "0"},
		Title:  "Idle-timeout survival: share of instances still warm after an idle gap",
		XLabel: "idle time (s)", YLabel: "still warm",
		Caption: "Estimand: the distribution, over newly started instances, of how long an instance stays warm once idle " +
			"(its first idle period after it served a request; assumes the instances probed are typical of the function's). " +
			"Every probed instance is one observation: warm answers at the top, evicted instances at the bottom, at its idle time " +
			"(the client's gap plus half the in-flight times of the requests around it)",
		Marks: []Mark{{KeyIdleWarm, "idle_warm_s (5%)", 0.05}, {KeyIdleTimeout, "idle_timeout_s (median)", 0.5}, {KeyIdleCold, "idle_cold_s (95%)", 0.95}},
		Notes: []Note{
			{Key: KeyIdleStillWarm, Label: "still warm after the longest gap", Percent: true},
			{Key: KeyIdleLongestGap, Label: "longest gap (s)"},
			{Key: KeyIdleMedianFlat, Label: "median a stretch", Values: map[float64]string{1: "yes: the fit stays near ½ across the interval (partial eviction); every time in it is a median"}},
			{Key: KeyIdlePersistent, Label: "behaviour", Absent: "cannot tell (too few rechecks)", Values: map[float64]string{
				0: "a new eviction time every idle period (an instance was evicted after a gap it had survived)",
				1: "per-instance fixed eviction times (no instance evicted after a gap it had survived)"}},
			{Key: KeyIdlePrecisionReached, Label: "precision reached", Values: map[float64]string{0: "no (a budget ended the run)", 1: "yes"}},
		},
	}}}}
}

// ReportSections implements Reporter.
func (InstanceLifetime) ReportSections() []Section {
	return []Section{{ID: "lifetime", Title: "Instance lifetime", Figures: []Figure{{
		Kind:  FigureIntervals,
		Marks: []Mark{{KeyLifetimeP5, "lifetime_p5_s (5%)", 0.05}, {KeyLifetime, "lifetime_s (median)", 0.5}},
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
