package report

import "testing"

func TestIdleShape(t *testing.T) {
	tests := []struct {
		name string
		est  map[string]float64
		want string
	}{
		{"sharp", map[string]float64{"idle_warm_s": 9.9, "idle_timeout_s": 10, "idle_timeout_s_low": 9.8, "idle_cold_s": 10.2}, "sharp: ~10.00 s"},
		{"spread", map[string]float64{"idle_warm_s": 5, "idle_timeout_s": 7.5, "idle_timeout_s_low": 7, "idle_cold_s": 10}, "spread: warm up to 5.00 s, cold after 10.00 s"},
		{"never cold", map[string]float64{"idle_timeout_s_low": 16}, "not evicted by the longest gap probed: more than 16.00 s"},
		{"not all cold", map[string]float64{"idle_warm_s": 2, "idle_timeout_s": 2.1, "idle_timeout_s_low": 2}, "spread: median 2.10 s, fewer than 95% cold by the longest gap probed"},
		{"no idle estimates", map[string]float64{"cold_p50_ms": 3}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := idleShape(tt.est); got != tt.want {
				t.Errorf("idleShape = %q, want %q", got, tt.want)
			}
		})
	}
}
