package report

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/faas-benchmarker/faas-benchmarker/results"
	"github.com/faas-benchmarker/faas-benchmarker/stats"
)

// WriteLatex writes LaTeX tables (booktabs) for the selected runs: per run
// the client latency per phase (n, median with its 95 % CI, p90, p99 in
// ms) and the run's estimates. Paste them into a paper with
// \usepackage{booktabs}.
func WriteLatex(ctx context.Context, w io.Writer, db *results.DB, f results.RunFilter) error {
	runs, err := db.Runs(ctx, f)
	if err != nil {
		return err
	}
	if len(runs) == 0 {
		return fmt.Errorf("report: no runs match %s", describeFilter(f))
	}
	var b strings.Builder
	for _, r := range runs {
		d, err := Load(ctx, db, r, LoadConfig{})
		if err != nil {
			return err
		}
		writeLatexRun(&b, d)
	}
	_, err = io.WriteString(w, b.String())
	return err
}

func writeLatexRun(b *strings.Builder, d *RunData) {
	r := d.Run
	label := "fb:" + safeID(r.ID)
	fmt.Fprintf(b, "%% fbrun export --latex: run %s (%s on %s, started %s)\n", r.ID, r.Experiment, r.Platform, r.StartedAt.UTC().Format("2006-01-02 15:04 MST"))
	b.WriteString("\\begin{table}[ht]\n\\centering\n")
	fmt.Fprintf(b, "\\caption{Client latency of %s on %s (run %s): successful invocations, ms; CI: 95\\%% order-statistic interval of the median.}\n",
		tex(r.Experiment), tex(r.Platform), tex(r.ID))
	fmt.Fprintf(b, "\\label{%s:latency}\n", label)
	b.WriteString("\\begin{tabular}{lrrrrr}\n\\toprule\n")
	b.WriteString("Phase & $n$ & Median & 95\\% CI & p90 & p99 \\\\\n\\midrule\n")
	for _, p := range d.Phases {
		s := stats.SummarizeSorted(d.PhaseStats[p].LatencyMS)
		ci := "--"
		if s.MedianCI.OK {
			ci = "[" + stats.Format(s.MedianCI.Low) + ", " + stats.Format(s.MedianCI.High) + "]"
		}
		fmt.Fprintf(b, "%s & %d & %s & %s & %s & %s \\\\\n", tex(p), s.N, texNum(s.P50), ci, texNum(s.P90), texNum(s.P99))
	}
	b.WriteString("\\bottomrule\n\\end{tabular}\n\\end{table}\n\n")
	if len(d.Estimates) == 0 {
		return
	}
	b.WriteString("\\begin{table}[ht]\n\\centering\n")
	fmt.Fprintf(b, "\\caption{Estimates of %s on %s (run %s).}\n", tex(r.Experiment), tex(r.Platform), tex(r.ID))
	fmt.Fprintf(b, "\\label{%s:estimates}\n", label)
	b.WriteString("\\begin{tabular}{lrl}\n\\toprule\nEstimate & Value & 95\\% interval \\\\\n\\midrule\n")
	for _, k := range d.EstimateKeys() {
		lk, hk := stats.IntervalKeys(k)
		iv := ""
		if lo, ok := d.Estimates[lk]; ok {
			if hi, ok := d.Estimates[hk]; ok {
				iv = "[" + texNum(lo) + ", " + texNum(hi) + "]"
			} else {
				iv = "[$\\geq$ " + texNum(lo) + "]"
			}
		}
		v := "--"
		if x, ok := d.Estimates[k]; ok {
			v = texNum(x)
		}
		fmt.Fprintf(b, "%s & %s & %s \\\\\n", tex(k), v, iv)
	}
	b.WriteString("\\bottomrule\n\\end{tabular}\n\\end{table}\n\n")
}

func texNum(v float64) string {
	s := stats.Format(v)
	if s == "–" {
		return "--"
	}
	return s
}

var texEscaper = strings.NewReplacer(`\`, `\textbackslash{}`, `&`, `\&`, `%`, `\%`, `$`, `\$`, `#`, `\#`, `_`, `\_`,
	`{`, `\{`, `}`, `\}`, `~`, `\textasciitilde{}`, `^`, `\textasciicircum{}`, "·", "--", "–", "--")

// tex escapes text for LaTeX.
func tex(s string) string { return texEscaper.Replace(s) }
