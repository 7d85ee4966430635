package stats

import (
	"math"
	"testing"
)

func TestFormat(t *testing.T) {
	for _, tc := range []struct {
		v    float64
		want string
	}{
		{math.NaN(), "–"}, {math.Inf(1), "+Inf"}, {math.Inf(-1), "-Inf"}, {0, "0"},
		{12345.6, "12346"}, {-1000, "-1000"}, {123.456, "123.5"}, {1.2345, "1.23"}, {-2, "-2.00"},
		{0.012345, "0.0123"}, {0.5, "0.5"},
	} {
		if got := Format(tc.v); got != tc.want {
			t.Errorf("Format(%v) = %q, want %q", tc.v, got, tc.want)
		}
	}
}
