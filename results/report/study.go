package report

import (
	"context"
	"fmt"
	"math"

	"gonum.org/v1/plot"

	"github.com/faas-benchmarker/faas-benchmarker/results"
	"github.com/faas-benchmarker/faas-benchmarker/study"
)

// StudyConfig tunes a study report.
type StudyConfig struct {
	// Title is the page title (default "Study NAME").
	Title string
	// MaxDates is the number of latest study runs the over-time tables
	// show (default 8; figures show every study run).
	MaxDates int
}

// BuildStudy builds the report of a study from its analysis: the change
// detector's flags first, then per experiment the estimates of the latest
// study run side by side per platform, every estimate over the study runs
// (one point per study run with its interval), a trend figure, and at the
// end the full per-run sections of the latest study run's runs. It uses the
// same page, tables and figures as the run report.
func BuildStudy(ctx context.Context, db *results.DB, a *study.Analysis, cfg StudyConfig) (*Report, error) {
	if len(a.Runs) == 0 {
		return nil, fmt.Errorf("report: study %s has no study runs", a.Study)
	}
	if cfg.MaxDates <= 0 {
		cfg.MaxDates = 8
	}
	css, err := fontCSS()
	if err != nil {
		return nil, err
	}
	latest := a.Runs[len(a.Runs)-1]
	cells := 0
	for _, rc := range a.Runs {
		cells += len(rc.Cells)
	}
	rep := &Report{Title: cfg.Title, FontCSS: css,
		Filter: fmt.Sprintf("study %s · %d study runs (%s … %s) · %d cells · run details: the latest study run %s", a.Study, len(a.Runs),
			a.Runs[0].Run.StartedAt.UTC().Format("2006-01-02 15:04"), latest.Run.StartedAt.UTC().Format("2006-01-02 15:04"), cells, latest.Run.ID)}
	if rep.Title == "" {
		rep.Title = "Study " + a.Study
	}
	rep.Compare = append(rep.Compare, changesSection(a))
	for _, exp := range a.Experiments {
		secs, err := studyExperimentSections(a, exp, cfg)
		if err != nil {
			return nil, err
		}
		rep.Compare = append(rep.Compare, secs...)
	}
	for _, c := range latest.Cells {
		if c.State != results.CellDone || c.RunID == "" {
			continue
		}
		r, err := db.GetRun(ctx, c.RunID)
		if err != nil {
			return nil, err
		}
		d, err := Load(ctx, db, r, LoadConfig{})
		if err != nil {
			return nil, err
		}
		secs, err := runSections(d)
		if err != nil {
			return nil, fmt.Errorf("report: run %s: %w", r.ID, err)
		}
		rep.Runs = append(rep.Runs, RunSections{Data: d, Anchor: "r-" + safeID(r.ID), Sections: secs,
			Label: fmt.Sprintf("%s on %s #%d · %s", c.Experiment, c.Platform, c.Repetition, r.ID)})
	}
	return rep, nil
}

// changesSection lists the change detector's flags, and the estimates it
// could not judge in the latest study run.
func changesSection(a *study.Analysis) Section {
	sec := Section{ID: "study-changes", Title: "Changes flagged by the change detector"}
	if len(a.Changes) == 0 {
		sec.Intro = fmt.Sprintf("No change: in %d study runs no estimate moved from the previous study run by the change test "+
			"(a t test per estimate against its repetitions' spread and its earlier study runs, Holm's procedure over all estimates "+
			"of a study run: at most %.0f %% false alarms per study run). "+
			"Only estimates with a two-sided interval are judged; see docs/studies.md.", len(a.Runs), study.FamilyAlpha*100)
	} else {
		sec.Intro = fmt.Sprintf("%d change(s): an estimate that moved from the previous study run by a t test of the repetitions' means "+
			"(their variance from the 95 %% intervals, the repetitions' spread and the estimate's earlier study runs), flagged by Holm's "+
			"procedure over all estimates of the study run, so that a study run in which nothing changed flags anything with "+
			"probability at most %.0f %%. Shown: median over the repetitions and the union of their intervals.", len(a.Changes), study.FamilyAlpha*100)
		t := Table{Caption: "Changes", Header: []string{"date (UTC)", "platform", "experiment", "estimate", "before", "after", "p", "study runs"}, Text: true}
		for _, ch := range a.Changes {
			p := fmt.Sprintf("%.2g", ch.P)
			if ch.History == 0 {
				p += " (" + study.NoHistory + ")"
			}
			t.Rows = append(t.Rows, []string{ch.Date.UTC().Format("2006-01-02 15:04"), ch.Platform, ch.Experiment, ch.Key,
				ch.From.Text(), ch.To.Text(), p, ch.FromRun + " → " + ch.ToRun})
		}
		sec.Tables = append(sec.Tables, t)
	}
	latest := a.Runs[len(a.Runs)-1].Run.ID
	t := Table{Caption: "Not tested in the latest study run", Header: []string{"platform", "experiment", "estimate", "study runs", "why"}, Text: true}
	for _, u := range a.Untested {
		if u.ToRun == latest {
			t.Rows = append(t.Rows, []string{u.Platform, u.Experiment, u.Key, u.FromRun + " → " + u.ToRun, u.Reason})
		}
	}
	if len(t.Rows) > 0 {
		sec.Tables = append(sec.Tables, t)
	}
	return sec
}

