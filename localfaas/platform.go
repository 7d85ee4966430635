// Package localfaas is the embedded local FaaS platform: a Lambda-compatible
// server on one machine that hosts functions as OS processes, one process
// per instance with concurrency 1 like a Lambda execution environment.
//
// It serves a subset of the AWS Lambda Invoke and configuration APIs (so the
// real aws-sdk-go-v2 client can drive it), the Lambda Runtime API to each
// instance, an OpenFaaS-style gateway route (POST /function/{name}) and
// GET /_local/events, the list of instance lifecycle events that is the
// ground truth experiments are checked against. Its behaviour (idle timeout,
// scaling limits, init delay ...) is set by Config; docs/local-platform.md
// explains every knob and how it compares with AWS Lambda.
package localfaas

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/faas-benchmarker/faas-benchmarker/internal/ports"
)

// Platform is a running local FaaS platform. Its methods are safe for
// concurrent use.
type Platform struct {
	cfg        Config
	log        *slog.Logger
	events     *eventLog
	httpClient *http.Client
	outputMu   sync.Mutex
	spawner    *spawner
	// reservePort gives an HTTP function its port (ports.Reserve; tests
	// replace it to make a port be taken).
	reservePort func() (*ports.Reservation, error)

	mu     sync.Mutex
	funcs  map[string]*function
	url    string
	srv    *http.Server
	closed bool

	ctx    context.Context // cancelled by Close
	cancel context.CancelFunc
	bg     sync.WaitGroup // reaper and asynchronous invocations

	rngMu sync.Mutex
	rng   *rand.Rand

	// sweepOrigin is the phase of idle sweeps (Config.IdleSweep).
	sweepOrigin time.Time
	// wake tells the reaper that an instance became idle with a deadline
	// before reapAt (unix ns of the reaper's next planned check), so it
	// recomputes the next deadline.
	wake   chan struct{}
	reapAt atomic.Int64
}

// New validates cfg and returns a platform with cfg.Functions deployed. No
// process runs and nothing listens until Start.
func New(cfg Config) (*Platform, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("localfaas: invalid config: %w", err)
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	ctx, cancel := context.WithCancel(context.Background())
	p := &Platform{
		cfg:    cfg,
		log:    logger,
		events: newEventLog(),
		funcs:  map[string]*function{},
		ctx:    ctx,
		cancel: cancel,
		rng:    rand.New(rand.NewPCG(cfg.Seed, 0x6c6f63616c666161)),
		wake:   make(chan struct{}, 1),

		reservePort: ports.Reserve,
		sweepOrigin: time.Now(),
		httpClient: &http.Client{Transport: &http.Transport{
			Proxy:               nil,
			MaxIdleConnsPerHost: 4,
			IdleConnTimeout:     90 * time.Second,
			DisableCompression:  true,
		}},
	}
	p.reapAt.Store(math.MaxInt64)
	for _, spec := range cfg.Functions {
		p.funcs[spec.Name] = newFunction(p, spec, functionMeta{codeKey: "config"})
	}
	return p, nil
}

// Start listens on Config.Addr and serves until Close. ctx bounds only the
// start-up itself.
func (p *Platform) Start(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return errors.New("localfaas: Start after Close")
	}
	if p.srv != nil {
		return errors.New("localfaas: already started")
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", p.cfg.Addr)
	if err != nil {
		return fmt.Errorf("localfaas: listen on %s: %w", p.cfg.Addr, err)
	}
	p.url = "http://" + ln.Addr().String()
	p.spawner = newSpawner()
	p.srv = &http.Server{Handler: p.handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := p.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			p.log.Error("localfaas: serve", "err", err)
		}
	}()
	p.bg.Add(1)
	go p.reaper()
	p.log.Info("localfaas: listening", "url", p.url)
	return nil
}

// URL returns the platform's base URL (http://127.0.0.1:port), or "" before
// Start. Point the Lambda SDK's BaseEndpoint at it.
func (p *Platform) URL() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.url
}

// Config returns the platform's configuration.
func (p *Platform) Config() Config { return p.cfg }

// Events returns a copy of every lifecycle event recorded so far, oldest
// first.
func (p *Platform) Events() []Event {
	ev, _ := p.events.since(0)
	return ev
}

// EventsSince returns the events with Seq > seq and a channel that is closed
// when the next event is recorded, so callers can wait for events without
// polling.
func (p *Platform) EventsSince(seq int64) ([]Event, <-chan struct{}) {
	return p.events.since(seq)
}

// InstanceCount returns how many instances function has (initialising,
// busy or idle) and how many of them are idle.
func (p *Platform) InstanceCount(function string) (total, idle int, err error) {
	f := p.function(function)
	if f == nil {
		return 0, 0, fmt.Errorf("localfaas: no function %q", function)
	}
	total, idle = f.counts()
	return total, idle, nil
}

