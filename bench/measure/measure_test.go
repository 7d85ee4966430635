package measure

import (
	"context"
	"math"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/faas-benchmarker/faas-benchmarker/bench/target"
	"github.com/faas-benchmarker/faas-benchmarker/results"
)

func TestSpecValidate(t *testing.T) {
	ok := Spec{Tool: ToolFBRun, Mode: ModeMax, URL: "http://127.0.0.1:1/f", Concurrency: 1, Window: time.Second}
	tests := []struct {
		name   string
		edit   func(*Spec)
		wantOK bool
	}{
		{"valid", func(*Spec) {}, true},
		{"unknown tool", func(s *Spec) { s.Tool = "wrk" }, false},
		{"no concurrency", func(s *Spec) { s.Concurrency = 0 }, false},
		{"rate mode", func(s *Spec) { s.Mode, s.Rate = ModeRate, 1000 }, true},
		{"fractional rate", func(s *Spec) { s.Mode, s.Rate = ModeRate, 10.5 }, false},
		{"no url", func(s *Spec) { s.URL = "" }, false},
		{"no window", func(s *Spec) { s.Window = 0 }, false},
		{"sqlite without dir", func(s *Spec) { s.Sink = SinkSQLite }, false},
		{"sqlite for vegeta", func(s *Spec) { s.Tool, s.Sink, s.DBDir = ToolVegeta, SinkSQLite, "/tmp" }, false},
		{"unknown mode", func(s *Spec) { s.Mode = "burst" }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := ok
			tt.edit(&s)
			if err := s.Validate(); (err == nil) != tt.wantOK {
				t.Errorf("Validate() = %v, want ok=%v", err, tt.wantOK)
			}
		})
	}
}

func TestSummarizeOpenLoop(t *testing.T) {
	ms := time.Millisecond
	spec := Spec{Mode: ModeRate, Rate: 1000, Warmup: 10 * ms, Window: 4 * ms}
	r := &run{
		dropped: 1,
		samples: []sample{
			{scheduled: 5 * ms, sent: 5 * ms, latency: ms, server: 0, ok: true}, // warm-up: ignored
			{scheduled: 10 * ms, sent: 10*ms + 100*time.Microsecond, latency: 2 * ms, server: ms, ok: true},
			{scheduled: 11 * ms, sent: 11*ms + 300*time.Microsecond, latency: 2 * ms, server: ms, ok: true},
			{scheduled: 12 * ms, sent: 14 * ms, latency: 3 * ms, server: -1, ok: false, errKind: "timeout"}, // due in window, sent after it
			{scheduled: 14 * ms, sent: 14 * ms, latency: ms, server: 0, ok: true},                           // after the window
		},
		window: windowStats{user: 30 * ms, sys: 10 * ms, heap: []float64{1, 3, 2}, stack: []float64{4}, goroutine: []float64{7, 9}},
	}
	res := summarize(spec, r)
	if res.Requests != 3 || res.Errors != 1 || res.ErrorKinds["timeout"] != 1 {
		t.Fatalf("requests %d errors %d kinds %v, want 3, 1, timeout:1", res.Requests, res.Errors, res.ErrorKinds)
	}
	if res.Scheduled != 4 || res.Dropped != 1 || res.Late != 1 {
		t.Errorf("scheduled %d dropped %d late %d, want 4 1 1", res.Scheduled, res.Dropped, res.Late)
	}
	if res.LatenessP50US != 300 || res.LatenessMaxUS != 2000 {
		t.Errorf("lateness p50 %v max %v, want 300 and 2000", res.LatenessP50US, res.LatenessMaxUS)
	}
	if res.OverheadN != 2 || res.OverheadP50US != 1000 {
		t.Errorf("overhead n %d p50 %v, want 2 and 1000", res.OverheadN, res.OverheadP50US)
	}
	// 3 sends from 10.1 ms to 14 ms.
	if want := 2 / (3.9e-3); math.Abs(res.AchievedRate-want) > 1e-6 {
		t.Errorf("achieved rate %v, want %v", res.AchievedRate, want)
	}
	if res.Throughput != 750 {
		t.Errorf("throughput %v, want 750", res.Throughput)
	}
	// 2 + 2 + 3 ms of latency over a 4 ms window.
	if res.InFlight != 7.0/4 {
		t.Errorf("in flight %v, want 1.75", res.InFlight)
	}
	if res.CPUMSPer1000 != 40.0/3*1000 {
		t.Errorf("cpu per 1000 = %v", res.CPUMSPer1000)
	}
	if res.LiveHeapBytes != 2 || res.StackBytes != 4 || res.Goroutines != 8 {
		t.Errorf("memory medians %v %v %v", res.LiveHeapBytes, res.StackBytes, res.Goroutines)
	}
}

