package experiments

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/faas-benchmarker/faas-benchmarker/engine"
	"github.com/faas-benchmarker/faas-benchmarker/providers"
	"github.com/faas-benchmarker/faas-benchmarker/stats"
)

// estimates builds an experiment's Estimates through Estimates.Set and
// keeps every refusal, which result joins into the run's error: a bad
// value fails the run instead of vanishing.
type estimates struct {
	Estimates
	err error
}

func newEstimates() *estimates { return &estimates{Estimates: Estimates{}} }

// set stores v under key through Set.
func (e *estimates) set(key string, v float64) { e.err = errors.Join(e.err, e.Set(key, v)) }

// stat stores a statistic of a sample that may be empty: NaN is what the
// helpers below return for no data, and leaves the estimate absent (each
// experiment documents when); any other value goes through Set.
func (e *estimates) stat(key string, v float64) {
	if !math.IsNaN(v) {
		e.set(key, v)
	}
}

// result returns the estimates and err joined with every refusal.
func (e *estimates) result(err error) (Estimates, error) { return e.Estimates, errors.Join(err, e.err) }

// msOf converts a duration to milliseconds.
func msOf(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// latencyMS is the client-measured round trip of r in milliseconds.
func latencyMS(r *engine.Result) float64 { return msOf(r.Latency()) }

// median returns the median of xs (NaN for none).
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	return stats.Median(stats.Sorted(xs))
}

// percentile returns the p-quantile of xs (NaN for none).
func percentile(xs []float64, p float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	return stats.Percentile(stats.Sorted(xs), p)
}

// coldSignals are the two independent cold-start signals of one sample:
// the lab function's own flag (first invocation of its process) and the
// platform's Init Duration (present on Lambda-style REPORTs only for an
// invocation that initialised a new environment).
type coldSignals struct {
	Flag, FlagKnown         bool
	Platform, PlatformKnown bool
	Init                    time.Duration
}

// signalsOf reads both signals from r. The platform signal is known when
// the platform sent a report at all (a report without Init Duration is a
// warm invocation); platforms without reports leave it unknown.
func signalsOf(r *engine.Result) coldSignals {
	var s coldSignals
	s.Flag, s.FlagKnown = r.Cold()
	if r.Record.Report != nil {
		s.PlatformKnown = true
		s.Init, s.Platform = r.PlatformInit()
	}
	return s
}

// coldTally counts cold signals over a set of successful samples.
type coldTally struct {
	N            int // successful samples
	FlagCold     int
	FlagKnown    int
	PlatformCold int
	PlatKnown    int
	Both         int // samples where both signals are known
	Agree        int // ... and agree
}

func (t *coldTally) add(r *engine.Result) {
	if !r.OK() {
		return
	}
	t.N++
	s := signalsOf(r)
	if s.FlagKnown {
		t.FlagKnown++
		if s.Flag {
			t.FlagCold++
		}
	}
	if s.PlatformKnown {
		t.PlatKnown++
		if s.Platform {
			t.PlatformCold++
		}
	}
	if s.FlagKnown && s.PlatformKnown {
		t.Both++
		if s.Flag == s.Platform {
			t.Agree++
		}
	}
}

func ratio(a, b int) float64 {
	if b == 0 {
		return math.NaN()
	}
	return float64(a) / float64(b)
}

// makeCold makes the next invocation of fn cold: the platform's own way
// when it can (configuration update, scale to zero), otherwise by waiting
// idleWait, which must then exceed the platform's idle timeout.
func makeCold(ctx context.Context, b *engine.Benchmarker, fn string, idleWait time.Duration) error {
	if b.CanForceColdStart() {
		if err := b.ForceColdStart(ctx, fn); err != nil {
			return fmt.Errorf("forcing a cold start of %s: %w", fn, err)
		}
		return nil
	}
	if idleWait <= 0 {
		return fmt.Errorf("%s cannot force cold starts: set idle_wait to a time past its idle timeout", b.Platform())
	}
	return b.Sleep(ctx, idleWait)
}

// isThrottled reports whether r was refused for concurrency or rate.
func isThrottled(r *engine.Result) bool { return providers.KindOf(r.Err) == providers.KindThrottled }

// distinctInstances counts the distinct instance ids of successful results.
func distinctInstances(rs []*engine.Result) int {
	seen := map[string]bool{}
	for _, r := range rs {
		if r.OK() && r.InstanceID() != "" {
			seen[r.InstanceID()] = true
		}
	}
	return len(seen)
}

// fmtFloat formats a tag value compactly (e.g. gap seconds).
func fmtFloat(v float64) string { return fmt.Sprintf("%g", math.Round(v*1000)/1000) }

// oneLine joins parameter errors into one line: "a; b" (Resolve names the
// experiment).
func oneLine(errs []error) error {
	msgs := make([]string, len(errs))
	for i, e := range errs {
		msgs[i] = e.Error()
	}
	return errors.New(strings.Join(msgs, "; "))
}
