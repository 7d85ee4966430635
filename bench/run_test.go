package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/faas-benchmarker/faas-benchmarker/bench/measure"
)

func TestParseOptions(t *testing.T) {
	tests := []struct {
		args    []string
		wantErr bool
		check   func(options) bool
	}{
		// The default gives the paired ratios their interval (6 repetitions).
		{nil, false, func(o options) bool { return o.reps == 6 && len(o.concurrency) == 3 && len(o.rates) == 3 }},
		{[]string{"-short"}, false, func(o options) bool { return o.reps == 1 && o.window == time.Second && o.ingestRows == 50_000 }},
		{[]string{"-rates", "100, 200"}, false, func(o options) bool { return len(o.rates) == 2 && o.rates[1] == 200 }},
		{[]string{"-rates", "fast"}, true, nil},
		{[]string{"-concurrency", "0"}, true, nil},
		{[]string{"-mem-concurrency", "500,50"}, true, nil},
		{[]string{"-reps", "0"}, true, nil},
		{[]string{"-only", "max, ingest"}, false, func(o options) bool {
			return o.runs(groupMax) && o.runs(partIngest) && !o.runs(groupRate) && !o.runs(groupMem)
		}},
		{nil, false, func(o options) bool {
			return o.runs(groupMax) && o.runs(groupRate) && o.runs(groupMem) && o.runs(partIngest)
		}},
		{[]string{"-only", "closed"}, true, nil},
		{[]string{"-stall", "-1s"}, true, nil},
		{[]string{"-stall", "2s", "-window", "3s"}, true, nil}, // not within the first half of the window
		{[]string{"-stall-rate", "0"}, true, nil},
		{[]string{"-stall", "0"}, false, func(o options) bool { return o.stall == 0 }},
		{[]string{"-only", "stall"}, false, func(o options) bool { return o.runs(groupStall) && !o.runs(groupRate) }},
	}
	for _, tt := range tests {
		o, err := parseOptions(tt.args)
		if (err != nil) != tt.wantErr {
			t.Errorf("parseOptions(%q) error = %v, want error %v", tt.args, err, tt.wantErr)
			continue
		}
		if err == nil && !tt.check(o) {
			t.Errorf("parseOptions(%q) = %+v", tt.args, o)
		}
	}
}

func TestPlanCoversEveryMeasurement(t *testing.T) {
	o, err := parseOptions(nil)
	if err != nil {
		t.Fatal(err)
	}
	scs := plan(o, "http://t/f", "http://l/f")
	count := map[string]int{}
	for _, sc := range scs {
		count[sc.group]++
		s := sc.spec
		s.Tool = measure.ToolFBRun
		if err := s.Validate(); err != nil {
			t.Errorf("scenario %+v invalid: %v", sc.spec, err)
		}
	}
	// 3 concurrencies + local; 3 rates + local; 2 memory points; one
	// stall recovery.
	if count[groupMax] != 4 || count[groupRate] != 4 || count[groupMem] != 2 || count[groupStall] != 1 {
		t.Errorf("scenarios per group %v", count)
	}
	for _, sc := range scs {
		if (sc.group == groupStall) != (sc.spec.Stall > 0) {
			t.Errorf("scenario of group %s has stall %v", sc.group, sc.spec.Stall)
		}
		if sc.group == groupStall && (sc.spec.Rate != 10000 || sc.spec.Stall != 300*time.Millisecond || sc.spec.Mode != measure.ModeRate) {
			t.Errorf("stall scenario %+v, want open loop at 10000/s with a 300ms stall", sc.spec)
		}
	}
	names := func(sc scenario) (out []string) {
		for _, v := range sc.variants {
			out = append(out, v.name)
		}
		return out
	}
	if got := strings.Join(names(scs[2]), ","); got != "fbrun,vegeta,fbrun+sqlite,fbrun@vegeta-load" {
		t.Errorf("largest concurrency has variants %s, want fbrun, vegeta, fbrun+sqlite and fbrun at vegeta's load", got)
	}
	if got := strings.Join(names(scs[0]), ","); got != "fbrun,vegeta" {
		t.Errorf("c=1 has variants %s, want fbrun and vegeta only (one worker is one in flight)", got)
	}
	if scs := plan(o, "http://t/f", ""); len(scs) != 9 {
		t.Errorf("without the local platform: %d scenarios, want 9", len(scs))
	}
}

