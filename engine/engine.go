// Package engine is the Benchmarker: the API experiments are written against.
// It invokes lab functions once, concurrently behind a barrier, or open-loop
// at a rate, times every invocation with the monotonic clock, and turns every
// invocation — successes, function errors, throttles, timeouts, transport
// errors, and the nested calls reported inside responses — into a stored
// record. Nothing is dropped.
package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/faas-benchmarker/faas-benchmarker/functions/lab"
	"github.com/faas-benchmarker/faas-benchmarker/providers"
	"github.com/faas-benchmarker/faas-benchmarker/results"
)

// Sink receives records as they are produced. *results.Writer implements it.
type Sink interface {
	Add(results.Invocation) error
	AddMetric(results.Metric) error
}

// Progress is told about the run's progress. Implementations must be safe
// for concurrent use. A nil Progress in Config means none.
type Progress interface {
	// Expect announces that about n more invocations are planned.
	Expect(n int64)
	// Done reports one finished client invocation.
	Done(failed bool)
	// Phase reports the phase now running.
	Phase(name string)
}

// TimedProgress is an optional capability of a Progress: it is told when
// the current stage is expected to end, for experiments whose time is spent
// waiting rather than invoking (idle gaps of hours on a cloud), where an
// ETA from invocation counts would mislead.
type TimedProgress interface {
	ExpectUntil(end time.Time)
}

// DefaultMaxInFlight is Config.MaxInFlight's default: the requests an open
// loop may have outstanding before due requests are dropped.
const DefaultMaxInFlight = 10000

// DefaultTimeout is Config.Timeout's default (fbrun's --timeout): how long
// the client waits for one invocation.
const DefaultTimeout = 5 * time.Minute

// DefaultTimeoutFor is the client timeout a run uses unless told otherwise
// on a deployment whose invocations may take up to limit (0: unknown):
// DefaultTimeout, or longer than limit by half a minute (for the round
// trip and a cold start), so that the client never gives up on an
// invocation the function may still finish.
func DefaultTimeoutFor(limit time.Duration) time.Duration {
	return max(DefaultTimeout, limit+30*time.Second)
}

// Config configures a Benchmarker.
type Config struct {
	// RunID labels every record.
	RunID string
	// Invoker invokes functions on the platform under test.
	Invoker providers.Invoker
	// Sink stores records.
	Sink Sink
	// Timeout bounds one client invocation (default 5 minutes, longer than
	// any platform's maximum function timeout would be pointless).
	Timeout time.Duration
	// MaxInFlight bounds concurrent requests of InvokeAtRate; a request due
	// while the bound is reached is recorded as dropped (default
	// DefaultMaxInFlight).
	MaxInFlight int
	// Logger receives debug logs (default: discard).
	Logger *slog.Logger
	// Progress is told about progress (optional).
	Progress Progress
	// Capabilities are what the platform declares it can do
	// (platforms.Platform.Capabilities); the Benchmarker offers exactly
	// these. Nil derives them from the invoker's methods
	// (providers.CapabilitiesOf), for an engine built on a bare invoker.
	Capabilities []providers.Capability
	// Pricing is how the platform prices invocations (price=auto).
	Pricing providers.Pricing
}

// Benchmarker runs invocations and records them. It is safe for concurrent
// use. Derived Benchmarkers (WithPhase) share the run's clock, sequence
// numbers and sink.
type Benchmarker struct {
	shared *shared
	phase  string
}

type shared struct {
	cfg     Config
	start   time.Time // carries the monotonic reading all offsets use
	seq     atomic.Int64
	sinkErr atomic.Pointer[error]
	strs    stringCache // strings repeated across responses (see decodeLabFast)
}