func TestSummarizeClosedLoopUsesSendTimes(t *testing.T) {
	spec := Spec{Mode: ModeMax, Concurrency: 1, Warmup: time.Second, Window: time.Second}
	r := &run{samples: []sample{
		{scheduled: -1, sent: 500 * time.Millisecond, latency: 1, server: -1, ok: true},
		{scheduled: -1, sent: 1500 * time.Millisecond, latency: 1, server: -1, ok: true},
	}}
	res := summarize(spec, r)
	if res.Requests != 1 || res.Late != 0 || res.Scheduled != 0 || res.OverheadN != 0 {
		t.Errorf("got %+v", res)
	}
}

// TestRunBothTools attacks an in-process target with both tools in every
// mode and checks that every request is accounted for (no timing claims).
func TestRunBothTools(t *testing.T) {
	if testing.Short() {
		t.Skip("attacks a server for a few seconds")
	}
	srv := httptest.NewServer(target.New(target.Config{}))
	defer srv.Close()
	base := Spec{URL: srv.URL + "/function1", Warmup: 100 * time.Millisecond, Window: time.Second} // long enough to outlast a stall of a loaded machine
	tests := []struct {
		name string
		edit func(*Spec)
	}{
		{"fbrun max", func(s *Spec) { s.Tool, s.Mode, s.Concurrency = ToolFBRun, ModeMax, 2 }},
		{"vegeta max", func(s *Spec) { s.Tool, s.Mode, s.Concurrency = ToolVegeta, ModeMax, 2 }},
		{"fbrun rate", func(s *Spec) { s.Tool, s.Mode, s.Rate = ToolFBRun, ModeRate, 200 }},
		{"vegeta rate", func(s *Spec) { s.Tool, s.Mode, s.Rate = ToolVegeta, ModeRate, 200 }},
		{"fbrun sqlite", func(s *Spec) {
			s.Tool, s.Mode, s.Concurrency, s.Sink, s.DBDir = ToolFBRun, ModeMax, 2, SinkSQLite, t.TempDir()
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := base
			tt.edit(&s)
			res, err := Run(context.Background(), s)
			if err != nil {
				t.Fatal(err)
			}
			if res.Requests == 0 || res.Errors != 0 {
				t.Fatalf("requests %d errors %d (%v)", res.Requests, res.Errors, res.ErrorKinds)
			}
			if res.OverheadN != res.Requests {
				t.Errorf("server time known for %d of %d requests", res.OverheadN, res.Requests)
			}
			if s.Mode == ModeRate && (res.Scheduled != res.Requests+res.Dropped || res.AchievedRate <= 0) {
				t.Errorf("open loop accounting: %+v", res)
			}
			if s.Tool == ToolFBRun && res.SinkRecords < int64(res.Requests) {
				t.Errorf("sink got %d records for %d requests", res.SinkRecords, res.Requests)
			}
			if s.Sink == SinkSQLite {
				db, err := results.Open(context.Background(), s.DBDir+"/bench.db")
				if err != nil {
					t.Fatal(err)
				}
				defer db.Close()
				invs, err := db.Invocations(context.Background(), "bench")
				if err != nil {
					t.Fatal(err)
				}
				if int64(len(invs)) != res.SinkRecords {
					t.Errorf("database holds %d invocations, sink received %d", len(invs), res.SinkRecords)
				}
			}
		})
	}
}

func TestServerTime(t *testing.T) {
	tests := []struct {
		body string
		want time.Duration
	}{
		{`{"timing":{"start":100,"end":350}}`, 250},
		{`{"timing":{"start":0,"end":350}}`, -1},
		{`{"timing":{"start":400,"end":350}}`, -1},
		{`not json`, -1},
	}
	for _, tt := range tests {
		if got := serverTime([]byte(tt.body)); got != tt.want {
			t.Errorf("serverTime(%s) = %v, want %v", tt.body, got, tt.want)
		}
	}
}
