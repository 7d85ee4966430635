package experiments

import (
	"context"
	"sync"
	"time"

	"github.com/faas-benchmarker/faas-benchmarker/engine"
	"github.com/faas-benchmarker/faas-benchmarker/functions/lab"
)

// engineEnv is the probeEnv of a real platform: bursts are invocations
// through the Benchmarker (so every request is stored), the clock is the
// run's monotonic clock.
type engineEnv struct {
	b       *engine.Benchmarker
	phase   func(phase string) *engine.Benchmarker
	results chan *burstResult
	wg      sync.WaitGroup
	ctx     context.Context
}

func newEngineEnv(ctx context.Context, b *engine.Benchmarker, phase func(phase string) *engine.Benchmarker) *engineEnv {
	return &engineEnv{b: b, phase: phase, results: make(chan *burstResult, 64), ctx: ctx}
}

// Now implements probeEnv.
func (e *engineEnv) Now() time.Duration { return e.b.Elapsed() }

// Send implements probeEnv: the requests are started together behind a
// barrier, each with its own handler sleep.
func (e *engineEnv) Send(lane int, fn, phase string, sleeps []time.Duration) {
	pb := e.phase(phase)
	e.wg.Go(func() {
		out := make([]probeAnswer, len(sleeps))
		var ready, done sync.WaitGroup
		release := make(chan struct{})
		for i, s := range sleeps {
			ready.Add(1)
			done.Go(func() {
				ready.Done()
				<-release
				out[i] = answerOf(pb.Invoke(e.ctx, fn, lab.Request{Sleep: s.Seconds()}))
			})
		}
		ready.Wait()
		close(release)
		done.Wait()
		e.results <- &burstResult{lane: lane, answers: out}
	})
}

// answerOf reduces an engine result to what the design reads.
func answerOf(r *engine.Result) probeAnswer {
	a := probeAnswer{ok: r.OK(), instance: r.InstanceID(), sent: time.Duration(r.Record.SentNS)}
	a.received = a.sent + r.Latency()
	a.cold, a.known = r.Cold()
	if r.Response != nil && r.Response.Timing.End > r.Response.Timing.Start {
		a.handler = time.Duration(r.Response.Timing.End - r.Response.Timing.Start)
	}
	if rep := r.Record.Report; rep != nil && rep.DurationMS > 0 {
		a.invoked = time.Duration(rep.DurationMS * float64(time.Millisecond))
		a.init, _ = r.PlatformInit()
	}
	return a
}

// Wait implements probeEnv.
func (e *engineEnv) Wait(ctx context.Context, until time.Duration) (*burstResult, error) {
	var timeout <-chan time.Time
	if until >= 0 {
		t := time.NewTimer(max(0, until-e.Now()))
		defer t.Stop()
		timeout = t.C
	}
	select {
	case r := <-e.results:
		return r, nil
	case <-timeout:
		return nil, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// close waits for the bursts still in flight (their records are stored
// before the run ends) and drops their answers.
func (e *engineEnv) close() {
	go func() {
		for range e.results {
		}
	}()
	e.wg.Wait()
	close(e.results)
}
