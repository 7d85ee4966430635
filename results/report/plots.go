package report

import (
	"bytes"
	"fmt"
	"image/color"
	"math"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgsvg"

	"github.com/faas-benchmarker/faas-benchmarker/stats"
)

// Figure sizes (points). The SVGs scale to the page width.
const (
	figW = 560
	figH = 300
	// maxCDFPoints bounds the points drawn per ECDF line.
	maxCDFPoints = 400
)

// plotFont is the typeface of every figure. The HTML page embeds the same
// font once (as a data: URL), so text renders with the metrics gonum used
// to lay it out, without any network access.
var plotFont = font.Font{Typeface: "Liberation", Variant: "Sans"}

// palette is a colour-blind-safe qualitative palette (Okabe & Ito).
var palette = []color.RGBA{
	{0, 114, 178, 255},   // blue
	{213, 94, 0, 255},    // vermillion
	{0, 158, 115, 255},   // bluish green
	{204, 121, 167, 255}, // reddish purple
	{230, 159, 0, 255},   // orange
	{86, 180, 233, 255},  // sky blue
	{0, 0, 0, 255},       // black
	{240, 228, 66, 255},  // yellow
}

func colorOf(i int) color.RGBA { return palette[i%len(palette)] }

func withAlpha(c color.RGBA, a uint8) color.NRGBA {
	return color.NRGBA{R: c.R, G: c.G, B: c.B, A: a}
}

// newPlot returns a plot with the report's fonts, labels and grid.
func newPlot(title, xlabel, ylabel string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.Title.TextStyle.Font = font.From(plotFont, 12)
	p.X.Label.Text = xlabel
	p.Y.Label.Text = ylabel
	for _, a := range []*plot.Axis{&p.X, &p.Y} {
		a.Label.TextStyle.Font = font.From(plotFont, 11)
		a.Tick.Label.Font = font.From(plotFont, 9)
	}
	p.Legend.TextStyle.Font = font.From(plotFont, 9)
	p.Legend.Top = true
	p.Add(&plotter.Grid{
		Vertical:   draw.LineStyle{Color: color.Gray{Y: 225}, Width: vg.Points(0.5)},
		Horizontal: draw.LineStyle{Color: color.Gray{Y: 225}, Width: vg.Points(0.5)},
	})
	return p
}

// useLog switches an axis to a log scale when the data spans more than a
// factor of 20 and is positive.
func useLog(a *plot.Axis, min, max float64) bool {
	if min <= 0 || max/min < 20 {
		return false
	}
	a.Scale = plot.LogScale{}
	a.Tick.Marker = plot.LogTicks{Prec: -1}
	return true
}

// renderSVG draws p and returns the SVG element (without the XML prolog).
func renderSVG(p *plot.Plot) (string, error) {
	c := vgsvg.NewWith(vgsvg.UseWH(vg.Points(figW), vg.Points(figH)))
	p.Draw(draw.New(c))
	var buf bytes.Buffer
	if _, err := c.WriteTo(&buf); err != nil {
		return "", fmt.Errorf("report: render svg: %w", err)
	}
	s := buf.String()
	if i := strings.Index(s, "<svg"); i >= 0 {
		s = s[i:]
	}
	s = strings.Replace(s, "<svg ", `<svg role="img" `, 1)
	return s, nil
}

// series is one named sample.
type series struct {
	Name   string
	Values []float64 // ascending
}

// posFloor keeps log scales defined for zero values.
const posFloor = 1e-3

// cdfPlot draws the ECDF of each series (x in unit, log x when the data
// spans decades), labelled with n, median and its 95 % CI.
func cdfPlot(title, xlabel string, ss []series) (*plot.Plot, error) {
	p := newPlot(title, xlabel, "fraction of requests ≤ x")
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, s := range ss {
		if len(s.Values) == 0 {
			continue
		}
		lo = math.Min(lo, s.Values[0])
		hi = math.Max(hi, s.Values[len(s.Values)-1])
	}
	logX := useLog(&p.X, math.Max(lo, posFloor), hi)
	p.Y.Min, p.Y.Max = 0, 1
	for i, s := range ss {
		if len(s.Values) == 0 {
			continue
		}
		pts := stats.ECDFSampled(s.Values, maxCDFPoints)
		xys := make(plotter.XYs, 0, len(pts)+1)
		first := pts[0].X
		if logX {
			first = math.Max(first, posFloor)
		}
		xys = append(xys, plotter.XY{X: first, Y: 0})
		for _, pt := range pts {
			x := pt.X
			if logX {
				x = math.Max(x, posFloor)
			}
			xys = append(xys, plotter.XY{X: x, Y: pt.Y})
		}
		l, err := plotter.NewLine(xys)
		if err != nil {
			return nil, fmt.Errorf("report: cdf %s: %w", s.Name, err)
		}
		l.StepStyle = plotter.PostStep
		l.Color = colorOf(i)
		l.Width = vg.Points(1.5)
		p.Add(l)
		p.Legend.Add(seriesLabel(s), l)
	}
	// The band above F = 1 is always free: the legend goes there.
	p.Y.Max = 1 + 0.07*float64(len(ss)) + 0.04
	p.Y.Tick.Marker = plot.ConstantTicks{{Value: 0, Label: "0"}, {Value: 0.25, Label: "0.25"}, {Value: 0.5, Label: "0.5"},
		{Value: 0.75, Label: "0.75"}, {Value: 1, Label: "1"}}
	p.Legend.Top = true
	p.Legend.Left = true
	p.Legend.XOffs = vg.Points(6)
	return p, nil
}

