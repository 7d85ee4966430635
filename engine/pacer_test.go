package engine

import (
	"math"
	"testing"
	"time"
)

func TestConstantPacer(t *testing.T) {
	tests := []struct {
		rate float64
		k    uint64
		want time.Duration
		ok   bool
	}{
		{100, 0, 0, true},                     // first request at once
		{100, 1, 10 * time.Millisecond, true}, // evenly spaced
		{100, 250, 2500 * time.Millisecond, true},
		{0.5, 3, 6 * time.Second, true}, // slower than 1/s
		{0, 1, 0, false},                // no rate, no requests
	}
	for _, tc := range tests {
		got, ok := ConstantPacer{Rate: tc.rate}.Due(tc.k)
		if got != tc.want || ok != tc.ok {
			t.Errorf("rate %g k %d: Due = %v %v, want %v %v", tc.rate, tc.k, got, ok, tc.want, tc.ok)
		}
	}
}

func TestPace(t *testing.T) {
	p := ConstantPacer{Rate: 10}
	tests := []struct {
		elapsed time.Duration
		sent    uint64
		wait    time.Duration
	}{
		{0, 0, 0},                      // first is due now
		{0, 1, 100 * time.Millisecond}, // second in 100 ms
		{50 * time.Millisecond, 1, 50 * time.Millisecond}, // half way there
		{time.Second, 2, 0}, // behind schedule: send now
	}
	for _, tc := range tests {
		wait, stop := Pace(p, tc.elapsed, tc.sent)
		if wait != tc.wait || stop {
			t.Errorf("Pace(%v, %d) = %v %v, want %v", tc.elapsed, tc.sent, wait, stop, tc.wait)
		}
	}
	if _, stop := Pace(ConstantPacer{}, 0, 0); !stop {
		t.Error("zero-rate pacer did not stop")
	}
}

func TestLinearPacer(t *testing.T) {
	// rate(t) = 10 + 10 t: requests due by t are 10t + 5t²; at t=2 that is 40.
	p := LinearPacer{Start: 10, Slope: 10}
	at, ok := p.Due(40)
	if !ok || math.Abs(at.Seconds()-2) > 1e-9 {
		t.Fatalf("Due(40) = %v %v, want 2s", at, ok)
	}
	prev := time.Duration(-1)
	for k := uint64(0); k < 200; k++ {
		at, _ := p.Due(k)
		if at <= prev {
			t.Fatalf("Due not increasing at %d", k)
		}
		prev = at
	}
	// A falling ramp from 10/s with slope -5/s² reaches zero after 10
	// requests (the integral of the rate is at most 10).
	down := LinearPacer{Start: 10, Slope: -5}
	if _, ok := down.Due(10); !ok {
		t.Error("falling ramp ended too early")
	}
	if _, ok := down.Due(11); ok {
		t.Error("falling ramp went past zero rate")
	}
	if at, ok := (LinearPacer{Start: 4}).Due(2); !ok || at != 500*time.Millisecond {
		t.Errorf("flat ramp Due(2) = %v", at)
	}
}

func TestPoissonPacer(t *testing.T) {
	a, b := NewPoissonPacer(100, 7), NewPoissonPacer(100, 7)
	// Same seed, same schedule; asking out of order does not change it.
	x, _ := a.Due(500)
	for k := uint64(0); k <= 500; k++ {
		da, _ := a.Due(k)
		db, _ := b.Due(k)
		if da != db {
			t.Fatalf("schedules differ at %d", k)
		}
	}
	if y, _ := b.Due(500); x != y {
		t.Fatal("memoised value changed")
	}
	// 10,000 arrivals at 100/s take about 100 s (sd of the sum ~1 s).
	end, _ := a.Due(10000)
	if end < 95*time.Second || end > 105*time.Second {
		t.Errorf("10000 arrivals took %v, want about 100s", end)
	}
	if _, ok := NewPoissonPacer(0, 1).Due(0); ok {
		t.Error("zero-rate Poisson pacer is due")
	}
}
