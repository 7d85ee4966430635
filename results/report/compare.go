package report

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"gonum.org/v1/plot"

	"github.com/faas-benchmarker/faas-benchmarker/stats"
)

// compareSections builds one "compare" section per experiment that has
// more than one run: the same experiment across platforms and over time.
// Each section is the compareParts, in order, over that experiment's runs.
func compareSections(runs []*RunData) ([]Section, error) {
	byExp := map[string][]*RunData{}
	var exps []string
	for _, d := range runs {
		e := d.Run.Experiment
		if _, ok := byExp[e]; !ok {
			exps = append(exps, e)
		}
		byExp[e] = append(byExp[e], d)
	}
	sort.Strings(exps)
	var out []Section
	for _, e := range exps {
		rs := byExp[e]
		if len(rs) < 2 {
			continue
		}
		b := &builder{prefix: "cmp-" + safeID(e)}
		sec := Section{ID: b.prefix, Title: "Compare: " + e + " across platforms and runs"}
		for _, part := range compareParts {
			part(b, &sec, e, rs)
		}
		if b.err != nil {
			return nil, b.err
		}
		out = append(out, sec)
	}
	return out, nil
}

// comparePart adds one figure or table to sec, the compare section of
// experiment exp over its runs rs (two or more); a rendering error is kept
// in b.
type comparePart func(b *builder, sec *Section, exp string, rs []*RunData)

// compareParts are the parts of a compare section, in page order.
var compareParts = []comparePart{
	latencyCDFCompare,
	medianOverTimeCompare,
	phaseBoxesCompare,
	intervalCompare,
	estimatesCompare,
}

// latencyCDFCompare overlays the CDFs of all successful client latency,
// one series per run.
func latencyCDFCompare(b *builder, sec *Section, exp string, rs []*RunData) {
	var ss []series
	n := 0
	for _, d := range rs {
		if len(ss) == maxSeries {
			break
		}
		v := d.AllLatency()
		if len(v) == 0 {
			continue
		}
		n += len(v)
		ss = append(ss, series{Name: runLabel(d), Values: v})
	}
	if len(ss) == 0 {
		return
	}
	p, err := cdfPlot("Client latency CDF per run", "client latency (ms)", ss)
	b.add(sec, p, err, fmt.Sprintf("Empirical CDF of client latency of all successful client invocations of each %s run (platform · start date · run id); legend: n, median and its 95 %% CI (ms). n = %d. Runs: %s.", exp, n, runIDs(rs)))
}

// comparedPhases are the phases of the runs, in phase order, at most
// maxComparePhases of them.
func comparedPhases(rs []*RunData) []string {
	seen := map[string]bool{}
	var phases []string
	for _, d := range rs {
		for _, ph := range d.Phases {
			if !seen[ph] {
				seen[ph] = true
				phases = append(phases, ph)
			}
		}
	}
	sortPhases(phases)
	if len(phases) > maxComparePhases {
		phases = phases[:maxComparePhases]
	}
	return phases
}

// medianOverTimeCompare plots the median client latency of each run by its
// start time, one series per platform and phase: a platform change shows
// as a step.
func medianOverTimeCompare(b *builder, sec *Section, _ string, rs []*RunData) {
	xs, n := medianOverTime(rs, comparedPhases(rs))
	if len(xs) == 0 {
		return
	}
	p, err := linePlot("Median client latency per run over time", "run start (UTC date)", "median client latency (ms)", xs, true)
	if p != nil {
		p.X.Tick.Marker = plot.TimeTicks{Format: "2006-01-02\n15:04"}
		pad := math.Max((p.X.Max-p.X.Min)*0.05, 3600)
		p.X.Min -= pad
		p.X.Max += pad
	}
	b.add(sec, p, err, fmt.Sprintf("Median client latency of each run with its 95 %% order-statistic CI, per platform and phase, by run start time: a platform change shows as a step. n = %d invocations. Runs: %s.", n, runIDs(rs)))
}

