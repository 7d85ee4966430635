package report

import (
	"fmt"
	"image/color"
	"math"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/faas-benchmarker/faas-benchmarker/experiments"
	"github.com/faas-benchmarker/faas-benchmarker/stats"
	"github.com/faas-benchmarker/faas-benchmarker/stats/survival"
)

// Estimate keys of idle-timeout and instance-lifetime the report reads:
// the experiments' contract constants.
const (
	estimateIdleWarm      = experiments.KeyIdleWarm
	estimateIdleCold      = experiments.KeyIdleCold
	estimateIdleOverhead  = experiments.KeyIdleGapOverhead
	estimateIdlePrecision = experiments.KeyIdlePrecisionReached
	estimateLifetime      = experiments.KeyLifetime
	estimateLifetimeP5    = experiments.KeyLifetimeP5
)

// idleTriple is an idle-timeout run's three estimates with their intervals
// (NaN where absent; a missing high end is +Inf).
type idleTriple struct {
	warm, median, cold estimateCI
}

type estimateCI struct{ v, lo, hi float64 }

func ciOf(est map[string]float64, key string) estimateCI {
	get := func(k string, def float64) float64 {
		if v, ok := est[k]; ok {
			return v
		}
		return def
	}
	return estimateCI{v: get(key, math.NaN()), lo: get(key+"_low", math.NaN()), hi: get(key+"_high", math.Inf(1))}
}

func idleTripleOf(est map[string]float64) (idleTriple, bool) {
	t := idleTriple{warm: ciOf(est, estimateIdleWarm), median: ciOf(est, experiments.KeyIdleTimeout), cold: ciOf(est, estimateIdleCold)}
	return t, !math.IsNaN(t.median.v) || !math.IsNaN(t.median.lo) || !math.IsInf(t.median.hi, 1)
}

// text renders an estimate with its interval: "5.02 s [4.71, 5.40]"; one
// the data bound on one side only as that bound ("≥ 3.1 s (bound)").
func (e estimateCI) text() string {
	if math.IsNaN(e.v) {
		switch {
		case !math.IsNaN(e.lo):
			return "≥ " + stats.Format(e.lo) + " s (bound)"
		case !math.IsInf(e.hi, 1):
			return "≤ " + stats.Format(e.hi) + " s (bound)"
		}
		return "–"
	}
	return stats.Format(e.v) + " s [" + stats.Format(e.lo) + ", " + stats.Format(e.hi) + "]"
}

// idleShape says in words whether eviction looks sharp or spread: sharp
// when the 5% and 95% points are within 10% of the median of each other.
func idleShape(est map[string]float64) string {
	t, ok := idleTripleOf(est)
	switch {
	case !ok:
		return ""
	case math.IsNaN(t.median.v) && !math.IsNaN(t.median.lo) && !math.IsInf(t.median.hi, 1):
		return "median somewhere in " + stats.Format(t.median.lo) + "–" + stats.Format(t.median.hi) + " s (not pinned down)"
	case math.IsNaN(t.median.v) && !math.IsNaN(t.median.lo):
		return "not evicted by the longest gap probed: more than " + stats.Format(t.median.lo) + " s"
	case math.IsNaN(t.median.v) && !math.IsInf(t.median.hi, 1):
		return "median at most " + stats.Format(t.median.hi) + " s (not bounded below by the data)"
	case math.IsNaN(t.median.v):
		return "median not bounded by the data"
	case math.IsNaN(t.cold.v) || math.IsNaN(t.warm.v):
		return "spread: median " + stats.Format(t.median.v) + " s; 5 % / 95 % points not bounded on both sides by the data"
	case t.cold.v-t.warm.v <= 0.1*t.median.v:
		return "sharp: ~" + stats.Format(t.median.v) + " s"
	default:
		return "spread: warm up to " + stats.Format(t.warm.v) + " s, cold after " + stats.Format(t.cold.v) + " s"
	}
}

// idleObservations reads the idle_probe metrics of first idle periods as
// current-status observations on the platform's idle time (the client's
// gap plus the run's round-trip estimate), clustered by burst: the same
// observations, and so the same fit, as the run's estimates.
func idleObservations(d *RunData) []survival.Observation {
	shift := d.Estimates[estimateIdleOverhead] / 1000
	var obs []survival.Observation
	for _, m := range d.metricsNamed(experiments.MetricIdleProbe) {
		if m.Tags[experiments.TagIdleFirst] == "0" {
			continue // a survivor's later idle period: not in the estimates
		}
		g, err := strconv.ParseFloat(m.Tags[experiments.TagGapS], 64)
		if err != nil || g < 0 {
			continue
		}
		c, _ := strconv.Atoi(m.Tags["burst"])
		obs = append(obs, survival.Observation{Gap: g + shift, Event: m.Value == 1, Cluster: c})
	}
	return obs
}

