package progress

import (
	"io"
	"testing"
	"time"
)

func TestProgressETA(t *testing.T) {
	p := New(io.Discard, false)
	now := p.start.Add(10 * time.Second)
	tests := []struct {
		name           string
		until          time.Time
		current, total int64
		want           string
	}{
		{"nothing done yet", time.Time{}, 0, 10, "ETA -"},
		{"extrapolated from counts", time.Time{}, 5, 10, "ETA ~10s"},
		{"all done", time.Time{}, 10, 10, "ETA -"},
		{"a waiting stage wins", now.Add(90 * time.Minute), 5, 10, "phase ends in ~1h30m0s"},
		{"a passed stage falls back", now.Add(-time.Minute), 5, 15, "ETA ~20s"},
	}
	for _, tc := range tests {
		p.until.Store(0)
		if !tc.until.IsZero() {
			p.ExpectUntil(tc.until)
		}
		if got := p.eta(now, tc.current, tc.total); got != tc.want {
			t.Errorf("%s: eta = %q, want %q", tc.name, got, tc.want)
		}
	}
}
