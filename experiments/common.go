package experiments

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
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
	err   error
	notes []string // estimates left without an interval, and why
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

// IntervalLevel is the confidence level of every estimate's interval.
const IntervalLevel = 0.95

// interval stores iv as key's bounds (stats.IntervalKeys) when it exists;
// otherwise it notes why key has none (n samples were too few for the
// method), for logNotes: an estimate without an interval never gets a
// made-up one.
func (e *estimates) interval(key string, iv stats.Interval, n int) {
	if !iv.OK {
		e.notes = append(e.notes, fmt.Sprintf("%s: no %.0f %% interval from %d samples (too few for its method, docs/experiments.md \"Intervals\")", key, IntervalLevel*100, n))
		return
	}
	lo, hi := stats.IntervalKeys(key)
	e.set(lo, iv.Low)
	if !math.IsInf(iv.High, 1) {
		e.set(hi, iv.High)
	}
}

// quantile stores the p-quantile of xs under key with its distribution-free
// order-statistic interval (stats.QuantileCI); nothing for no data.
func (e *estimates) quantile(key string, xs []float64, p float64) {
	if len(xs) == 0 {
		return
	}
	s := stats.Sorted(xs)
	e.set(key, stats.Percentile(s, p))
	e.interval(key, stats.QuantileCI(s, p, IntervalLevel), len(s))
}

// diffMedians stores median(a) − median(b) under key with the Price–Bonett
// interval of the difference (stats.DiffMedianCI); nothing when a sample
// is empty.
func (e *estimates) diffMedians(key string, a, b []float64) {
	if len(a) == 0 || len(b) == 0 {
		return
	}
	sa, sb := stats.Sorted(a), stats.Sorted(b)
	e.set(key, stats.Median(sa)-stats.Median(sb))
	e.interval(key, stats.DiffMedianCI(sa, sb, IntervalLevel), min(len(sa), len(sb)))
}

// ratioMedians stores median(a) / median(b) of positive samples under key
// with the Price–Bonett interval of the ratio (stats.RatioMedianCI).
func (e *estimates) ratioMedians(key string, a, b []float64) {
	if len(a) == 0 || len(b) == 0 {
		return
	}
	sa, sb := stats.Sorted(a), stats.Sorted(b)
	if mb := stats.Median(sb); mb != 0 {
		e.set(key, stats.Median(sa)/mb)
		e.interval(key, stats.RatioMedianCI(sa, sb, IntervalLevel), min(len(sa), len(sb)))
	}
}

// fraction stores k/n under key with its Clopper–Pearson interval (at
// least 95 % coverage for every true fraction, also next to 0 and 1, where
// Wilson's falls to 86 %: docs/experiments.md, "Intervals"); nothing for
// n == 0.
func (e *estimates) fraction(key string, k, n int) {
	if n == 0 {
		return
	}
	e.set(key, float64(k)/float64(n))
	e.interval(key, stats.ClopperPearson(k, n, IntervalLevel), n)
}

// logNotes logs why estimates have no interval (see interval).
func (e *estimates) logNotes(log *slog.Logger) {
	for _, n := range e.notes {
		log.Info("estimate without interval", "note", n)
	}
}

// result returns the estimates and err joined with every refusal.
func (e *estimates) result(err error) (Estimates, error) { return e.Estimates, errors.Join(err, e.err) }

// msOf converts a duration to milliseconds.
func msOf(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// latencyMS is the client-measured round trip of r in milliseconds.
func latencyMS(r *engine.Result) float64 { return msOf(r.Latency()) }

// connSetup is what opening r's connection cost r (DNS, TCP connect, TLS
// handshake: zero over a connection that was already open), as the engine
// measured it.
func connSetup(r *engine.Result) time.Duration {
	return time.Duration(r.Record.DNSNS + r.Record.ConnectNS + r.Record.TLSNS)
}

// serviceMS is r's round trip without its connection set-up, in ms: the
// latency r would have had over a connection already open. Cold and warm
// samples are compared by it, so that a cold burst that had to open fresh
// connections is not charged for their handshakes (the set-up is reported
// apart). The set-up was on r's critical path: the transport dialed the
// connection for r and r waited for it (engine connTiming).
func serviceMS(r *engine.Result) float64 { return msOf(r.Latency() - connSetup(r)) }

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