func levelOf(d *RunData) float64 {
	if v, err := strconv.ParseFloat(d.Run.Params["level"], 64); err == nil && v > 0 && v < 1 {
		return v
	}
	return 0.95
}

// idleSection is the idle survival figure: every observation (warm at the
// top, evicted at the bottom), the fitted survival step curve 1 − F̂ with
// its pointwise band, and the three estimates as marked lines with their
// intervals; and a table of the estimates.
func idleSection(b *builder, d *RunData) (Section, bool) {
	sec := Section{ID: "idle", Title: "Idle-timeout survival"}
	obs := idleObservations(d)
	if len(obs) == 0 {
		return sec, false
	}
	fit, err := survival.FitCurrentStatus(obs)
	if err != nil {
		return sec, false
	}
	lvl := levelOf(d)
	p := newPlot("Idle-timeout survival: share of instances still warm after an idle gap", "idle time (s)", "still warm")
	p.Y.Min, p.Y.Max = -0.15, 1.15

	// Pointwise band and the step curve.
	band := fit.Band(lvl, 400)
	var poly plotter.XYs
	var curve plotter.XYs
	for i, bp := range band {
		next := bp.Gap
		if i+1 < len(band) {
			next = band[i+1].Gap
		}
		poly = append(poly, plotter.XY{X: bp.Gap, Y: 1 - bp.Low}, plotter.XY{X: next, Y: 1 - bp.Low})
	}
	for i := len(band) - 1; i >= 0; i-- {
		bp := band[i]
		next := bp.Gap
		if i+1 < len(band) {
			next = band[i+1].Gap
		}
		poly = append(poly, plotter.XY{X: next, Y: 1 - bp.High}, plotter.XY{X: bp.Gap, Y: 1 - bp.High})
	}
	if pg, err := plotter.NewPolygon(poly); err == nil {
		pg.Color = withAlpha(colorOf(0), 60)
		pg.LineStyle.Width = 0
		p.Add(pg)
		p.Legend.Add(fmt.Sprintf("pointwise %g%% band", 100*lvl), pg)
	}
	for _, st := range fit.Steps() {
		curve = append(curve, plotter.XY{X: st.Gap, Y: 1 - st.F})
	}
	if l, err := plotter.NewLine(curve); err == nil {
		l.StepStyle = plotter.PostStep
		l.Color = colorOf(0)
		l.Width = vg.Points(1.5)
		p.Add(l)
		p.Legend.Add("fitted survival (NPMLE)", l)
	}
	// Observations, spread a little vertically so that they do not hide
	// each other.
	var warm, cold plotter.XYs
	for i, o := range obs {
		j := 0.06 * float64((i*7919)%11) / 10
		if o.Event {
			cold = append(cold, plotter.XY{X: o.Gap, Y: -0.02 - j})
		} else {
			warm = append(warm, plotter.XY{X: o.Gap, Y: 1.02 + j})
		}
	}
	for _, s := range []struct {
		xy    plotter.XYs
		name  string
		color int
	}{{warm, "observation: warm", 2}, {cold, "observation: evicted", 3}} {
		if len(s.xy) == 0 {
			continue
		}
		sc, err := plotter.NewScatter(s.xy)
		if err != nil {
			continue
		}
		sc.GlyphStyle = draw.GlyphStyle{Color: colorOf(s.color), Radius: vg.Points(1.6), Shape: draw.CircleGlyph{}}
		p.Add(sc)
		p.Legend.Add(s.name, sc)
	}
	// The estimates: a dashed vertical line at each, and its interval as a
	// horizontal bar at the survival level it is defined by (0.95 still
	// warm for idle_warm_s, 0.5 for the median, 0.05 for idle_cold_s); an
	// interval unbounded above reaches the right edge.
	t, _ := idleTripleOf(d.Estimates)
	xmax := 0.0
	for _, o := range obs {
		xmax = max(xmax, o.Gap)
	}
	var marks []string
	for i, m := range []struct {
		name  string
		e     estimateCI
		level float64
	}{{"idle_warm_s (5%)", t.warm, 0.95}, {"idle_timeout_s (median)", t.median, 0.5}, {"idle_cold_s (95%)", t.cold, 0.05}} {
		if math.IsNaN(m.e.v) {
			continue
		}
		col := colorOf(4 + i)
		p.Add(vline{x: m.e.v, color: col})
		lo, hi := m.e.lo, m.e.hi
		if math.IsNaN(lo) {
			lo = 0
		}
		if math.IsInf(hi, 1) {
			hi = max(xmax, m.e.v)
		}
		if l, err := plotter.NewLine(plotter.XYs{{X: lo, Y: m.level}, {X: hi, Y: m.level}}); err == nil {
			l.Color, l.Width = col, vg.Points(3)
			p.Add(l)
		}
		if sc, err := plotter.NewScatter(plotter.XYs{{X: m.e.v, Y: m.level}}); err == nil {
			sc.GlyphStyle = draw.GlyphStyle{Color: col, Radius: vg.Points(4), Shape: draw.CircleGlyph{}}
			p.Add(sc)
		}
		p.Legend.Add(m.name, markLegend{color: col})
		marks = append(marks, m.name+" "+m.e.text())
	}
	// Top right: after the transition the curve is near 0, so the legend
	// hides no data there.
	p.Legend.Top = true
	p.Legend.Left = false
	shape := idleShape(d.Estimates)
	caption := fmt.Sprintf("Estimand: the distribution, over newly started instances, of how long an instance stays warm once idle (its first idle period after it served a request; assumes the instances probed are typical of the function's). "+
		"Every probed instance is one observation (metric %s): warm answers at the top, evicted instances at the bottom, at its idle time (the client's gap plus the %s ms round trip). "+
		"The step curve is the nonparametric maximum-likelihood estimate of the share still warm, with its pointwise %g %% likelihood-ratio band (design effect %.2f); "+
		"dashed lines mark the estimates, and thick bars their %g %% intervals at the survival level each is defined by (0.95, 0.5, 0.05): %s. %s. n = %d observations. %s.",
		experiments.MetricIdleProbe, stats.Format(d.Estimates[estimateIdleOverhead]), 100*lvl, fit.DesignEffect(), 100*lvl, joinOr(marks, "none"), shape, len(obs), runRef(d))
	b.add(&sec, p, nil, caption)
	rows := [][]string{
		{"idle_warm_s (≥ 95 % still warm)", t.warm.text()},
		{"idle_timeout_s (median)", t.median.text()},
		{"idle_cold_s (≥ 95 % cold)", t.cold.text()},
		{"shape", shape},
	}
	if v, ok := d.Estimates[experiments.KeyIdleStillWarm]; ok {
		rows = append(rows, []string{"still warm after " + stats.Format(d.Estimates[experiments.KeyIdleLongestGap]) + " s",
			fmt.Sprintf("%.0f %% [%.0f, %.0f]", 100*v, 100*d.Estimates[experiments.KeyIdleStillWarmLow], 100*d.Estimates[experiments.KeyIdleStillWarmHigh])})
	}
	behaviour := "cannot tell (too few rechecks)"
	if v, ok := d.Estimates[experiments.KeyIdlePersistent]; ok {
		behaviour = "a new eviction time every idle period (an instance was evicted after a gap it had survived)"
		if v == 1 {
			behaviour = "per-instance fixed eviction times (no instance evicted after a gap it had survived)"
		}
	}
	rows = append(rows, []string{"behaviour", behaviour})
	if v, ok := d.Estimates[estimateIdlePrecision]; ok {
		reached := "no (a budget ended the run)"
		if v == 1 {
			reached = "yes"
		}
		rows = append(rows, []string{"precision reached", reached})
	}
	sec.Tables = append(sec.Tables, Table{Caption: "Idle-timeout estimates (95 % intervals unless the run set another level)", Header: []string{"estimate", "value [interval]"}, Rows: rows})
	return sec, true
}

