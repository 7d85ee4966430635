package report

import (
	"fmt"
	"html/template"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"gonum.org/v1/plot"

	"github.com/faas-benchmarker/faas-benchmarker/experiments"
	"github.com/faas-benchmarker/faas-benchmarker/stats"
)

// Figure is one rendered figure with its caption.
type Figure struct {
	ID      string
	Title   string
	SVG     template.HTML
	Caption string
}

// Table is a small HTML table.
type Table struct {
	Caption string
	Header  []string
	Rows    [][]string
	// Note is shown under the table (e.g. "12 more rows not shown").
	Note string
	// Text keeps every column left-aligned (no numeric alignment).
	Text bool
}

// Section is a titled group of tables and figures.
type Section struct {
	ID      string
	Title   string
	Intro   string
	Tables  []Table
	Figures []Figure
}

// maxSeries bounds the lines of one figure.
const maxSeries = 8

type builder struct {
	prefix string
	n      int
	err    error
}

// figure renders p into a Figure; errors are kept and reported once.
func (b *builder) figure(p *plot.Plot, perr error, caption string) (Figure, bool) {
	if b.err != nil {
		return Figure{}, false
	}
	if perr != nil {
		b.err = perr
		return Figure{}, false
	}
	svg, err := renderSVG(p)
	if err != nil {
		b.err = err
		return Figure{}, false
	}
	b.n++
	return Figure{ID: fmt.Sprintf("%s-fig%d", b.prefix, b.n), Title: p.Title.Text, SVG: template.HTML(svg), Caption: caption}, true
}

func (b *builder) add(sec *Section, p *plot.Plot, perr error, caption string) {
	if f, ok := b.figure(p, perr, caption); ok {
		sec.Figures = append(sec.Figures, f)
	}
}

func runRef(d *RunData) string { return "run " + d.Run.ID + " (" + d.Run.PlatformLabel() + ")" }

// runSections builds the sections of one run.
func runSections(d *RunData) ([]Section, error) {
	b := &builder{prefix: "r-" + safeID(d.Run.ID)}
	var secs []Section
	secs = append(secs, overviewSection(d))
	builders := []func(*builder, *RunData) (Section, bool){latencySection, coldWarmSection}
	seen := map[string]bool{}
	for _, decl := range experiments.ReportSections() {
		if seen[decl.ID] {
			continue
		}
		seen[decl.ID] = true
		builders = append(builders, func(b *builder, d *RunData) (Section, bool) { return declaredSection(b, d, decl) })
	}
	builders = append(builders, timelineSection)
	for _, f := range builders {
		if s, ok := f(b, d); ok && (len(s.Figures) > 0 || len(s.Tables) > 0) {
			s.ID = b.prefix + "-" + s.ID
			secs = append(secs, s)
		}
		if b.err != nil {
			return nil, b.err
		}
	}
	secs = append(secs, metricsSection(d))
	secs[0].ID = b.prefix + "-overview"
	secs[len(secs)-1].ID = b.prefix + "-metrics"
	return secs, nil
}

func safeID(s string) string {
	var sb strings.Builder
	for _, r := range s {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
			sb.WriteRune(r)
		} else {
			sb.WriteByte('_')
		}
	}
	return sb.String()
}

func anyKV(m map[string]any) string {
	s := make(map[string]string, len(m))
	for k, v := range m {
		s[k] = fmt.Sprint(v)
	}
	return joinKV(s, " ")
}

