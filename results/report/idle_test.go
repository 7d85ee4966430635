package report

import (
	"testing"

	"github.com/faas-benchmarker/faas-benchmarker/experiments"
	"github.com/faas-benchmarker/faas-benchmarker/results"
)

func TestIdleShape(t *testing.T) {
	tests := []struct {
		name string
		est  map[string]float64
		want string
	}{
		{"sharp", map[string]float64{"idle_warm_s": 9.9, "idle_timeout_s": 10, "idle_timeout_s_low": 9.8, "idle_cold_s": 10.2}, "sharp: ~10.00 s"},
		{"spread", map[string]float64{"idle_warm_s": 5, "idle_timeout_s": 7.5, "idle_timeout_s_low": 7, "idle_cold_s": 10}, "spread: warm up to 5.00 s, cold after 10.00 s"},
		{"never cold", map[string]float64{"idle_timeout_s_low": 16}, "not evicted by the longest gap probed: more than 16.00 s"},
		{"not all cold", map[string]float64{"idle_warm_s": 2, "idle_timeout_s": 2.1, "idle_timeout_s_low": 2}, "spread: median 2.10 s; 5 % / 95 % points not bounded on both sides by the data"},
		{"median not pinned down", map[string]float64{"idle_timeout_s_low": 2, "idle_timeout_s_high": 4}, "median somewhere in 2.00–4.00 s (not pinned down)"},
		{"upper bound only", map[string]float64{"idle_timeout_s_high": 3}, "median at most 3.00 s (not bounded below by the data)"},
		{"no idle estimates", map[string]float64{"cold_p50_ms": 3}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := survivalShape(idleFigure(t).Marks, tt.est); got != tt.want {
				t.Errorf("survivalShape = %q, want %q", got, tt.want)
			}
		})
	}
}

// idleFigure is idle-timeout's declared survival figure.
func idleFigure(t *testing.T) experiments.Figure {
	t.Helper()
	for _, s := range (experiments.IdleTimeout{}).ReportSections() {
		for _, f := range s.Figures {
			if f.Kind == experiments.FigureSurvival {
				return f
			}
		}
	}
	t.Fatal("idle-timeout declares no survival figure")
	return experiments.Figure{}
}

// TestIdleObservationsFirstOnly: the report fits the observations the
// estimates were computed from — first idle periods (and untagged ones of
// older runs) at their platform idle time — not a survivor's later
// periods.
func TestIdleObservationsFirstOnly(t *testing.T) {
	d := &RunData{Estimates: map[string]float64{}, Metrics: []results.Metric{
		{Name: "idle_probe", Value: 1, Tags: map[string]string{"gap_s": "1.9", "idle_s": "2", "first": "1"}},
		{Name: "idle_probe", Value: 0, Tags: map[string]string{"gap_s": "2.9", "idle_s": "3", "first": "0"}},
		{Name: "idle_probe", Value: 0, Tags: map[string]string{"gap_s": "0.9", "idle_s": "1"}},
	}}
	obs := survivalObservations(d, idleFigure(t))
	if len(obs) != 2 || obs[0].Gap != 2 || obs[1].Gap != 1 {
		t.Errorf("observations %+v, want the gaps 2 (first) and 1 (untagged)", obs)
	}
}

func TestIntervalCompare(t *testing.T) {
	runs := []*RunData{
		{Run: results.Run{ID: "a", Experiment: experiments.IdleTimeout{}.Name(), Platform: "local"}, Estimates: map[string]float64{
			"idle_warm_s": 9.9, "idle_warm_s_low": 0, "idle_warm_s_high": 10, "idle_timeout_s": 10, "idle_timeout_s_low": 9.8, "idle_timeout_s_high": 10.2,
			"idle_cold_s": 10.1, "idle_cold_s_low": 10}},
		{Run: results.Run{ID: "b", Experiment: experiments.IdleTimeout{}.Name(), Platform: "aws"}, Estimates: map[string]float64{
			"idle_warm_s": 300, "idle_warm_s_low": 250, "idle_warm_s_high": 320, "idle_timeout_s": 420, "idle_timeout_s_low": 400, "idle_timeout_s_high": 450,
			"idle_cold_s": 600, "idle_cold_s_low": 560, "idle_cold_s_high": 700}},
	}
	b := &builder{prefix: "t"}
	var sec Section
	intervalCompare(b, &sec, experiments.IdleTimeout{}.Name(), runs)
	if b.err != nil || len(sec.Figures) != 1 || len(sec.Tables) != 1 {
		t.Fatalf("err %v, %d figures, %d tables", b.err, len(sec.Figures), len(sec.Tables))
	}
	rows := sec.Tables[0].Rows
	if len(rows) != 2 || rows[0][4] != "sharp: ~10.00 s" || rows[1][4] != "spread: warm up to 300.0 s, cold after 600.0 s" || rows[0][3] != "10.10 s [10.00, +Inf]" {
		t.Errorf("rows %q", rows)
	}
	var none Section
	intervalCompare(b, &none, experiments.Load{}.Name(), runs)
	if len(none.Figures)+len(none.Tables) != 0 {
		t.Error("interval compare for an experiment without interval estimates")
	}
}