func joinOr(xs []string, none string) string {
	if len(xs) == 0 {
		return none
	}
	out := xs[0]
	for _, x := range xs[1:] {
		out += "; " + x
	}
	return out
}

// markLegend is the legend thumbnail of a dashed estimate line.
type markLegend struct{ color color.RGBA }

// Thumbnail implements plot.Thumbnailer.
func (m markLegend) Thumbnail(c *draw.Canvas) {
	y := (c.Min.Y + c.Max.Y) / 2
	c.StrokeLine2(draw.LineStyle{Color: m.color, Width: vg.Points(1.5), Dashes: []vg.Length{vg.Points(5), vg.Points(3)}}, c.Min.X, y, c.Max.X, y)
}

var _ plot.Thumbnailer = markLegend{}

// intervalKeys are the estimates with intervals the compare view plots
// per run, by experiment.
var intervalKeys = map[string][]struct{ key, label string }{
	"idle-timeout": {
		{estimateIdleWarm, "idle_warm_s (5%)"}, {experiments.KeyIdleTimeout, "idle_timeout_s (median)"}, {estimateIdleCold, "idle_cold_s (95%)"},
	},
	"instance-lifetime": {
		{estimateLifetimeP5, "lifetime_p5_s (5%)"}, {estimateLifetime, "lifetime_s (median)"},
	},
}

