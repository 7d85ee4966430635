package report

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/faas-benchmarker/faas-benchmarker/results"
	"github.com/faas-benchmarker/faas-benchmarker/stats"
)

// WriteSummaryTable loads run runID from db and writes its terminal summary
// (see WriteSummary), followed by a line pointing to `fbrun report`. It is
// what `fbrun experiment` prints at the end of every run.
func WriteSummaryTable(ctx context.Context, w io.Writer, db *results.DB, runID string) error {
	run, err := db.GetRun(ctx, runID)
	if err != nil {
		return err
	}
	d, err := Load(ctx, db, run, LoadConfig{})
	if err != nil {
		return err
	}
	if err := WriteSummary(w, d); err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "\nFull report with figures: fbrun report %s -o report.html\n", runID)
	return err
}

// WriteSummary writes an aligned text table of one run: invocation counts,
// ok/errors by kind, cold/warm counts, client latency per phase (n, p50 with
// its 95 % CI, p90, p99 in ms) and the experiment's estimates.
func WriteSummary(w io.Writer, d *RunData) error {
	r := d.Run
	var b strings.Builder
	fmt.Fprintf(&b, "Run %s · experiment %s · platform %s · status %s", r.ID, r.Experiment, r.PlatformLabel(), r.Status)
	if s := d.DurationS(); s == s {
		fmt.Fprintf(&b, " · %s s", stats.Format(s))
	}
	b.WriteString("\n")
	if r.Error != "" {
		fmt.Fprintf(&b, "error: %s\n", r.Error)
	}
	fmt.Fprintf(&b, "Invocations %d (client %d, nested %d) · ok %d · errors %d", d.Invocations, d.Client, d.Nested, d.OK, d.Client-d.OK)
	if len(d.Errors) > 0 {
		b.WriteString(" (" + errorList(d.Errors) + ")")
	}
	b.WriteString("\n")
	fmt.Fprintf(&b, "Cold %d · warm %d · unknown %d (in-function flag)\n\n", d.Cold, d.Warm, d.ColdNone)

	rows := [][]string{{"phase", "n", "ok", "errors", "cold", "p50 ms", "95% CI ms", "p90 ms", "p99 ms"}}
	for _, p := range d.Phases {
		ps := d.PhaseStats[p]
		s := stats.SummarizeSorted(ps.LatencyMS)
		rows = append(rows, []string{p, itoa(ps.N), itoa(ps.OK), itoa(ps.Errors), itoa(ps.Cold), stats.Format(s.P50), ciText(s.MedianCI), stats.Format(s.P90), stats.Format(s.P99)})
	}
	writeAligned(&b, rows)
	if len(d.Estimates) > 0 {
		b.WriteString("\n")
		est := [][]string{{"estimate", "value [95% interval]"}}
		for _, k := range d.EstimateKeys() {
			est = append(est, []string{k, d.EstimateText(k)})
		}
		writeAligned(&b, est)
		if s := survivalSummary(d); s != "" {
			fmt.Fprintf(&b, "\n%s: %s\n", d.Run.Experiment, s)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// errorList renders error counts as "kind n, kind n" sorted by count.
func errorList(m map[string]int64) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if m[keys[i]] != m[keys[j]] {
			return m[keys[i]] > m[keys[j]]
		}
		return keys[i] < keys[j]
	})
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s %d", k, m[k])
	}
	return strings.Join(parts, ", ")
}

// writeAligned writes rows as a table: the first column left-aligned, the
// others right-aligned, two spaces between columns.
func writeAligned(b *strings.Builder, rows [][]string) {
	var widths []int
	for _, r := range rows {
		for i, c := range r {
			if i >= len(widths) {
				widths = append(widths, 0)
			}
			widths[i] = max(widths[i], utf8.RuneCountInString(c))
		}
	}
	for _, r := range rows {
		var line strings.Builder
		for i, c := range r {
			pad := strings.Repeat(" ", widths[i]-utf8.RuneCountInString(c))
			if i == 0 {
				line.WriteString(c + pad)
			} else {
				line.WriteString("  " + pad + c)
			}
		}
		b.WriteString(strings.TrimRight(line.String(), " ") + "\n")
	}
}