func TestWriteTables(t *testing.T) {
	o, _ := parseOptions([]string{"-short"})
	scs := plan(o, "http://t/f", "")
	var ocs []*outcome
	for _, sc := range scs {
		for _, v := range sc.variants {
			spec := sc.spec
			spec.Tool = v.tool
			thr := 100.0
			if v.matched {
				spec.Concurrency, thr = 13, 110
			}
			ocs = append(ocs, &outcome{scenario: sc, variant: v, runs: []*measure.Result{{Spec: spec, Throughput: thr, Requests: 10}}})
		}
	}
	var buf bytes.Buffer
	writeTables(&buf, report{Machine: describeMachine(), Ingest: &ingestResult{Rows: 10, Seconds: 1, RowsPerSec: 10}}, ocs, o)
	for _, want := range []string{"Maximum sustained throughput", "| minimal | 16 | 100 | 100 | 1.00 | 110 (13) | 1.10 |", "closed loop c=16, fbrun at vegeta's load (c=13)", "Open-loop accuracy", "Recovering from a stall: open loop at 2000/s, the target stops answering for 100ms", "Client overhead", "Memory per in-flight", "10 rows/s"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("tables lack %q:\n%s", want, buf.String())
		}
	}
}

// TestPairedRatio checks that ratios are taken within each repetition, then
// summarised, not taken between the medians.
func TestPairedRatio(t *testing.T) {
	runs := func(xs ...float64) (out []*measure.Result) {
		for _, x := range xs {
			out = append(out, &measure.Result{Throughput: x})
		}
		return out
	}
	thr := func(r *measure.Result) float64 { return r.Throughput }
	tests := []struct {
		a, b []*measure.Result
		want string
	}{
		// Medians 20 and 20 (ratio 1.00); per repetition 0.5, 2, 0.75.
		{runs(10, 20, 30), runs(20, 10, 40), "0.75 (0.50–2.00)"},
		{runs(10), runs(20), "0.50"},
		{runs(10, 20), runs(20), "0.50"}, // pairs only
		{runs(10), runs(0), "–"},
		{nil, runs(1), "–"},
		// From 6 repetitions on the median's 95 % interval is shown: for 6
		// it is [x(1), x(6)] (coverage 96.9 %); ratios 0.5 0.6 … 1.0.
		{runs(5, 6, 7, 8, 9, 10), runs(10, 10, 10, 10, 10, 10), "0.75 [0.50–1.00] (0.50–1.00)"},
		// For 16 it is [x(4), x(13)] (coverage 97.9 %); ratios 0.1 … 1.6.
		{runs(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16), runs(10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10),
			"0.85 [0.40–1.30] (0.10–1.60)"},
	}
	for _, tt := range tests {
		if got := pairedRatio(tt.a, tt.b, thr); got != tt.want {
			t.Errorf("pairedRatio(%d runs, %d runs) = %q, want %q", len(tt.a), len(tt.b), got, tt.want)
		}
	}
}

func TestMatchedConcurrency(t *testing.T) {
	for _, tt := range []struct {
		inFlight float64
		want     int
	}{{12.6, 13}, {12.4, 12}, {44.7, 45}, {0.3, 1}, {0, 1}, {7.95, 8}} {
		if got := matchedConcurrency(tt.inFlight); got != tt.want {
			t.Errorf("matchedConcurrency(%v) = %d, want %d", tt.inFlight, got, tt.want)
		}
	}
}

