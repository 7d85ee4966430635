package engine

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"time"
)

// Pacer decides when each request of an open-loop attack is due. A pacer is
// a pure function of the request index: the engine asks for the due time of
// request k and sends it then, whether or not earlier requests have returned
// (no coordinated omission). Pacers are not safe for concurrent use unless
// stated; the engine calls them from one goroutine.
type Pacer interface {
	// Due returns when request k (0-based) is due, as an offset from the
	// start of the attack, and false when the pacer has no request k.
	Due(k uint64) (at time.Duration, ok bool)
	// String describes the pacer (e.g. "constant 100/s").
	String() string
}

// Pace is the vegeta-style view of a pacer: given the time elapsed since the
// start and the number of requests sent so far, how long to wait before the
// next one, and whether to stop.
func Pace(p Pacer, elapsed time.Duration, sent uint64) (wait time.Duration, stop bool) {
	at, ok := p.Due(sent)
	if !ok {
		return 0, true
	}
	if at <= elapsed {
		return 0, false
	}
	return at - elapsed, false
}

// ConstantPacer sends Rate requests per second, evenly spaced.
type ConstantPacer struct {
	Rate float64 // requests per second, > 0
}

var _ Pacer = ConstantPacer{}

// Due implements Pacer.
func (c ConstantPacer) Due(k uint64) (time.Duration, bool) {
	if c.Rate <= 0 {
		return 0, false
	}
	return time.Duration(float64(k) / c.Rate * float64(time.Second)), true
}

func (c ConstantPacer) String() string { return fmt.Sprintf("constant %g/s", c.Rate) }

// LinearPacer ramps the rate linearly: rate(t) = Start + Slope*t (requests
// per second, Slope in requests per second per second). Request k is due at
// the time the integral of the rate reaches k.
type LinearPacer struct {
	Start float64
	Slope float64
}

var _ Pacer = LinearPacer{}

// Due implements Pacer.
func (l LinearPacer) Due(k uint64) (time.Duration, bool) {
	n := float64(k)
	var t float64
	switch {
	case l.Slope == 0:
		if l.Start <= 0 {
			return 0, false
		}
		t = n / l.Start
	default:
		// Solve Slope/2 t^2 + Start t - n = 0 for the positive root.
		disc := l.Start*l.Start + 2*l.Slope*n
		if disc < 0 {
			return 0, false // a falling ramp that reached zero
		}
		t = (-l.Start + math.Sqrt(disc)) / l.Slope
		if t < 0 || math.IsNaN(t) {
			return 0, false
		}
	}
	return time.Duration(t * float64(time.Second)), true
}

func (l LinearPacer) String() string {
	return fmt.Sprintf("linear %g/s %+g/s²", l.Start, l.Slope)
}

// PoissonPacer sends requests as a Poisson process of the given Rate:
// exponentially distributed gaps drawn from a generator seeded with Seed, so
// the same seed gives the same schedule.
type PoissonPacer struct {
	Rate float64
	Seed uint64

	mu  sync.Mutex
	rng *rand.Rand
	due []time.Duration // due[k] once computed
	sum float64         // seconds
}

// NewPoissonPacer returns a Poisson pacer.
func NewPoissonPacer(rate float64, seed uint64) *PoissonPacer {
	return &PoissonPacer{Rate: rate, Seed: seed}
}

// Due implements Pacer. Results are memoised, so it is a pure function of k.
func (p *PoissonPacer) Due(k uint64) (time.Duration, bool) {
	if p.Rate <= 0 {
		return 0, false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.rng == nil {
		p.rng = rand.New(rand.NewPCG(p.Seed, p.Seed^0x9e3779b97f4a7c15))
	}
	for uint64(len(p.due)) <= k {
		p.due = append(p.due, time.Duration(p.sum*float64(time.Second)))
		p.sum += p.rng.ExpFloat64() / p.Rate
	}
	return p.due[k], true
}

func (p *PoissonPacer) String() string { return fmt.Sprintf("poisson %g/s seed %d", p.Rate, p.Seed) }