func overviewSection(d *RunData) Section {
	r := d.Run
	meta := Table{Caption: "Run", Text: true, Header: []string{"field", "value"}, Rows: [][]string{
		{"run id", r.ID}, {"experiment", r.Experiment}, {"platform", r.PlatformLabel()}, {"status", r.Status},
		{"started (UTC)", r.StartedAt.UTC().Format(time.RFC3339)},
		{"duration", durationText(d.DurationS())},
		{"parameters", joinKV(r.Params, " ")},
		{"platform config", anyKV(r.PlatformConfig)},
		{"tool version", strings.TrimSpace(r.ToolVersion + " " + r.GitCommit)},
	}}
	if r.Error != "" {
		meta.Rows = append(meta.Rows, []string{"error", r.Error})
	}
	counts := Table{Caption: "Invocations", Header: []string{"what", "count"}, Rows: [][]string{
		{"all rows", strconv.FormatInt(d.Invocations, 10)},
		{"client (depth 0)", strconv.FormatInt(d.Client, 10)},
		{"nested (depth > 0)", strconv.FormatInt(d.Nested, 10)},
		{"client ok", strconv.FormatInt(d.OK, 10)},
		{"cold / warm / unknown (in-function flag)", fmt.Sprintf("%d / %d / %d", d.Cold, d.Warm, d.ColdNone)},
	}}
	ekeys := make([]string, 0, len(d.Errors))
	for k := range d.Errors {
		ekeys = append(ekeys, k)
	}
	sort.Strings(ekeys)
	for _, k := range ekeys {
		counts.Rows = append(counts.Rows, []string{"failed: " + k, strconv.FormatInt(d.Errors[k], 10)})
	}
	sec := Section{Title: "Overview", Tables: []Table{meta, counts}}
	if len(d.Estimates) > 0 {
		t := Table{Caption: "Estimates (runs.summary) with their 95 % intervals (methods: docs/experiments.md, \"Intervals\"; none: an exact count, or too few samples)",
			Header: []string{"estimate", "value [95% interval]"}}
		for _, k := range d.EstimateKeys() {
			t.Rows = append(t.Rows, []string{k, d.EstimateText(k)})
		}
		sec.Tables = append(sec.Tables, t)
	}
	pt := Table{Caption: "Client latency per phase (successful invocations, ms; CI: 95 % order-statistic interval of the median)",
		Header: []string{"phase", "n", "ok", "errors", "throttled", "cold", "p50", "95% CI", "p90", "p99", "max"}}
	for _, p := range d.Phases {
		ps := d.PhaseStats[p]
		s := stats.SummarizeSorted(ps.LatencyMS)
		pt.Rows = append(pt.Rows, []string{p, itoa(ps.N), itoa(ps.OK), itoa(ps.Errors), itoa(ps.Throttled), itoa(ps.Cold),
			stats.Format(s.P50), ciText(s.MedianCI), stats.Format(s.P90), stats.Format(s.P99), stats.Format(s.Max)})
	}
	sec.Tables = append(sec.Tables, pt)
	return sec
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func ciText(ci stats.Interval) string {
	if !ci.OK {
		return "–"
	}
	return "[" + stats.Format(ci.Low) + ", " + stats.Format(ci.High) + "]"
}

// pickPhases returns at most maxSeries phases with data, evenly spread.
func pickPhases(d *RunData) (picked []string, total int) {
	var with []string
	for _, p := range d.Phases {
		if len(d.PhaseStats[p].LatencyMS) > 0 {
			with = append(with, p)
		}
	}
	if len(with) <= maxSeries {
		return with, len(with)
	}
	for i := 0; i < maxSeries; i++ {
		picked = append(picked, with[i*(len(with)-1)/(maxSeries-1)])
	}
	return picked, len(with)
}

func latencySection(b *builder, d *RunData) (Section, bool) {
	sec := Section{ID: "latency", Title: "Client latency by phase"}
	phases, total := pickPhases(d)
	if len(phases) == 0 {
		return sec, false
	}
	var ss []series
	var n int
	for _, p := range phases {
		ss = append(ss, series{Name: p, Values: d.PhaseStats[p].LatencyMS})
		n += len(d.PhaseStats[p].LatencyMS)
	}
	shown := ""
	if total > len(phases) {
		shown = fmt.Sprintf(" Showing %d of %d phases, evenly spaced.", len(phases), total)
	}
	cap := fmt.Sprintf("Empirical CDF of client-measured round-trip latency of successful client invocations, per phase; legend: n, median and its 95 %% CI (ms). n = %d. %s.%s", n, runRef(d), shown)
	p, err := cdfPlot("Client latency CDF per phase", "client latency (ms)", ss)
	b.add(&sec, p, err, cap)
	cap = fmt.Sprintf("Client latency per phase: box p25–p75, whiskers p1–p99, black bar median, dark band 95 %% CI of the median. n = %d. %s.%s", n, runRef(d), shown)
	b.add(&sec, boxPlot("Client latency per phase", "client latency (ms)", ss), nil, cap)
	return sec, true
}

func coldWarmSection(b *builder, d *RunData) (Section, bool) {
	sec := Section{ID: "coldwarm", Title: "Cold vs warm"}
	if len(d.ColdLatency) == 0 && len(d.InitMS) == 0 {
		return sec, false
	}
	ss := []series{{Name: coldFlag, Values: d.ColdLatency}, {Name: warmFlag, Values: d.WarmLatency}}
	if len(d.InitMS) > 0 {
		ss = append(ss, series{Name: initLabel, Values: d.InitMS})
	}
	n := len(d.ColdLatency) + len(d.WarmLatency)
	cap := fmt.Sprintf("Empirical CDF of client latency of successful invocations split by the function's own cold flag (n = %d: %d cold, %d warm), beside the platform-reported Init Duration (n = %d, ms). %s.",
		n, len(d.ColdLatency), len(d.WarmLatency), len(d.InitMS), runRef(d))
	p, err := cdfPlot("Cold vs warm client latency and platform init", "latency / duration (ms)", ss)
	b.add(&sec, p, err, cap)
	cap = fmt.Sprintf("Cold vs warm client latency and platform Init Duration: box p25–p75, whiskers p1–p99, bar median, band 95 %% CI of the median. n = %d invocations, %d init reports. %s.", n, len(d.InitMS), runRef(d))
	b.add(&sec, boxPlot("Cold vs warm (box)", "latency / duration (ms)", ss), nil, cap)
	return sec, true
}

func timelineSection(b *builder, d *RunData) (Section, bool) {
	sec := Section{ID: "timeline", Title: "Scaling timeline"}
	tl := d.Timeline
	if len(tl.Sent) == 0 {
		return sec, false
	}
	// Step lines: one point per bin start, plus the end of the last bin
	// carrying its value, so the last bin is drawn too.
	xs := make([]float64, len(tl.Sent)+1)
	binS := float64(tl.BinNS) / 1e9
	for i := range xs {
		xs[i] = float64(i) * binS
	}
	ext := func(v []float64) []float64 { return append(slices.Clip(v), v[len(v)-1]) }
	perS := func(v []float64) []float64 {
		out := make([]float64, len(v))
		for i, x := range v {
			out[i] = x / binS
		}
		return ext(out)
	}
	bin := stats.Format(binS)
	p, err := linePlot("Instances and in-flight requests over time", "time since run start (s)", "count",
		[]xySeries{
			{Name: "instances alive", X: xs, Y: ext(tl.Instances), NoPoints: true, Step: true},
			{Name: "requests in flight", X: xs, Y: ext(tl.InFlight), NoPoints: true, Step: true, Dashed: true},
		}, false)
	if err == nil {
		p.Y.Min = 0
	}
	b.add(&sec, p, err, fmt.Sprintf("Instances alive (distinct instance ids between their first send and last answer) and client requests in flight during each %s s bin. n = %d client invocations. %s.", bin, d.Client, runRef(d)))
	p, err = linePlot("Sends, cold starts and throttles over time", "time since run start (s)", "events per second",
		[]xySeries{
			{Name: "sends", X: xs, Y: perS(tl.Sent), NoPoints: true, Step: true},
			{Name: "cold starts", X: xs, Y: perS(tl.ColdStarts), NoPoints: true, Step: true},
			{Name: "throttled", X: xs, Y: perS(tl.Throttles), NoPoints: true, Step: true, Dashed: true},
		}, false)
	if err == nil {
		p.Y.Min = 0
	}
	var th int64
	for _, ps := range d.PhaseStats {
		th += ps.Throttled
	}
	b.add(&sec, p, err, fmt.Sprintf("Client sends, cold starts (in-function flag) and throttled responses per second, in %s s bins by send time. n = %d sends, %d cold, %d throttled. %s.", bin, d.Client, d.Cold, th, runRef(d)))
	return sec, true
}

// declaredSection draws a section an experiment declares
// (experiments.Reporter): each figure by its kind, left out without data.
func declaredSection(b *builder, d *RunData, decl experiments.Section) (Section, bool) {
	sec := Section{ID: decl.ID, Title: decl.Title}
	for _, f := range decl.Figures {
		switch f.Kind {
		case experiments.FigureSurvival:
			survivalFigure(b, d, &sec, f)
		case experiments.FigureIntervals:
			intervalsTable(d, &sec, f)
		case experiments.FigureRateSteps:
			rateStepsFigure(b, d, &sec, f)
		case experiments.FigureMedianByTag:
			medianByTagFigure(b, d, &sec, f)
		case experiments.FigureNestedDepth:
			nestedDepthFigure(b, d, &sec)
		default:
			b.err = fmt.Errorf("report: section %s: unknown figure kind %q", decl.ID, f.Kind)
		}
	}
	return sec, len(sec.Figures) > 0 || len(sec.Tables) > 0
}

func rateStepsFigure(b *builder, d *RunData, sec *Section, f experiments.Figure) {
	rate := map[string]float64{}
	for _, m := range d.metricsNamed(f.Metric) {
		rate[m.Phase] = m.Value
	}
	dropped := map[string]float64{}
	for _, m := range d.metricsNamed(f.Dropped) {
		dropped[m.Phase] += m.Value
	}
	var steps []string
	for _, p := range d.Phases {
		if _, ok := rate[p]; ok {
			steps = append(steps, p)
		}
	}
	if len(steps) == 0 {
		return
	}
	sort.SliceStable(steps, func(i, j int) bool { return rate[steps[i]] < rate[steps[j]] })
	var p50, p90, p99, late50, late99, drop xySeries
	p50.Name, p90.Name, p99.Name = "p50 (95% CI)", "p90", "p99"
	late50.Name, late99.Name, drop.Name = "lateness p50 (ms)", "lateness p99 (ms)", "dropped sends (count)"
	t := Table{Caption: "Load steps", Header: []string{"phase", "offered (req/s)", "achieved (req/s)", "n", "errors", "p50 ms", "p99 ms", "late p99 ms", "dropped"}}
	var n int64
	for _, st := range steps {
		ps := d.PhaseStats[st]
		x := rate[st]
		s := stats.SummarizeSorted(ps.LatencyMS)
		n += ps.N
		if s.N > 0 {
			p50.X, p50.Y = append(p50.X, x), append(p50.Y, s.P50)
			lo, hi := s.P50, s.P50
			if s.MedianCI.OK {
				lo, hi = s.MedianCI.Low, s.MedianCI.High
			}
			p50.Low, p50.Hi = append(p50.Low, lo), append(p50.Hi, hi)
			p90.X, p90.Y = append(p90.X, x), append(p90.Y, s.P90)
			p99.X, p99.Y = append(p99.X, x), append(p99.Y, s.P99)
		}
		l := stats.SummarizeSorted(ps.LatenessMS)
		if l.N > 0 {
			late50.X, late50.Y = append(late50.X, x), append(late50.Y, l.P50)
			late99.X, late99.Y = append(late99.X, x), append(late99.Y, l.P99)
		}
		drop.X, drop.Y = append(drop.X, x), append(drop.Y, dropped[st])
		achieved := math.NaN()
		if span := phaseSpanS(ps); span > 0 {
			achieved = float64(ps.N) / span
		}
		t.Rows = append(t.Rows, []string{st, stats.Format(x), stats.Format(achieved), itoa(ps.N), itoa(ps.Errors), stats.Format(s.P50), stats.Format(s.P99), stats.Format(l.P99), stats.Format(dropped[st])})
	}
	p, err := linePlot("Client latency percentiles vs offered rate", "offered rate (requests/s)", "client latency (ms)", []xySeries{p50, p90, p99}, true)
	b.add(sec, p, err, fmt.Sprintf("Client latency percentiles of successful invocations per load step (metric %s gives the offered rate); p50 with its 95 %% CI. n = %d invocations in %d steps. %s.", f.Metric, n, len(steps), runRef(d)))
	p, err = linePlot("Late and dropped sends vs offered rate", "offered rate (requests/s)", "lateness (ms) / dropped (count)", []xySeries{late50, late99, drop}, false)
	b.add(sec, p, err, fmt.Sprintf("Send lateness (actual minus scheduled send time, ms) p50 and p99 per step, and sends dropped by the pacer (metric %s). n = %d invocations. %s.", f.Dropped, n, runRef(d)))
	sec.Tables = append(sec.Tables, t)
}

// phaseSpanS is how long a phase sent requests (s): the span between its
// first and last send, stretched by n/(n-1) since n sends span n-1 gaps.
func phaseSpanS(ps *PhaseStats) float64 {
	if ps.LastSentNS <= ps.FirstSentNS || ps.N < 2 {
		return 0
	}
	// n sends span n-1 intervals.
	return float64(ps.LastSentNS-ps.FirstSentNS) / 1e9 * float64(ps.N) / float64(ps.N-1)
}

func medianSeries(name string, keys []string, vals map[string][]float64) (xySeries, int) {
	s := xySeries{Name: name}
	n := 0
	for _, k := range keys {
		x, err := strconv.ParseFloat(k, 64)
		if err != nil {
			continue
		}
		v := vals[k]
		n += len(v)
		m := stats.Median(v)
		lo, hi := m, m
		if ci := stats.MedianCI(v, 0.95); ci.OK {
			lo, hi = ci.Low, ci.High
		}
		s.X, s.Y, s.Low, s.Hi = append(s.X, x), append(s.Y, m), append(s.Low, lo), append(s.Hi, hi)
	}
	return s, n
}

// medianByTagFigure draws the median of f.Metric per numeric value of
// f.Tag, one series per distinct value of the f.GroupBy tags.
func medianByTagFigure(b *builder, d *RunData, sec *Section, f experiments.Figure) {
	ms := d.metricsNamed(f.Metric)
	var ss []xySeries
	n := 0
	if len(f.GroupBy) == 0 {
		keys, vals := groupByTag(ms, f.Tag)
		if s, c := medianSeries(f.Series, keys, vals); len(s.X) > 0 {
			ss, n = append(ss, s), c
		}
	} else {
		groups := map[string][]resultsMetric{}
		var gkeys []string
		for _, m := range ms {
			parts := make([]string, len(f.GroupBy))
			for i, t := range f.GroupBy {
				parts[i] = m.Tags[t]
			}
			g := strings.TrimSpace(strings.Join(parts, " "))
			if g == "" {
				g = "all"
			}
			if _, ok := groups[g]; !ok {
				gkeys = append(gkeys, g)
			}
			groups[g] = append(groups[g], resultsMetric{m.Tags[f.Tag], m.Value})
		}
		sort.Strings(gkeys)
		for _, g := range gkeys {
			keys, vals := groupValues(groups[g])
			s, c := medianSeries(g, keys, vals)
			n += c
			if len(s.X) > 0 {
				ss = append(ss, s)
			}
		}
	}
	if len(ss) == 0 {
		return
	}
	if f.Scale != 0 && f.Scale != 1 {
		for _, s := range ss {
			for i := range s.Y {
				s.Y[i] *= f.Scale
				s.Low[i] *= f.Scale
				s.Hi[i] *= f.Scale
			}
		}
	}
	p, err := linePlot(f.Title, f.XLabel, f.YLabel, ss, false)
	b.add(sec, p, err, fmt.Sprintf("Median of metric %s %s. n = %d values. %s.", f.Metric, f.Caption, n, runRef(d)))
}

// nestedDepthFigure draws nested call latency per depth, as measured by
// the calling function (from the invocations).
func nestedDepthFigure(b *builder, d *RunData, sec *Section) {
	if len(d.DepthLatency) == 0 {
		return
	}
	var depths []int
	for k := range d.DepthLatency {
		depths = append(depths, k)
	}
	sort.Ints(depths)
	var ss []series
	n := 0
	for _, k := range depths {
		ss = append(ss, series{Name: fmt.Sprintf("depth %d", k), Values: d.DepthLatency[k]})
		n += len(d.DepthLatency[k])
	}
	b.add(sec, boxPlot("Nested call latency by depth (caller-measured)", "latency (ms)", ss), nil,
		fmt.Sprintf("Round-trip latency of nested calls as measured by the calling function, per call depth: box p25–p75, whiskers p1–p99, bar median, band 95 %% CI. n = %d nested calls. %s.", n, runRef(d)))
}

type resultsMetric struct {
	key   string
	value float64
}

func groupValues(ms []resultsMetric) ([]string, map[string][]float64) {
	vals := map[string][]float64{}
	var keys []string
	for _, m := range ms {
		if _, ok := vals[m.key]; !ok {
			keys = append(keys, m.key)
		}
		vals[m.key] = append(vals[m.key], m.value)
	}
	sort.SliceStable(keys, func(i, j int) bool { return phaseLess(keys[i], keys[j]) })
	for k := range vals {
		vals[k] = stats.Sorted(vals[k])
	}
	return keys, vals
}

func metricsSection(d *RunData) Section {
	sec := Section{Title: "Metrics"}
	rows, trunc := d.MetricRows(maxMetricsTableRows)
	if len(rows) == 0 {
		sec.Intro = "This run recorded no metrics."
		return sec
	}
	t := Table{Caption: "Metrics recorded by the experiment (aggregated per name, phase and tags)",
		Header: []string{"name", "phase", "tags", "n", "min", "median", "max", "mean"}}
	for _, r := range rows {
		s := r.Summary
		t.Rows = append(t.Rows, []string{r.Name, r.Phase, r.Tags, strconv.Itoa(s.N), stats.Format(s.Min), stats.Format(s.P50), stats.Format(s.Max), stats.Format(s.Mean)})
	}
	if trunc > 0 {
		t.Note = fmt.Sprintf("%d more rows not shown; use fbrun export.", trunc)
	}
	sec.Tables = append(sec.Tables, t)
	return sec
}

func durationText(s float64) string {
	if math.IsNaN(s) {
		return "– (not finished)"
	}
	return stats.Format(s) + " s"
}
