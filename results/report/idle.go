package report

import (
	"fmt"
	"image/color"
	"math"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/faas-benchmarker/faas-benchmarker/experiments"
	"github.com/faas-benchmarker/faas-benchmarker/stats"
	"github.com/faas-benchmarker/faas-benchmarker/stats/survival"
)

// estimateCI is an estimate with its interval as a run stored it (NaN
// where absent; a missing high end is +Inf).
type estimateCI struct{ v, lo, hi float64 }

// ciOf reads key and its interval (stats.IntervalKeys) from est.
func ciOf(est map[string]float64, key string) estimateCI {
	get := func(k string, def float64) float64 {
		if v, ok := est[k]; ok {
			return v
		}
		return def
	}
	lk, hk := stats.IntervalKeys(key)
	return estimateCI{v: get(key, math.NaN()), lo: get(lk, math.NaN()), hi: get(hk, math.Inf(1))}
}

// any reports whether the run stored the estimate or an end of it.
func (e estimateCI) any() bool { return !math.IsNaN(e.v) || !math.IsNaN(e.lo) || !math.IsInf(e.hi, 1) }

// text renders an estimate with its interval: "5.02 s [4.71, 5.40]"; one
// the data bound on one side only as that bound ("≥ 3.1 s (bound)"), one
// stored as its interval alone as the range.
func (e estimateCI) text() string {
	if math.IsNaN(e.v) {
		switch {
		case !math.IsNaN(e.lo) && !math.IsInf(e.hi, 1):
			return stats.Format(e.lo) + "–" + stats.Format(e.hi) + " s (a range)"
		case !math.IsNaN(e.lo):
			return "≥ " + stats.Format(e.lo) + " s (bound)"
		case !math.IsInf(e.hi, 1):
			return "≤ " + stats.Format(e.hi) + " s (bound)"
		}
		return "–"
	}
	return stats.Format(e.v) + " s [" + stats.Format(e.lo) + ", " + stats.Format(e.hi) + "]"
}

// markOf returns the mark of marks at quantile q (ok false without one).
func markOf(marks []experiments.Mark, q float64) (experiments.Mark, bool) {
	for _, m := range marks {
		if m.Q == q {
			return m, true
		}
	}
	return experiments.Mark{}, false
}

// survivalShape says in words whether the event time looks sharp or
// spread, from the declared marks: sharp when the lowest and the highest
// quantile are within 10 % of the median of each other. "" when the run
// stored no median.
func survivalShape(marks []experiments.Mark, est map[string]float64) string {
	mm, ok := markOf(marks, 0.5)
	if !ok || len(marks) == 0 {
		return ""
	}
	lowM, highM := marks[0], marks[0]
	for _, m := range marks {
		if m.Q < lowM.Q {
			lowM = m
		}
		if m.Q > highM.Q {
			highM = m
		}
	}
	med, lo, hi := ciOf(est, mm.Key), ciOf(est, lowM.Key), ciOf(est, highM.Key)
	switch {
	case !med.any():
		return ""
	case math.IsNaN(med.v) && !math.IsNaN(med.lo) && !math.IsInf(med.hi, 1):
		return "median somewhere in " + stats.Format(med.lo) + "–" + stats.Format(med.hi) + " s (not pinned down)"
	case math.IsNaN(med.v) && !math.IsNaN(med.lo):
		return "not evicted by the longest gap probed: more than " + stats.Format(med.lo) + " s"
	case math.IsNaN(med.v) && !math.IsInf(med.hi, 1):
		return "median at most " + stats.Format(med.hi) + " s (not bounded below by the data)"
	case math.IsNaN(med.v):
		return "median not bounded by the data"
	case math.IsNaN(hi.v) || math.IsNaN(lo.v):
		return fmt.Sprintf("spread: median %s s; %g %% / %g %% points not bounded on both sides by the data", stats.Format(med.v), 100*lowM.Q, 100*highM.Q)
	case hi.v-lo.v <= 0.1*med.v:
		return "sharp: ~" + stats.Format(med.v) + " s"
	default:
		return "spread: warm up to " + stats.Format(lo.v) + " s, cold after " + stats.Format(hi.v) + " s"
	}
}