// seriesLabel is "name: n=…, median … [lo, hi]".
func seriesLabel(s series) string {
	sum := stats.SummarizeSorted(s.Values)
	if sum.MedianCI.OK {
		return fmt.Sprintf("%s: n=%d, median %s [%s, %s]", s.Name, sum.N, stats.Format(sum.P50), stats.Format(sum.MedianCI.Low), stats.Format(sum.MedianCI.High))
	}
	return fmt.Sprintf("%s: n=%d, median %s", s.Name, sum.N, stats.Format(sum.P50))
}

// boxes draws one summary box per series: box p25–p75, whiskers p1–p99,
// a bar at the median and a shaded band for the median's 95 % CI.
type boxes struct {
	items []boxItem
}

type boxItem struct {
	p1, p25, p50, p75, p99 float64
	ciLo, ciHi             float64
	ciOK                   bool
	color                  color.RGBA
}

func newBoxes(ss []series) (*boxes, []string) {
	b := &boxes{}
	var names []string
	for i, s := range ss {
		if len(s.Values) == 0 {
			continue
		}
		v := s.Values
		ci := stats.MedianCI(v, 0.95)
		b.items = append(b.items, boxItem{
			p1: stats.Percentile(v, 0.01), p25: stats.Percentile(v, 0.25), p50: stats.Percentile(v, 0.5),
			p75: stats.Percentile(v, 0.75), p99: stats.Percentile(v, 0.99),
			ciLo: ci.Low, ciHi: ci.High, ciOK: ci.OK, color: colorOf(i),
		})
		names = append(names, fmt.Sprintf("%s\n(n=%d)", s.Name, len(v)))
	}
	return b, names
}

// Plot implements plot.Plotter.
func (b *boxes) Plot(c draw.Canvas, plt *plot.Plot) {
	trX, trY := plt.Transforms(&c)
	half := vg.Points(14)
	for i, it := range b.items {
		x := trX(float64(i))
		ln := draw.LineStyle{Color: it.color, Width: vg.Points(1.2)}
		// whiskers
		c.StrokeLines(ln, c.ClipLinesY([]vg.Point{{X: x, Y: trY(it.p1)}, {X: x, Y: trY(it.p25)}},
			[]vg.Point{{X: x, Y: trY(it.p75)}, {X: x, Y: trY(it.p99)}},
			[]vg.Point{{X: x - half/2, Y: trY(it.p1)}, {X: x + half/2, Y: trY(it.p1)}},
			[]vg.Point{{X: x - half/2, Y: trY(it.p99)}, {X: x + half/2, Y: trY(it.p99)}})...)
		// box
		box := []vg.Point{{X: x - half, Y: trY(it.p25)}, {X: x + half, Y: trY(it.p25)},
			{X: x + half, Y: trY(it.p75)}, {X: x - half, Y: trY(it.p75)}}
		c.FillPolygon(withAlpha(it.color, 40), c.ClipPolygonY(box))
		if it.ciOK {
			band := []vg.Point{{X: x - half, Y: trY(it.ciLo)}, {X: x + half, Y: trY(it.ciLo)},
				{X: x + half, Y: trY(it.ciHi)}, {X: x - half, Y: trY(it.ciHi)}}
			c.FillPolygon(withAlpha(it.color, 110), c.ClipPolygonY(band))
		}
		c.StrokeLines(ln, c.ClipLinesY(append(box, box[0]))...)
		c.StrokeLines(draw.LineStyle{Color: color.Black, Width: vg.Points(2)},
			c.ClipLinesY([]vg.Point{{X: x - half, Y: trY(it.p50)}, {X: x + half, Y: trY(it.p50)}})...)
	}
}

// DataRange implements plot.DataRanger.
func (b *boxes) DataRange() (xmin, xmax, ymin, ymax float64) {
	ymin, ymax = math.Inf(1), math.Inf(-1)
	for _, it := range b.items {
		ymin = math.Min(ymin, it.p1)
		ymax = math.Max(ymax, it.p99)
	}
	return -0.5, float64(len(b.items)) - 0.5, ymin, ymax
}

// boxPlot draws summary boxes for the series (log y when they span decades).
func boxPlot(title, ylabel string, ss []series) *plot.Plot {
	p := newPlot(title, "", ylabel)
	b, names := newBoxes(ss)
	lo, hi := math.Inf(1), math.Inf(-1)
	for i := range b.items {
		b.items[i].clampPositive()
		lo = math.Min(lo, b.items[i].p1)
		hi = math.Max(hi, b.items[i].p99)
	}
	useLog(&p.Y, lo, hi)
	p.Add(b)
	p.NominalX(names...)
	return p
}

