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
		ids := runIDs(rs)

		// Overlaid CDFs of all successful client latency per run.
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
		if len(ss) > 0 {
			p, err := cdfPlot("Client latency CDF per run", "client latency (ms)", ss)
			b.add(&sec, p, err, fmt.Sprintf("Empirical CDF of client latency of all successful client invocations of each %s run (platform · start date · run id); legend: n, median and its 95 %% CI (ms). n = %d. Runs: %s.", e, n, ids))
		}

		// Median per phase over time, one series per platform and phase.
		type key struct{ platform, phase string }
		pts := map[key]*xySeries{}
		var keys []key
		phaseSeen := map[string]bool{}
		var phases []string
		for _, d := range rs {
			for _, ph := range d.Phases {
				if !phaseSeen[ph] {
					phaseSeen[ph] = true
					phases = append(phases, ph)
				}
			}
		}
		sortPhases(phases)
		if len(phases) > maxComparePhases {
			phases = phases[:maxComparePhases]
		}
		want := map[string]bool{}
		for _, ph := range phases {
			want[ph] = true
		}
		n = 0
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
		if len(xs) > 0 {
			p, err := linePlot("Median client latency per run over time", "run start (UTC date)", "median client latency (ms)", xs, true)
			if p != nil {
				p.X.Tick.Marker = plot.TimeTicks{Format: "2006-01-02\n15:04"}
				pad := math.Max((p.X.Max-p.X.Min)*0.05, 3600)
				p.X.Min -= pad
				p.X.Max += pad
			}
			b.add(&sec, p, err, fmt.Sprintf("Median client latency of each run with its 95 %% order-statistic CI, per platform and phase, by run start time: a platform change shows as a step. n = %d invocations. Runs: %s.", n, ids))
		}

		// Boxes per phase and run, phases first: cold/warm of each platform
		// side by side.
		var boxSS []series
		n = 0
	boxes:
		for _, ph := range phases {
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
		if len(boxSS) > 1 {
			b.add(&sec, boxPlot("Client latency per phase and run", "client latency (ms)", boxSS), nil,
				fmt.Sprintf("Client latency of successful invocations per phase and run (phase · platform, run start date): box p25–p75, whiskers p1–p99, black bar median, dark band 95 %% CI of the median. n = %d. Runs: %s.", n, ids))
		}

		intervalCompare(b, &sec, e, rs)

		// Estimates side by side.
		ekeys := map[string]bool{}
		for _, d := range rs {
			for _, k := range d.EstimateKeys() {
				ekeys[k] = true
			}
		}
		if len(ekeys) > 0 {
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
		if b.err != nil {
			return nil, b.err
		}
		out = append(out, sec)
	}
	return out, nil
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