// studyExperimentSections are the two sections of one experiment: side by
// side (latest study run) and over time.
func studyExperimentSections(a *study.Analysis, exp string, cfg StudyConfig) ([]Section, error) {
	var ss []study.Series
	for _, s := range a.Series {
		if s.Experiment == exp {
			ss = append(ss, s)
		}
	}
	side := Section{ID: "study-" + safeID(exp) + "-side", Title: exp + ": estimates per platform"}
	if len(ss) == 0 {
		side.Intro = "No cell of this experiment finished done yet."
		return []Section{side}, nil
	}
	keys := seriesKeys(ss)
	side = studySideSection(side, a, exp, ss, keys)
	over := Section{ID: "study-" + safeID(exp) + "-time", Title: exp + ": over time"}
	over.Intro = "One point per study run with its interval, per platform; a platform change shows as a step, and the change detector flags it when it stands out of the estimate's spread (see the changes above)."
	over.Tables = append(over.Tables, studyOverTimeTable(a, exp, ss, keys, cfg.MaxDates))
	if err := studyOverTimeFigures(&over, a, exp, ss, keys); err != nil {
		return nil, err
	}
	return []Section{side, over}, nil
}

// studySideSection fills side with the table of the latest study run:
// per estimate (row) and platform (column) the median over the
// repetitions with its interval.
func studySideSection(side Section, a *study.Analysis, exp string, ss []study.Series, keys []string) Section {
	latest := a.Runs[len(a.Runs)-1].Run
	side.Intro = fmt.Sprintf("The latest study run %s (%s): per estimate the median over the repetitions and, where the experiment gives one, "+
		"its interval [low, high] (the union of the repetitions' intervals).", latest.ID, latest.StartedAt.UTC().Format("2006-01-02 15:04"))
	t := Table{Caption: exp + " · " + latest.StartedAt.UTC().Format("2006-01-02"), Header: []string{"estimate"}}
	t.Header = append(t.Header, a.Platforms...)
	for _, k := range keys {
		row := []string{k}
		for _, p := range a.Platforms {
			cell := "–"
			if s := findSeries(ss, p, k); s != nil {
				if pt := s.Points[len(s.Points)-1]; pt.StudyRun == latest.ID {
					cell = pt.Text()
				}
			}
			row = append(row, cell)
		}
		t.Rows = append(t.Rows, row)
	}
	side.Tables = append(side.Tables, t)
	return side
}

// studyOverTimeTable is the table of every estimate and platform (rows)
// per study run (columns, the latest maxDates).
func studyOverTimeTable(a *study.Analysis, exp string, ss []study.Series, keys []string, maxDates int) Table {
	dates := a.Runs
	if len(dates) > maxDates {
		dates = dates[len(dates)-maxDates:]
	}
	tt := Table{Caption: exp + " per study run", Header: []string{"estimate", "platform"}}
	for _, rc := range dates {
		tt.Header = append(tt.Header, rc.Run.StartedAt.UTC().Format("2006-01-02 15:04"))
	}
	if len(dates) < len(a.Runs) {
		tt.Note = fmt.Sprintf("The latest %d of %d study runs.", len(dates), len(a.Runs))
	}
	for _, k := range keys {
		for _, p := range a.Platforms {
			s := findSeries(ss, p, k)
			if s == nil {
				continue
			}
			row := []string{k, p}
			for _, rc := range dates {
				cell := "–"
				for _, pt := range s.Points {
					if pt.StudyRun == rc.Run.ID {
						cell = pt.Text()
					}
				}
				row = append(row, cell)
			}
			tt.Rows = append(tt.Rows, row)
		}
	}
	return tt
}