// New returns a Benchmarker whose clock starts now.
func New(cfg Config) (*Benchmarker, error) {
	if cfg.Invoker == nil {
		return nil, errors.New("engine: no invoker")
	}
	if cfg.Capabilities == nil {
		cfg.Capabilities = providers.CapabilitiesOf(cfg.Invoker)
	}
	for _, c := range cfg.Capabilities {
		if !providers.Implements(cfg.Invoker, c) {
			return nil, fmt.Errorf("engine: platform %s declares %s, which its invoker does not implement", cfg.Invoker.Platform(), c)
		}
	}
	if cfg.Sink == nil {
		return nil, errors.New("engine: no sink")
	}
	if cfg.RunID == "" {
		return nil, errors.New("engine: no run id")
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.MaxInFlight <= 0 {
		cfg.MaxInFlight = DefaultMaxInFlight
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Progress == nil {
		cfg.Progress = nopProgress{}
	}
	return &Benchmarker{shared: &shared{cfg: cfg, start: time.Now()}}, nil
}

type nopProgress struct{}

func (nopProgress) Expect(int64) {}
func (nopProgress) Done(bool)    {}
func (nopProgress) Phase(string) {}

// WithPhase returns a Benchmarker that labels its records with phase.
func (b *Benchmarker) WithPhase(phase string) *Benchmarker {
	b.shared.cfg.Progress.Phase(phase)
	return &Benchmarker{shared: b.shared, phase: phase}
}

// Phase returns the phase label of b.
func (b *Benchmarker) Phase() string { return b.phase }

// Platform returns the name of the platform under test.
func (b *Benchmarker) Platform() string { return b.shared.cfg.Invoker.Platform() }

// RunID returns the run id.
func (b *Benchmarker) RunID() string { return b.shared.cfg.RunID }

// Elapsed returns the monotonic time since the run started.
func (b *Benchmarker) Elapsed() time.Duration { return time.Since(b.shared.start) }

// Expect tells the progress display that about n more invocations are planned.
func (b *Benchmarker) Expect(n int64) { b.shared.cfg.Progress.Expect(n) }

// ExpectFor tells the progress display that the current stage should take
// about d, for a time-based ETA (see TimedProgress); displays without that
// capability ignore it.
func (b *Benchmarker) ExpectFor(d time.Duration) {
	if tp, ok := b.shared.cfg.Progress.(TimedProgress); ok {
		tp.ExpectUntil(time.Now().Add(d))
	}
}

// Logger returns the run's logger.
func (b *Benchmarker) Logger() *slog.Logger { return b.shared.cfg.Logger }

// SinkErr returns the first error the sink reported, if any. The engine
// keeps running when the sink fails, so experiments and the CLI check it.
func (b *Benchmarker) SinkErr() error {
	if p := b.shared.sinkErr.Load(); p != nil {
		return *p
	}
	return nil
}

func (b *Benchmarker) sinkFailed(err error) {
	if err != nil {
		first := err // a copy, so that err itself does not escape on every call
		b.shared.sinkErr.CompareAndSwap(nil, &first)
	}
}

// Record stores an experiment-specific metric, labelled with b's phase.
func (b *Benchmarker) Record(name string, value float64, tags map[string]string) {
	b.sinkFailed(b.shared.cfg.Sink.AddMetric(results.Metric{
		RunID: b.shared.cfg.RunID, Name: name, Value: value, Tags: tags, Phase: b.phase, AtNS: int64(b.Elapsed()),
	}))
}

// Sleep waits for d or until ctx is done; experiments never use time.Sleep,
// so Ctrl-C stops them at once.
func (b *Benchmarker) Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// ErrNotSupported is returned when the platform lacks a capability.
var ErrNotSupported = errors.New("not supported by this platform")

// Has reports whether the platform declares capability c.
func (b *Benchmarker) Has(c providers.Capability) bool {
	return providers.Has(b.shared.cfg.Capabilities, c)
}

// Pricing is how the platform prices invocations (price=auto).
func (b *Benchmarker) Pricing() providers.Pricing { return b.shared.cfg.Pricing }

// CanForceColdStart reports whether the platform can force cold starts.
func (b *Benchmarker) CanForceColdStart() bool { return b.Has(providers.ForceColdStart) }

// ForceColdStart makes the next invocation of fn cold the platform's own way
// (configuration update, scale to zero), or returns ErrNotSupported.
func (b *Benchmarker) ForceColdStart(ctx context.Context, fn string) error {
	cs, ok := b.shared.cfg.Invoker.(providers.ColdStarter)
	if !ok || !b.Has(providers.ForceColdStart) {
		return fmt.Errorf("force cold start on %s: %w", b.Platform(), ErrNotSupported)
	}
	return cs.ForceColdStart(ctx, fn)
}

// Architecture returns the instruction set fn runs on as the platform
// reports it (Lambda: arm64 or x86_64), or ErrNotSupported where the
// platform cannot tell.
func (b *Benchmarker) Architecture(ctx context.Context, fn string) (string, error) {
	ar, ok := b.shared.cfg.Invoker.(providers.ArchitectureReader)
	if !ok {
		return "", fmt.Errorf("architecture on %s: %w", b.Platform(), ErrNotSupported)
	}
	return ar.Architecture(ctx, fn)
}

// ConcurrencyLimits returns the account's limits on fn's concurrent
// executions as the platform reports them, or ErrNotSupported.
func (b *Benchmarker) ConcurrencyLimits(ctx context.Context, fn string) (providers.ConcurrencyLimits, error) {
	cl, ok := b.shared.cfg.Invoker.(providers.ConcurrencyLimiter)
	if !ok {
		return providers.ConcurrencyLimits{}, fmt.Errorf("concurrency limits on %s: %w", b.Platform(), ErrNotSupported)
	}
	return cl.ConcurrencyLimits(ctx, fn)
}

// Preconnect opens n connections to fn's endpoint without invoking fn where
// the platform can (providers.Preconnector), so that the next n concurrent
// invocations start together instead of one connection set-up apart;
// elsewhere it does nothing and returns false.
func (b *Benchmarker) Preconnect(ctx context.Context, fn string, n int) (bool, error) {
	pc, ok := b.shared.cfg.Invoker.(providers.Preconnector)
	if !ok {
		return false, nil
	}
	return true, pc.Preconnect(ctx, fn, n)
}

// CanSetMemory reports whether the platform can change a function's memory.
func (b *Benchmarker) CanSetMemory() bool { return b.Has(providers.SetMemory) }

// SetMemory sets fn's memory size (MB) and records the metric "memory_mb";
// it returns ErrNotSupported where the platform cannot. The update retires
// the function's instances, so the next invocation is cold.
func (b *Benchmarker) SetMemory(ctx context.Context, fn string, memoryMB int) error {
	ms, ok := b.shared.cfg.Invoker.(providers.MemorySetter)
	if !ok || !b.Has(providers.SetMemory) {
		return fmt.Errorf("set memory on %s: %w", b.Platform(), ErrNotSupported)
	}
	if err := ms.SetMemory(ctx, fn, memoryMB); err != nil {
		return err
	}
	b.Record("memory_mb", float64(memoryMB), map[string]string{"function": fn})
	return nil
}

// Result is the outcome of one client invocation.
type Result struct {
	// Record is the invocation as stored.
	Record results.Invocation
	// Response is the decoded lab response (nil when the body was not one).
	// It is read-only: Record.Cold points into it, and the sink may still
	// be writing the record.
	Response *lab.Response
	// Err is nil on success; a *providers.Error for platform failures, or
	// a *FunctionError when the function reported an error.
	Err error
}

// FunctionError is a failure the function itself reported.
type FunctionError struct {
	Kind    string // lab error kind, or the platform's function error type
	Message string
}

func (e *FunctionError) Error() string { return "function error: " + e.Kind + ": " + e.Message }

// OK reports whether the invocation succeeded.
func (r *Result) OK() bool { return r.Err == nil }

// Latency returns the client-measured round trip.
func (r *Result) Latency() time.Duration { return time.Duration(r.Record.LatencyNS) }

// Cold returns the in-function cold flag and whether it is known.
func (r *Result) Cold() (cold, known bool) {
	if r.Record.Cold == nil {
		return false, false
	}
	return *r.Record.Cold, true
}

// InstanceID returns the id of the instance that served the request ("" if unknown).
func (r *Result) InstanceID() string { return r.Record.InstanceID }

// PlatformInit returns the platform-reported init duration, if present.
func (r *Result) PlatformInit() (time.Duration, bool) {
	if r.Record.Report == nil || r.Record.Report.InitDurationMS == nil {
		return 0, false
	}
	return time.Duration(*r.Record.Report.InitDurationMS * float64(time.Millisecond)), true
}

// Invoke invokes fn once with req and records it.
func (b *Benchmarker) Invoke(ctx context.Context, fn string, req lab.Request) *Result {
	return b.invoke(ctx, fn, marshalRequest(&req), -1)
}

// emptyPayload is the encoding of the zero lab.Request, shared read-only
// by every invocation that sends it.
var emptyPayload = []byte("{}")

// marshalRequest encodes req; the zero request (the most common one) costs
// nothing.
func marshalRequest(req *lab.Request) []byte {
	if isZeroRequest(req) {
		return emptyPayload
	}
	return marshalNonZero(*req)
}

// marshalNonZero is json.Marshal of a copy of the request, so that only
// that copy escapes to the heap, not the caller's.
func marshalNonZero(req lab.Request) []byte {
	payload, err := json.Marshal(req)
	if err != nil { // lab.Request always marshals; keep the sample anyway
		return emptyPayload
	}
	return payload
}

// isZeroRequest reports whether every field of req is zero, without
// reflection; TestIsZeroRequestCoversEveryField keeps it complete.
func isZeroRequest(r *lab.Request) bool {
	return r.StatusCode == nil && r.Sleep == 0 && r.ThroughputTime == 0 && r.InvokeNested == nil &&
		r.NestedMode == "" && r.RunFunction == "" && r.Args == 0 && r.Seed == 0 &&
		r.Depth == 0 && r.Parent == "" && r.NestedBudget == 0
}

// InvokeSequentially invokes fn n times one after the other.
func (b *Benchmarker) InvokeSequentially(ctx context.Context, fn string, n int, req lab.Request) []*Result {
	out := make([]*Result, 0, n)
	for i := 0; i < n && ctx.Err() == nil; i++ {
		out = append(out, b.Invoke(ctx, fn, req))
	}
	return out
}

// InvokeConcurrently sends n requests to fn released together after a
// barrier: every goroutine is started and waiting before any request is
// sent. The spread of actual send times is recorded as the metric
// "send_spread_ms". Results are in goroutine order.
func (b *Benchmarker) InvokeConcurrently(ctx context.Context, fn string, n int, req lab.Request) []*Result {
	payload := marshalRequest(&req)
	out := make([]*Result, n)
	var ready, done sync.WaitGroup
	release := make(chan struct{})
	ready.Add(n)
	done.Add(n)
	for i := 0; i < n; i++ {
		go func(i int) {
			defer done.Done()
			ready.Done()
			<-release
			out[i] = b.invoke(ctx, fn, payload, -1)
		}(i)
	}
	ready.Wait()
	close(release)
	done.Wait()
	if n > 0 {
		lo, hi := out[0].Record.SentNS, out[0].Record.SentNS
		for _, r := range out {
			lo = min(lo, r.Record.SentNS)
			hi = max(hi, r.Record.SentNS)
		}
		b.Record("send_spread_ms", float64(hi-lo)/1e6, map[string]string{"n": fmt.Sprint(n)})
	}
	return out
}