// TestOnlyClosedLoop checks that -only max plans and prints the closed loop
// alone (the paired study in docs/performance.md).
func TestOnlyClosedLoop(t *testing.T) {
	o, err := parseOptions([]string{"-only", "max", "-concurrency", "16,64"})
	if err != nil {
		t.Fatal(err)
	}
	scs := plan(o, "http://t/f", "http://l/f")
	var ocs []*outcome
	for _, sc := range scs {
		if sc.group != groupMax {
			t.Errorf("scenario of group %s planned with -only max", sc.group)
		}
		for _, v := range sc.variants {
			ocs = append(ocs, &outcome{scenario: sc, variant: v, runs: []*measure.Result{{Spec: sc.spec, Throughput: 100}}})
		}
	}
	if len(scs) != 3 { // minimal c=16, c=64, local
		t.Errorf("%d scenarios, want 3", len(scs))
	}
	var buf bytes.Buffer
	writeTables(&buf, report{Machine: describeMachine()}, ocs, o)
	out := buf.String()
	for _, want := range []string{"Maximum sustained throughput", "| minimal | 64 |", "Client overhead"} {
		if !strings.Contains(out, want) {
			t.Errorf("tables lack %q:\n%s", want, out)
		}
	}
	for _, unwanted := range []string{"Open-loop accuracy", "Recovering from a stall", "Memory per in-flight", "ingest"} {
		if strings.Contains(out, unwanted) {
			t.Errorf("tables show %q with -only max:\n%s", unwanted, out)
		}
	}
}

// TestMemoryPerRequestPaired checks that memory per in-flight request is
// taken within each repetition and that the tools are compared repetition
// by repetition.
func TestMemoryPerRequestPaired(t *testing.T) {
	o, err := parseOptions([]string{"-only", "mem", "-mem-concurrency", "10,100"})
	if err != nil {
		t.Fatal(err)
	}
	kib := func(xs ...float64) (out []*measure.Result) {
		for _, x := range xs {
			out = append(out, &measure.Result{LiveHeapBytes: x * 1024 / 2, StackBytes: x * 1024 / 2})
		}
		return out
	}
	totals := map[string]map[int][]*measure.Result{
		"fbrun":  {10: kib(100, 200), 100: kib(1000, 1100)}, // 10, 10 KiB per request
		"vegeta": {10: kib(100, 100), 100: kib(550, 1000)},  // 5, 10
	}
	var ocs []*outcome
	for _, sc := range plan(o, "http://t/f", "") {
		for _, v := range sc.variants {
			ocs = append(ocs, &outcome{scenario: sc, variant: v, runs: totals[v.name][sc.spec.Concurrency]})
		}
	}
	var buf bytes.Buffer
	writeTables(&buf, report{Machine: describeMachine()}, ocs, o)
	for _, want := range []string{
		"| fbrun | 150 (100–200) | 1050 (1000–1100) | 10.0 | 5.0 | 5.0 |",
		"| vegeta | 100 | 775 (550–1000) | 7.5 (5.0–10.0) |",
		// Per repetition 2.0 and 1.0; the ratio of the medians would be 1.33.
		"paired by repetition: 1.50 (1.00–2.00)",
	} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("tables lack %q:\n%s", want, buf.String())
		}
	}
}

// TestStallTableSeparate: a stall measurement at the same rate as an
// open-loop one is a cell of its own, in its own table.
func TestStallTableSeparate(t *testing.T) {
	o, err := parseOptions([]string{"-only", "rate,stall", "-rates", "1000", "-stall-rate", "1000", "-local=false"})
	if err != nil {
		t.Fatal(err)
	}
	var ocs []*outcome
	for _, sc := range plan(o, "http://t/f", "") {
		for _, v := range sc.variants {
			achieved := 1000.0
			if sc.group == groupStall {
				achieved = 600
			}
			spec := sc.spec
			spec.Tool = v.tool
			ocs = append(ocs, &outcome{scenario: sc, variant: v, runs: []*measure.Result{{Spec: spec, AchievedRate: achieved}}})
		}
	}
	var buf bytes.Buffer
	writeTables(&buf, report{Machine: describeMachine()}, ocs, o)
	out := buf.String()
	for _, want := range []string{
		"| minimal | 1000 | fbrun | 1000 |",
		"### Recovering from a stall: open loop at 1000/s, the target stops answering for 300ms",
		"| fbrun | 600 |",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("tables lack %q:\n%s", want, out)
		}
	}
}