// Functions returns the names of the deployed functions, sorted.
func (p *Platform) Functions() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	names := make([]string, 0, len(p.funcs))
	for n := range p.funcs {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Close kills every instance process, waits until all are reaped (or ctx
// ends), and stops serving. It is safe to call more than once.
func (p *Platform) Close(ctx context.Context) error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	funcs := make([]*function, 0, len(p.funcs))
	for _, f := range p.funcs {
		funcs = append(funcs, f)
	}
	srv := p.srv
	p.mu.Unlock()

	p.cancel()
	var all []*instance
	for _, f := range funcs {
		all = append(all, f.retire(ReasonShutdown, true, true)...)
	}
	var errs []error
	if err := waitDead(ctx, all); err != nil {
		errs = append(errs, fmt.Errorf("localfaas: waiting for instances to exit: %w", err))
	}
	if srv != nil {
		if err := srv.Shutdown(ctx); err != nil {
			_ = srv.Close()
			errs = append(errs, fmt.Errorf("localfaas: shutdown: %w", err))
		}
	}
	done := make(chan struct{})
	go func() { p.bg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		errs = append(errs, fmt.Errorf("localfaas: waiting for background work: %w", ctx.Err()))
	}
	p.httpClient.CloseIdleConnections()
	if p.spawner != nil {
		p.spawner.stop()
	}
	return errors.Join(errs...)
}

func waitDead(ctx context.Context, all []*instance) error {
	for _, in := range all {
		select {
		case <-in.dead:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

func (p *Platform) isClosed() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.closed
}

func (p *Platform) function(name string) *function {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.funcs[name]
}

// withDefaults fills a spec's zero memory size and timeout.
func (p *Platform) withDefaults(spec FunctionSpec) FunctionSpec {
	if spec.MemoryMB == 0 {
		spec.MemoryMB = p.cfg.DefaultMemoryMB
	}
	if spec.Timeout == 0 {
		spec.Timeout = p.cfg.DefaultTimeout
	}
	return spec
}

func (p *Platform) randFloat() float64 {
	p.rngMu.Lock()
	defer p.rngMu.Unlock()
	return p.rng.Float64()
}

func (p *Platform) newInstance(f *function, spec FunctionSpec) *instance {
	lifetime := p.cfg.MaxLifetime
	if j := p.cfg.MaxLifetimeJitter; j > 0 && lifetime > 0 {
		lifetime += time.Duration(p.randFloat() * float64(j))
	}
	own := 0.0
	if p.cfg.IdlePersistent {
		own = p.randFloat() // the instance's own idle jitter (Eviction.EvictAt)
	}
	now := time.Now()
	spec.Env = cloneMap(spec.Env)
	spec.Command = slices.Clone(spec.Command)
	return &instance{
		p:         p,
		fn:        f,
		spec:      spec,
		id:        randomHex(8),
		logStream: newLogStream(now),
		created:   now,
		lifetime:  lifetime,
		ownDraw:   own,
		work:      make(chan *invocation),
		ready:     make(chan struct{}),
		dead:      make(chan struct{}),
	}
}

func cloneMap(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// reaperFallback bounds how long the reaper sleeps without a deadline in
// sight; it only matters if a wake-up were ever missed.
const reaperFallback = time.Second

// wakeReaper tells the reaper to recompute its next deadline when due is
// earlier than its next planned check (so a busy platform does not wake it
// on every invocation).
func (p *Platform) wakeReaper(due time.Time) {
	if due.UnixNano() >= p.reapAt.Load() {
		return
	}
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// reaper evicts idle instances at their exact eviction or retirement time:
// it sleeps until the earliest deadline of any idle instance (or until an
// instance becomes idle), so eviction is late only by timer and scheduling
// latency, not by a polling interval.
func (p *Platform) reaper() {
	defer p.bg.Done()
	t := time.NewTimer(reaperFallback)
	defer t.Stop()
	for {
		p.mu.Lock()
		funcs := make([]*function, 0, len(p.funcs))
		for _, f := range p.funcs {
			funcs = append(funcs, f)
		}
		p.mu.Unlock()
		// Any release during the scan wakes the next sleep at once.
		p.reapAt.Store(math.MaxInt64)
		now := time.Now()
		wait := reaperFallback
		for _, f := range funcs {
			f.reap(now)
			if next, ok := f.nextDeadline(); ok {
				wait = min(wait, next.Sub(now))
			}
		}
		p.reapAt.Store(now.Add(max(wait, 0)).UnixNano())
		t.Reset(max(wait, 0))
		select {
		case <-p.ctx.Done():
			return
		case <-p.wake: // Reset above replaces the pending timer (Go 1.23 timers)
		case <-t.C:
		}
	}
}

// invoke runs inv on an instance of f, retrying when an idle instance turns
// out to have died.
func (p *Platform) invoke(ctx context.Context, f *function, inv *invocation) *result {
	for attempt := 0; ; attempt++ {
		in, apiErr := f.acquire(inv.id)
		if apiErr != nil {
			return &result{apiErr: apiErr}
		}
		res, retry := in.run(ctx, inv)
		if !retry {
			return res
		}
		if attempt >= 3 {
			return &result{apiErr: errService("instances keep dying before the invocation reaches them")}
		}
	}
}

// invokeAsync runs inv in the background like a Lambda Event invocation,
// retrying throttles for Config.AsyncRetryFor. It returns false once the
// platform is closing.
func (p *Platform) invokeAsync(f *function, inv *invocation) bool {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return false
	}
	p.bg.Add(1) // under p.mu, so never after Close started waiting
	p.mu.Unlock()
	go func() {
		defer p.bg.Done()
		deadline := time.Now().Add(p.cfg.AsyncRetryFor)
		backoff := 50 * time.Millisecond
		for {
			res := p.invoke(p.ctx, f, inv)
			if res.apiErr == nil || res.apiErr.status != http.StatusTooManyRequests || time.Now().After(deadline) {
				if res.apiErr != nil {
					p.log.Warn("localfaas: asynchronous invocation failed", "function", f.name,
						"request_id", inv.id, "err", res.apiErr.Message)
				}
				return
			}
			select {
			case <-p.ctx.Done():
				return
			case <-time.After(backoff):
			}
			backoff = min(2*backoff, 5*time.Second)
		}
	}()
	return true
}