// intervalCompare adds, for experiments with interval estimates, a figure
// of each estimate with its interval per run (platform · date · run) and a
// table of the same with the idle-timeout shape in words.
func intervalCompare(b *builder, sec *Section, exp string, rs []*RunData) {
	keys := intervalKeys[exp]
	if len(keys) == 0 {
		return
	}
	var ss []xySeries
	t := Table{Caption: "Estimates with intervals per run", Header: []string{"run"}}
	for _, k := range keys {
		t.Header = append(t.Header, k.label)
	}
	if exp == "idle-timeout" {
		t.Header = append(t.Header, "shape")
	}
	for _, k := range keys {
		s := xySeries{Name: k.label}
		for i, d := range rs {
			e := ciOf(d.Estimates, k.key)
			if math.IsNaN(e.v) {
				continue
			}
			lo, hi := e.lo, e.hi
			if math.IsNaN(lo) {
				lo = e.v
			}
			if math.IsInf(hi, 1) {
				hi = e.v
			}
			s.X, s.Y, s.Low, s.Hi = append(s.X, float64(i+1)), append(s.Y, e.v), append(s.Low, lo), append(s.Hi, hi)
		}
		ss = append(ss, s)
	}
	for i, d := range rs {
		row := []string{fmt.Sprintf("%d: %s", i+1, runLabel(d))}
		for _, k := range keys {
			row = append(row, ciOf(d.Estimates, k.key).text())
		}
		if exp == "idle-timeout" {
			row = append(row, idleShape(d.Estimates))
		}
		t.Rows = append(t.Rows, row)
	}
	p, err := intervalPlot(ss, len(rs))
	b.add(sec, p, err, fmt.Sprintf("Each run's estimates with their confidence intervals (error bars; an interval unbounded above is drawn to its estimate and shown as +Inf in the table), by run number as listed in the table. Runs: %s.", runIDs(rs)))
	sec.Tables = append(sec.Tables, t)
}

// intervalPlot draws each series' points with vertical error bars, without
// joining lines (runs are categories), series side by side around each run
// number.
func intervalPlot(ss []xySeries, runs int) (*plot.Plot, error) {
	p := newPlot("Estimates with their intervals per run", "run (see the table)", "seconds")
	for k, s := range ss {
		if len(s.X) == 0 {
			continue
		}
		type pt struct {
			plotter.XYs
			plotter.YErrors
		}
		var d pt
		for j := range s.X {
			d.XYs = append(d.XYs, plotter.XY{X: s.X[j] + 0.12*(float64(k)-float64(len(ss)-1)/2), Y: s.Y[j]})
			d.YErrors = append(d.YErrors, struct{ Low, High float64 }{s.Y[j] - s.Low[j], s.Hi[j] - s.Y[j]})
		}
		sc, err := plotter.NewScatter(d.XYs)
		if err != nil {
			return nil, fmt.Errorf("report: interval points %s: %w", s.Name, err)
		}
		sc.GlyphStyle = draw.GlyphStyle{Color: colorOf(k), Radius: vg.Points(3.5), Shape: draw.CircleGlyph{}}
		eb, err := plotter.NewYErrorBars(d)
		if err != nil {
			return nil, fmt.Errorf("report: interval bars %s: %w", s.Name, err)
		}
		eb.LineStyle.Color, eb.LineStyle.Width = colorOf(k), vg.Points(1.5)
		p.Add(eb, sc)
		p.Legend.Add(s.Name, sc)
	}
	p.X.Min, p.X.Max = 0.5, float64(runs)+0.5
	p.X.Tick.Marker = plot.ConstantTicks(runTicks(runs))
	return p, nil
}

func runTicks(n int) []plot.Tick {
	t := make([]plot.Tick, n)
	for i := range t {
		t[i] = plot.Tick{Value: float64(i + 1), Label: strconv.Itoa(i + 1)}
	}
	return t
}