// survivalObservations reads f's metric as current-status observations at
// the time in f.Tag, clustered by f.Cluster, leaving out those whose Drop
// tags match: the same observations, and so the same fit, as the run's
// estimates.
func survivalObservations(d *RunData, f experiments.Figure) []survival.Observation {
	var obs []survival.Observation
metrics:
	for _, m := range d.metricsNamed(f.Metric) {
		for tag, v := range f.Drop {
			if m.Tags[tag] == v {
				continue metrics
			}
		}
		g, err := strconv.ParseFloat(m.Tags[f.Tag], 64)
		if err != nil || g < 0 {
			continue
		}
		c, _ := strconv.Atoi(m.Tags[f.Cluster])
		obs = append(obs, survival.Observation{Gap: g, Event: m.Value == 1, Cluster: c})
	}
	return obs
}

func levelOf(d *RunData) float64 {
	if v, err := strconv.ParseFloat(d.Run.Params["level"], 64); err == nil && v > 0 && v < 1 {
		return v
	}
	return 0.95
}

// survivalFigure draws a declared FigureSurvival: every observation (event
// at the bottom, none at the top), the fitted survival step curve 1 − F̂
// with its pointwise band, and the marks as lines with their intervals;
// and a table of the marks and notes.
func survivalFigure(b *builder, d *RunData, sec *Section, f experiments.Figure) {
	obs := survivalObservations(d, f)
	if len(obs) == 0 {
		return
	}
	fit, err := survival.FitCurrentStatus(obs)
	if err != nil {
		return
	}
	lvl := levelOf(d)
	p := newPlot(f.Title, f.XLabel, f.YLabel)
	p.Y.Min, p.Y.Max = -0.15, 1.15
	plotSurvivalFit(p, fit, lvl)
	plotObservations(p, obs)
	xmax := 0.0
	for _, o := range obs {
		xmax = max(xmax, o.Gap)
	}
	marks := plotMarks(p, f.Marks, d.Estimates, xmax)
	// Top right: after the transition the curve is near 0, so the legend
	// hides no data there.
	p.Legend.Top, p.Legend.Left = true, false
	shape := survivalShape(f.Marks, d.Estimates)
	caption := fmt.Sprintf("%s (metric %s, tag %s). "+
		"The step curve is the nonparametric maximum-likelihood estimate of the share without the event, with its pointwise %g %% likelihood-ratio band (design effect %.2f); "+
		"dashed lines mark the estimates, and thick bars their %g %% intervals at the level each is defined by: %s. %s. n = %d observations. %s.",
		f.Caption, f.Metric, f.Tag, 100*lvl, fit.DesignEffect(), 100*lvl, joinOr(marks, "none"), shape, len(obs), runRef(d))
	b.add(sec, p, nil, caption)
	sec.Tables = append(sec.Tables, marksTable(f, d.Estimates, shape))
}