// medianOverTime is the series of medianOverTimeCompare (at most maxSeries,
// by platform then phase) and the number of invocations they summarise.
func medianOverTime(rs []*RunData, phases []string) ([]xySeries, int) {
	type key struct{ platform, phase string }
	pts := map[key]*xySeries{}
	var keys []key
	want := map[string]bool{}
	for _, ph := range phases {
		want[ph] = true
	}
	n := 0
	for _, d := range rs {
		for _, ph := range d.Phases {
			ps := d.PhaseStats[ph]
			if !want[ph] || len(ps.LatencyMS) == 0 {
				continue
			}
			k := key{d.Run.PlatformLabel(), ph}
			s := pts[k]
			if s == nil {
				s = &xySeries{Name: d.Run.PlatformLabel() + " · " + ph}
				pts[k] = s
				keys = append(keys, k)
			}
			sum := stats.SummarizeSorted(ps.LatencyMS)
			lo, hi := sum.P50, sum.P50
			if sum.MedianCI.OK {
				lo, hi = sum.MedianCI.Low, sum.MedianCI.High
			}
			x := float64(d.Run.StartedAt.Unix())
			s.X, s.Y, s.Low, s.Hi = append(s.X, x), append(s.Y, sum.P50), append(s.Low, lo), append(s.Hi, hi)
			n += sum.N
		}
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].platform != keys[j].platform {
			return keys[i].platform < keys[j].platform
		}
		return phaseLess(keys[i].phase, keys[j].phase)
	})
	var xs []xySeries
	for _, k := range keys {
		if len(xs) == maxSeries {
			break
		}
		xs = append(xs, *pts[k])
	}
	return xs, n
}

// phaseBoxesCompare draws boxes per phase and run, phases first: cold/warm
// of each platform side by side.
func phaseBoxesCompare(b *builder, sec *Section, _ string, rs []*RunData) {
	var boxSS []series
	n := 0
boxes:
	for _, ph := range comparedPhases(rs) {
		for _, d := range rs {
			ps := d.PhaseStats[ph]
			if ps == nil || len(ps.LatencyMS) == 0 {
				continue
			}
			if len(boxSS) == maxSeries {
				break boxes
			}
			boxSS = append(boxSS, series{Name: ph + "\n" + d.Run.PlatformLabel() + "\n" + d.Run.StartedAt.UTC().Format("2006-01-02"), Values: ps.LatencyMS})
			n += len(ps.LatencyMS)
		}
	}
	if len(boxSS) < 2 {
		return
	}
	b.add(sec, boxPlot("Client latency per phase and run", "client latency (ms)", boxSS), nil,
		fmt.Sprintf("Client latency of successful invocations per phase and run (phase · platform, run start date): box p25–p75, whiskers p1–p99, black bar median, dark band 95 %% CI of the median. n = %d. Runs: %s.", n, runIDs(rs)))
}

// estimatesCompare is the table of the runs' estimates side by side.
func estimatesCompare(_ *builder, sec *Section, _ string, rs []*RunData) {
	ekeys := map[string]bool{}
	for _, d := range rs {
		for _, k := range d.EstimateKeys() {
			ekeys[k] = true
		}
	}
	if len(ekeys) == 0 {
		return
	}
	t := Table{Caption: "Estimates per run", Header: []string{"estimate"}}
	for _, d := range rs {
		t.Header = append(t.Header, runLabel(d))
	}
	var ks []string
	for k := range ekeys {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	for _, k := range ks {
		row := []string{k}
		for _, d := range rs {
			row = append(row, d.EstimateText(k))
		}
		t.Rows = append(t.Rows, row)
	}
	sec.Tables = append(sec.Tables, t)
}

func runLabel(d *RunData) string {
	id := d.Run.ID
	return d.Run.PlatformLabel() + " · " + d.Run.StartedAt.UTC().Format("2006-01-02") + " · " + id
}

func runIDs(rs []*RunData) string {
	ids := make([]string, len(rs))
	for i, d := range rs {
		ids[i] = d.Run.ID
	}
	return strings.Join(ids, ", ")
}