func (it *boxItem) clampPositive() {
	for _, v := range []*float64{&it.p1, &it.p25, &it.p50, &it.p75, &it.p99, &it.ciLo, &it.ciHi} {
		if *v < posFloor {
			*v = posFloor
		}
	}
}

// xySeries is a named line with optional error bars (Low/High absolute).
type xySeries struct {
	Name     string
	X, Y     []float64
	Low, Hi  []float64 // nil: no error bars
	Dashed   bool
	NoPoints bool
	Step     bool
}

// linePlot draws the series as lines with points and error bars.
func linePlot(title, xlabel, ylabel string, ss []xySeries, logY bool) (*plot.Plot, error) {
	p := newPlot(title, xlabel, ylabel)
	if logY {
		lo, hi := math.Inf(1), math.Inf(-1)
		for _, s := range ss {
			for _, y := range s.Y {
				if y > 0 {
					lo, hi = math.Min(lo, y), math.Max(hi, y)
				}
			}
		}
		logY = useLog(&p.Y, lo, hi)
	}
	for i, s := range ss {
		if len(s.X) == 0 {
			continue
		}
		xys := make(plotter.XYs, len(s.X))
		for j := range s.X {
			y := s.Y[j]
			if logY {
				y = math.Max(y, posFloor)
			}
			xys[j] = plotter.XY{X: s.X[j], Y: y}
		}
		l, err := plotter.NewLine(xys)
		if err != nil {
			return nil, fmt.Errorf("report: line %s: %w", s.Name, err)
		}
		l.Color = colorOf(i)
		l.Width = vg.Points(1.5)
		if s.Dashed {
			l.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
		}
		if s.Step {
			l.StepStyle = plotter.PostStep
		}
		p.Add(l)
		if !s.NoPoints {
			sc, err := plotter.NewScatter(xys)
			if err != nil {
				return nil, fmt.Errorf("report: points %s: %w", s.Name, err)
			}
			sc.Color = colorOf(i)
			sc.Radius = vg.Points(2.5)
			sc.Shape = draw.CircleGlyph{}
			p.Add(sc)
			p.Legend.Add(s.Name, l, sc)
		} else {
			p.Legend.Add(s.Name, l)
		}
		if s.Low != nil {
			errs := make(plotter.YErrors, len(s.X))
			for j := range s.X {
				lo, hi := s.Low[j], s.Hi[j]
				if logY {
					lo, hi = math.Max(lo, posFloor), math.Max(hi, posFloor)
				}
				errs[j].Low = xys[j].Y - lo
				errs[j].High = hi - xys[j].Y
			}
			eb, err := plotter.NewYErrorBars(struct {
				plotter.XYs
				plotter.YErrors
			}{xys, errs})
			if err != nil {
				return nil, fmt.Errorf("report: error bars %s: %w", s.Name, err)
			}
			eb.Color = colorOf(i)
			p.Add(eb)
		}
	}
	// Headroom for the legend at the top.
	if logY && p.Y.Min > 0 {
		p.Y.Max *= math.Pow(p.Y.Max/p.Y.Min, 0.35)
	} else if p.Y.Max > p.Y.Min {
		p.Y.Max += 0.3 * (p.Y.Max - p.Y.Min)
	}
	return p, nil
}

// vline draws a vertical line at x over the plot's Y range (e.g. an
// estimate), with a shaded band [lo, hi] when lo < hi.
type vline struct {
	x, lo, hi float64
	color     color.RGBA
}

// Plot implements plot.Plotter.
func (v vline) Plot(c draw.Canvas, plt *plot.Plot) {
	trX, _ := plt.Transforms(&c)
	if v.lo < v.hi {
		band := []vg.Point{{X: trX(v.lo), Y: c.Min.Y}, {X: trX(v.hi), Y: c.Min.Y}, {X: trX(v.hi), Y: c.Max.Y}, {X: trX(v.lo), Y: c.Max.Y}}
		c.FillPolygon(withAlpha(v.color, 45), c.ClipPolygonX(band))
	}
	c.StrokeLines(draw.LineStyle{Color: v.color, Width: vg.Points(1.5), Dashes: []vg.Length{vg.Points(5), vg.Points(3)}},
		c.ClipLinesX([]vg.Point{{X: trX(v.x), Y: c.Min.Y}, {X: trX(v.x), Y: c.Max.Y}})...)
}

// DataRange implements plot.DataRanger.
func (v vline) DataRange() (xmin, xmax, ymin, ymax float64) {
	lo, hi := v.x, v.x
	if v.lo < v.hi {
		lo, hi = math.Min(lo, v.lo), math.Max(hi, v.hi)
	}
	return lo, hi, math.Inf(1), math.Inf(-1)
}