// studyOverTimeFigures adds to over one figure per estimate with an
// interval (a line per platform) and the trend of them all relative to
// the first study run.
func studyOverTimeFigures(over *Section, a *study.Analysis, exp string, ss []study.Series, keys []string) error {
	b := &builder{prefix: "study-" + safeID(exp)}
	var trend []xySeries
	for _, k := range keys {
		var xs []xySeries
		n := 0
		for _, p := range a.Platforms {
			s := findSeries(ss, p, k)
			if s == nil || !hasInterval(s) {
				continue
			}
			xy, rel, pn := studyPoints(s)
			if len(xy.X) == 0 {
				continue
			}
			xy.Name = p
			n += pn
			xs = append(xs, xy)
			if len(rel.X) > 0 && len(trend) < maxSeries {
				rel.Name = p + " · " + k
				trend = append(trend, rel)
			}
		}
		if len(xs) == 0 {
			continue
		}
		pl, err := linePlot(exp+": "+k+" per study run", "study run start (UTC)", k, xs, false)
		timeAxis(pl)
		b.add(over, pl, err, fmt.Sprintf("%s of %s per study run and platform: the median over the repetitions with the union of their intervals as error bars. "+
			"%d repetitions in all. An open interval side is drawn at the value.", k, exp, n))
	}
	if len(trend) > 0 {
		pl, err := linePlot(exp+": trend relative to the first study run", "study run start (UTC)", "change from the first study run (%)", trend, false)
		timeAxis(pl)
		b.add(over, pl, err, fmt.Sprintf("Trend: every estimate of %s that has an interval, as the percentage change from its first study run, per platform (at most %d lines).", exp, maxSeries))
	}
	return b.err
}

// studyPoints are the plotted points of s (value and interval by study run
// date), the same as a percentage change from its first non-zero value,
// and the repetitions they summarise.
func studyPoints(s *study.Series) (xy, rel xySeries, n int) {
	base := math.NaN()
	for _, pt := range s.Points {
		y, lo, hi, ok := plotValue(pt.Estimate)
		if !ok {
			continue
		}
		x := float64(pt.Date.Unix())
		xy.X, xy.Y, xy.Low, xy.Hi = append(xy.X, x), append(xy.Y, y), append(xy.Low, lo), append(xy.Hi, hi)
		n += pt.N
		if math.IsNaN(base) && y != 0 {
			base = y
		}
		if !math.IsNaN(base) {
			rel.X, rel.Y = append(rel.X, x), append(rel.Y, 100*(y-base)/math.Abs(base))
		}
	}
	return xy, rel, n
}

// timeAxis labels x as dates and pads it so a single study run shows.
func timeAxis(p *plot.Plot) {
	if p == nil {
		return
	}
	p.X.Tick.Marker = plot.TimeTicks{Format: "2006-01-02\n15:04"}
	pad := (p.X.Max - p.X.Min) * 0.08
	if pad <= 0 {
		pad = 1800 // one study run: half an hour either side
	}
	p.X.Min -= pad
	p.X.Max += pad
}

// plotValue is what a figure draws for an estimate: the value (or the
// middle of a closed interval without one), with open sides drawn at the
// value.
func plotValue(e study.Estimate) (y, lo, hi float64, ok bool) {
	y = e.Value
	if math.IsNaN(y) {
		if !e.HasInterval || math.IsInf(e.Low, 0) || math.IsInf(e.High, 0) {
			return 0, 0, 0, false
		}
		y = (e.Low + e.High) / 2
	}
	lo, hi = y, y
	if e.HasInterval {
		if !math.IsInf(e.Low, 0) {
			lo = math.Min(e.Low, y)
		}
		if !math.IsInf(e.High, 0) {
			hi = math.Max(e.High, y)
		}
	}
	return y, lo, hi, true
}

func hasInterval(s *study.Series) bool {
	for _, p := range s.Points {
		if p.HasInterval {
			return true
		}
	}
	return false
}

func findSeries(ss []study.Series, platform, key string) *study.Series {
	for i := range ss {
		if ss[i].Platform == platform && ss[i].Key == key {
			return &ss[i]
		}
	}
	return nil
}

// seriesKeys lists the estimate keys, those with intervals first.
func seriesKeys(ss []study.Series) []string {
	var with, without []string
	seen := map[string]bool{}
	for i := range ss {
		if seen[ss[i].Key] {
			continue
		}
		seen[ss[i].Key] = true
		if hasIntervalKey(ss, ss[i].Key) {
			with = append(with, ss[i].Key)
		} else {
			without = append(without, ss[i].Key)
		}
	}
	return append(with, without...)
}

func hasIntervalKey(ss []study.Series, key string) bool {
	for i := range ss {
		if ss[i].Key == key && hasInterval(&ss[i]) {
			return true
		}
	}
	return false
}
