package runner

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync"
	"syscall"
)

// Signals that stop a run. SIGHUP is what an orchestrator's SSH session
// dropping delivers: it is handled like Ctrl-C, never left to kill fbrun
// in the middle of a teardown.
var stopSignals = []os.Signal{os.Interrupt, syscall.SIGTERM, syscall.SIGHUP}

// signalWatch turns the process's stop signals into the cancellation of a
// run while it lives: the first signal cancels the run's context (the
// experiment stops, the teardown begins); every later one is acknowledged
// on screen and otherwise ignored, so nothing — a second Ctrl-C, a
// terminal closing — aborts a destroy half-way (the Pulumi CLI runs in its
// own process group and does not see the terminal's signals either).
type signalWatch struct {
	ch    chan os.Signal
	done  chan struct{}
	once  sync.Once
	mu    sync.Mutex
	phase string // what a signal now interrupts, for the message
}

// watchSignals starts a signalWatch for the named stack; stop ends it and
// restores the default signal handling.
func (r *Runner) watchSignals(ctx context.Context, stack string, w io.Writer) (context.Context, *signalWatch, func()) {
	ctx, cancel := context.WithCancelCause(ctx)
	sw := &signalWatch{ch: make(chan os.Signal, 8), done: make(chan struct{}), phase: "run"}
	signal.Notify(sw.ch, stopSignals...)
	go func() {
		first := true
		for {
			select {
			case <-sw.done:
				return
			case sig := <-sw.ch:
				sw.mu.Lock()
				phase := sw.phase
				sw.mu.Unlock()
				switch {
				case first && phase == "up":
					first = false
					fmt.Fprintf(w, "\n==> %v: interrupting the up of stack %s; the Pulumi CLI finishes the operations "+
						"it has in flight first (stopping it sooner would leave resources outside the state), "+
						"and further signals do not interrupt it\n", sig, stack)
					r.log.Warn("interrupted during up", "signal", sig.String(), "stack", stack)
					cancel(fmt.Errorf("runner: interrupted by %v", sig))
				case first && phase == "run":
					first = false
					fmt.Fprintf(w, "\n==> %v: stopping the experiment; stack %s will be torn down — this can take "+
						"minutes, and further signals do not interrupt it\n", sig, stack)
					r.log.Warn("interrupted", "signal", sig.String(), "stack", stack)
					cancel(fmt.Errorf("runner: interrupted by %v", sig))
				case phase == "up":
					fmt.Fprintf(w, "\n==> %v received: the Pulumi CLI is finishing the in-flight operations of "+
						"stack %s; wait for it\n", sig, stack)
					r.log.Warn("signal during interrupted up ignored", "signal", sig.String(), "stack", stack)
				default:
					first = false
					cancel(fmt.Errorf("runner: interrupted by %v", sig))
					fmt.Fprintf(w, "\n==> %v received: the teardown of stack %s goes on (stopping it now would leave "+
						"cloud resources that cost money); wait for it to finish\n", sig, stack)
					r.log.Warn("signal during teardown ignored", "signal", sig.String(), "stack", stack)
				}
			}
		}
	}()
	stop := func() {
		sw.once.Do(func() {
			signal.Stop(sw.ch)
			close(sw.done)
			cancel(nil)
		})
	}
	return ctx, sw, stop
}

// tearingDown tells the watch that a teardown has begun.
func (sw *signalWatch) tearingDown() { sw.setPhase("teardown") }

// setPhase says what a signal now interrupts: "up" (of a long-lived
// stack), "run" or "teardown".
func (sw *signalWatch) setPhase(phase string) {
	if sw == nil {
		return
	}
	sw.mu.Lock()
	sw.phase = phase
	sw.mu.Unlock()
}

// bestEffort is an io.Writer that writes to every writer and never fails:
// io.MultiWriter stops at the first failing writer, so a terminal that has
// gone away (EIO after a hang-up) would cut the per-run log file off and
// stall the Pulumi CLI's output pipe in the middle of a destroy.
type bestEffort []io.Writer

// Write implements io.Writer.
func (b bestEffort) Write(p []byte) (int, error) {
	for _, w := range b {
		_, _ = w.Write(p)
	}
	return len(p), nil
}
