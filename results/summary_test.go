package results

import (
	"encoding/json"
	"reflect"
	"testing"
)

func TestParseSummary(t *testing.T) {
	for _, tc := range []struct {
		name, raw string
		want      Summary
		wantErr   bool
	}{
		{name: "running run", raw: "", want: Summary{Estimates: map[string]float64{}}},
		{name: "no estimates", raw: `{"run_id":"r","status":"failed","error":"boom"}`,
			want: Summary{RunID: "r", Status: "failed", Error: "boom", Estimates: map[string]float64{}}},
		{name: "estimates with an interval", raw: `{"run_id":"r","experiment":"cold-start","platform":"local","status":"ok","params":{"samples":"5"},"estimates":{"x":2,"x_low":1,"x_high":3}}`,
			want: Summary{RunID: "r", Experiment: "cold-start", Platform: "local", Status: "ok", Params: map[string]string{"samples": "5"},
				Estimates: map[string]float64{"x": 2, "x_low": 1, "x_high": 3}}},
		{name: "not JSON", raw: `{"run_id":`, wantErr: true},
		{name: "an estimate that is not a number", raw: `{"estimates":{"precise":true}}`, wantErr: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseSummary(json.RawMessage(tc.raw))
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, want error %v", err, tc.wantErr)
			}
			if !tc.wantErr && !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}