// plotSurvivalFit adds the fit's pointwise band and its step curve.
func plotSurvivalFit(p *plot.Plot, fit *survival.CurrentStatus, lvl float64) {
	band := fit.Band(lvl, 400)
	var poly, curve plotter.XYs
	next := func(i int) float64 {
		if i+1 < len(band) {
			return band[i+1].Gap
		}
		return band[i].Gap
	}
	for i, bp := range band {
		poly = append(poly, plotter.XY{X: bp.Gap, Y: 1 - bp.Low}, plotter.XY{X: next(i), Y: 1 - bp.Low})
	}
	for i := len(band) - 1; i >= 0; i-- {
		poly = append(poly, plotter.XY{X: next(i), Y: 1 - band[i].High}, plotter.XY{X: band[i].Gap, Y: 1 - band[i].High})
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
}

// plotObservations adds every observation, spread a little vertically so
// that they do not hide each other.
func plotObservations(p *plot.Plot, obs []survival.Observation) {
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
}

// plotMarks adds each mark with a value: a dashed vertical line at it, and
// its interval as a horizontal bar at the survival level 1 − Q it is
// defined by (an interval unbounded above reaches xmax). It returns the
// marks as text.
func plotMarks(p *plot.Plot, ms []experiments.Mark, est map[string]float64, xmax float64) []string {
	var out []string
	for i, m := range ms {
		e := ciOf(est, m.Key)
		if math.IsNaN(e.v) {
			continue
		}
		col, level := colorOf(4+i), 1-m.Q
		p.Add(vline{x: e.v, color: col})
		lo, hi := e.lo, e.hi
		if math.IsNaN(lo) {
			lo = 0
		}
		if math.IsInf(hi, 1) {
			hi = max(xmax, e.v)
		}
		if l, err := plotter.NewLine(plotter.XYs{{X: lo, Y: level}, {X: hi, Y: level}}); err == nil {
			l.Color, l.Width = col, vg.Points(3)
			p.Add(l)
		}
		if sc, err := plotter.NewScatter(plotter.XYs{{X: e.v, Y: level}}); err == nil {
			sc.GlyphStyle = draw.GlyphStyle{Color: col, Radius: vg.Points(4), Shape: draw.CircleGlyph{}}
			p.Add(sc)
		}
		p.Legend.Add(m.Label, markLegend{color: col})
		out = append(out, m.Label+" "+e.text())
	}
	return out
}

// marksTable is the table of a declared figure's marks, the shape in words
// (when there is one) and its notes.
func marksTable(f experiments.Figure, est map[string]float64, shape string) Table {
	var rows [][]string
	for _, m := range f.Marks {
		rows = append(rows, []string{m.Label, ciOf(est, m.Key).text()})
	}
	if shape != "" {
		rows = append(rows, []string{"shape", shape})
	}
	for _, n := range f.Notes {
		v, ok := est[n.Key]
		switch {
		case !ok && n.Absent != "":
			rows = append(rows, []string{n.Label, n.Absent})
		case !ok:
		case n.Percent:
			lk, hk := stats.IntervalKeys(n.Key)
			rows = append(rows, []string{n.Label, fmt.Sprintf("%.0f %% [%.0f, %.0f]", 100*v, 100*est[lk], 100*est[hk])})
		case n.Values != nil:
			if text, ok := n.Values[v]; ok {
				rows = append(rows, []string{n.Label, text})
			}
		default:
			rows = append(rows, []string{n.Label, stats.Format(v)})
		}
	}
	return Table{Caption: "Estimates (95 % intervals unless the run set another level)", Header: []string{"estimate", "value [interval]"}, Rows: rows}
}

// intervalsTable draws a declared FigureIntervals: the table of its marks
// (left out when the run stored none of them).
func intervalsTable(d *RunData, sec *Section, f experiments.Figure) {
	for _, m := range f.Marks {
		if ciOf(d.Estimates, m.Key).any() {
			sec.Tables = append(sec.Tables, marksTable(f, d.Estimates, ""))
			return
		}
	}
}

// declaredFigures returns the figures experiment exp declares
// (experiments.Reporter), none for an unknown or undeclaring one.
func declaredFigures(exp string) []experiments.Figure {
	e, err := experiments.Lookup(exp)
	if err != nil {
		return nil
	}
	r, ok := e.(experiments.Reporter)
	if !ok {
		return nil
	}
	var out []experiments.Figure
	for _, s := range r.ReportSections() {
		out = append(out, s.Figures...)
	}
	return out
}

// survivalSummary is the text summary's line for a run whose experiment
// declares a survival figure: the shape in words and the marks ("" for
// other runs).
func survivalSummary(d *RunData) string {
	for _, f := range declaredFigures(d.Run.Experiment) {
		if f.Kind != experiments.FigureSurvival {
			continue
		}
		shape := survivalShape(f.Marks, d.Estimates)
		if shape == "" {
			return ""
		}
		parts := make([]string, len(f.Marks))
		for i, m := range f.Marks {
			parts[i] = m.Label + " " + ciOf(d.Estimates, m.Key).text()
		}
		return shape + "\n  " + strings.Join(parts, " · ")
	}
	return ""
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

// intervalCompare adds, for an experiment that declares marks (estimates
// with intervals), a figure of each with its interval per run (platform ·
// date · run) and a table of the same, with the shape in words where it
// declares a survival figure.
func intervalCompare(b *builder, sec *Section, exp string, rs []*RunData) {
	var marks []experiments.Mark
	var shapeMarks []experiments.Mark
	for _, f := range declaredFigures(exp) {
		marks = append(marks, f.Marks...)
		if f.Kind == experiments.FigureSurvival {
			shapeMarks = f.Marks
		}
	}
	if len(marks) == 0 {
		return
	}
	var ss []xySeries
	t := Table{Caption: "Estimates with intervals per run", Header: []string{"run"}}
	for _, m := range marks {
		t.Header = append(t.Header, m.Label)
	}
	if shapeMarks != nil {
		t.Header = append(t.Header, "shape")
	}
	for _, m := range marks {
		s := xySeries{Name: m.Label}
		for i, d := range rs {
			e := ciOf(d.Estimates, m.Key)
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
		for _, m := range marks {
			row = append(row, ciOf(d.Estimates, m.Key).text())
		}
		if shapeMarks != nil {
			row = append(row, survivalShape(shapeMarks, d.Estimates))
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
