// Package report turns stored runs into what people read: a self-contained
// HTML report with figures (gonum/plot rendered to inline SVG), the terminal
// summary table printed after every experiment, and LaTeX tables for papers.
//
// Every report works for any run: a generic part (estimates, per-phase
// latency CDF and boxes with n, median and its 95 % CI, cold/warm counts,
// instance timeline, metrics table) is always rendered, and
// experiment-specific figures appear when their metrics are present (the
// metric contract is documented in docs/reports.md). Output is deterministic
// for a given database: no clock reads, sorted maps, stable ordering.
package report

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/base64"
	"fmt"
	"html/template"
	"io"
	"strconv"
	"strings"
	"time"

	"gonum.org/v1/plot/font"

	"github.com/faas-benchmarker/faas-benchmarker/results"
)

// Config selects the runs of a report.
type Config struct {
	// Filter selects the runs (zero value: every run).
	Filter results.RunFilter
	// Title is the page title (default "faas-benchmarker report").
	Title string
	// TimelineBins is the number of timeline bins per run (default: one
	// per 5 client invocations, between 20 and 120).
	TimelineBins int
}

// Report is a generated report, ready to be written as HTML.
type Report struct {
	Title   string
	Filter  string
	Runs    []RunSections
	Compare []Section
	// FontCSS is the @font-face rule embedding the figures' font.
	FontCSS template.CSS
}

// RunSections are the sections of one run.
type RunSections struct {
	Data     *RunData
	Label    string
	Anchor   string
	Sections []Section
}

// Build loads the selected runs from db and builds the report.
func Build(ctx context.Context, db *results.DB, cfg Config) (*Report, error) {
	runs, err := db.Runs(ctx, cfg.Filter)
	if err != nil {
		return nil, err
	}
	if len(runs) == 0 {
		return nil, fmt.Errorf("report: no runs match %s", describeFilter(cfg.Filter))
	}
	rep := &Report{Title: cfg.Title, Filter: describeFilter(cfg.Filter)}
	if rep.Title == "" {
		rep.Title = "faas-benchmarker report"
	}
	css, err := fontCSS()
	if err != nil {
		return nil, err
	}
	rep.FontCSS = css
	var all []*RunData
	for _, r := range runs {
		d, err := Load(ctx, db, r, LoadConfig{TimelineBins: cfg.TimelineBins})
		if err != nil {
			return nil, err
		}
		secs, err := runSections(d)
		if err != nil {
			return nil, fmt.Errorf("report: run %s: %w", r.ID, err)
		}
		all = append(all, d)
		rep.Runs = append(rep.Runs, RunSections{Data: d, Label: r.Experiment + " on " + r.PlatformLabel() + " · " + r.ID,
			Anchor: "r-" + safeID(r.ID), Sections: secs})
	}
	rep.Compare, err = compareSections(all)
	if err != nil {
		return nil, err
	}
	return rep, nil
}

// Generate builds the report for cfg and writes it as one HTML file to w.
func Generate(ctx context.Context, db *results.DB, cfg Config, w io.Writer) error {
	rep, err := Build(ctx, db, cfg)
	if err != nil {
		return err
	}
	return rep.WriteHTML(w)
}

// WriteHTML writes the report as one self-contained HTML page: inline CSS,
// inline SVG figures, the font embedded as a data: URL, no scripts and no
// network references.
func (r *Report) WriteHTML(w io.Writer) error {
	var buf bytes.Buffer
	if err := pageTmpl.Execute(&buf, r); err != nil {
		return fmt.Errorf("report: render html: %w", err)
	}
	_, err := w.Write(buf.Bytes())
	return err
}

func describeFilter(f results.RunFilter) string {
	var parts []string
	if len(f.IDs) > 0 {
		parts = append(parts, "runs "+strings.Join(f.IDs, ", "))
	}
	if f.Experiment != "" {
		parts = append(parts, "experiment "+f.Experiment)
	}
	if f.Platform != "" {
		parts = append(parts, "platform "+f.Platform)
	}
	if !f.Since.IsZero() {
		parts = append(parts, "since "+f.Since.UTC().Format(time.RFC3339))
	}
	if len(parts) == 0 {
		return "all runs"
	}
	return strings.Join(parts, ", ")
}

// fontCSS embeds the figures' font (Liberation Sans, SIL OFL) once for
// the whole page.
func fontCSS() (template.CSS, error) {
	face := font.DefaultCache.Lookup(plotFont, 10)
	if face.Face == nil {
		return "", fmt.Errorf("report: font %v not available", plotFont)
	}
	var raw bytes.Buffer
	if _, err := face.Face.WriteSourceTo(nil, &raw); err != nil {
		return "", fmt.Errorf("report: read font: %w", err)
	}
	return template.CSS(`@font-face{font-family:"Liberation Sans";font-weight:normal;font-style:normal;src:url(data:font/ttf;base64,` +
		base64.StdEncoding.EncodeToString(raw.Bytes()) + `) format("truetype");}`), nil
}

//go:embed page.html.tmpl
var pageSrc string

var pageTmpl = template.Must(template.New("page").Funcs(template.FuncMap{"numeric": numeric}).Parse(pageSrc))

// numeric reports whether a table cell holds a number (or an interval or
// a dash), which the page right-aligns.
func numeric(s string) bool {
	if s == "" || s == "–" || strings.HasPrefix(s, "[") {
		return true
	}
	s = strings.TrimSuffix(s, " s")
	for _, part := range strings.Split(s, " / ") {
		if _, err := strconv.ParseFloat(part, 64); err != nil {
			return false
		}
	}
	return true
}
