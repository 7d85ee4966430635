package engine

import (
	"cmp"
	"context"
	"slices"
	"sync"
	"time"

	"github.com/faas-benchmarker/faas-benchmarker/functions/lab"
	"github.com/faas-benchmarker/faas-benchmarker/results"
)

// KindDropped marks a request that was due but not sent because MaxInFlight
// requests were already outstanding. Dropped requests are stored as records
// so the offered schedule stays visible.
const KindDropped = "dropped"

// RateReport summarises an open-loop attack.
type RateReport struct {
	Pacer    string
	Duration time.Duration
	// Scheduled is the number of requests that were due.
	Scheduled int
	// Sent is the number actually sent; Dropped = Scheduled - Sent.
	Sent, Dropped int
	// Late counts requests sent more than LateThreshold after their due time.
	Late int
	// LateThreshold is the lateness counted as late (1 ms).
	LateThreshold time.Duration
	// Results of the sent requests, in due order.
	Results []*Result
}

// lateThreshold is the send lateness above which a request counts as late.
const lateThreshold = time.Millisecond

// InvokeAtRate sends requests to fn open-loop for duration: request k is sent
// when the pacer says it is due, whether or not earlier requests returned,
// so slow responses cannot slow the arrival rate (no coordinated omission).
// Each record stores the due time (ScheduledNS) and the actual send time
// (SentNS). It returns when every sent request has finished.
//
// A due request is handed to an idle sender goroutine, or to a new one when
// all are busy (up to MaxInFlight, beyond which it is dropped), so senders
// are reused rather than started per request. The last stretch of each wait
// is slept on a timerfd on Linux (see waiter), because a Go timer alone can
// wake up to a millisecond late.
func (b *Benchmarker) InvokeAtRate(ctx context.Context, fn string, p Pacer, duration time.Duration, req lab.Request) *RateReport {
	payload := marshalRequest(&req)
	s := b.shared
	rep := &RateReport{Pacer: p.String(), Duration: duration, LateThreshold: lateThreshold}
	sem := make(chan struct{}, s.cfg.MaxInFlight)
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		out  []*Result
		work = make(chan time.Duration) // due offsets, handed to idle senders
	)
	send := func(due time.Duration) {
		r := b.invoke(ctx, fn, payload, due)
		<-sem
		mu.Lock()
		out = append(out, r)
		mu.Unlock()
	}
	sender := func(due time.Duration) {
		defer wg.Done()
		send(due)
		for due := range work {
			send(due)
		}
	}
	began := time.Since(s.start) // attack start as a run offset
	var w waiter
	defer w.stop()
	for k := uint64(0); ; k++ {
		at, ok := p.Due(k)
		if !ok || at >= duration {
			break
		}
		due := began + at
		if !w.waitUntil(ctx, s.start, due) {
			break
		}
		rep.Scheduled++
		select {
		case sem <- struct{}{}:
		default:
			b.recordDropped(fn, due)
			rep.Dropped++
			continue
		}
		rep.Sent++
		select {
		case work <- due: // an idle sender took it
		default:
			wg.Add(1)
			go sender(due)
		}
	}
	close(work)
	wg.Wait()
	for _, r := range out {
		if time.Duration(r.Record.SentNS-r.Record.ScheduledNS) > lateThreshold {
			rep.Late++
		}
	}
	sortResultsBySchedule(out)
	rep.Results = out
	tags := map[string]string{"pacer": rep.Pacer}
	b.Record("scheduled", float64(rep.Scheduled), tags)
	b.Record("dropped", float64(rep.Dropped), tags)
	b.Record("late", float64(rep.Late), tags)
	return rep
}

// Waits longer than coarseWait are slept on a Go timer until fineWait
// before the deadline, the rest on a fineTimer: the Go runtime parks an
// idle process in epoll_wait, whose timeout is in whole milliseconds, so a
// timer alone can fire up to 1 ms late.
const (
	coarseWait = 2 * time.Millisecond
	fineWait   = 1500 * time.Microsecond
)

// waiter sleeps until due times; it reuses its timers.
type waiter struct {
	t    *time.Timer
	fine *fineTimer
}

// waitUntil returns when the run offset due (from start) is reached, true,
// or when ctx is done, false.
func (w *waiter) waitUntil(ctx context.Context, start time.Time, due time.Duration) bool {
	for {
		if ctx.Err() != nil {
			return false
		}
		wait := due - time.Since(start)
		if wait <= 0 {
			return true
		}
		if wait <= coarseWait {
			if w.fine == nil {
				w.fine = newFineTimer()
			}
			w.fine.sleep(wait)
			continue
		}
		d := wait - fineWait
		if w.t == nil {
			w.t = time.NewTimer(d)
		} else {
			w.t.Reset(d)
		}
		select {
		case <-ctx.Done():
			w.t.Stop()
			return false
		case <-w.t.C:
		}
	}
}

func (w *waiter) stop() {
	if w.t != nil {
		w.t.Stop()
	}
	if w.fine != nil {
		w.fine.close()
	}
}

func (b *Benchmarker) recordDropped(fn string, due time.Duration) {
	s := b.shared
	rec := results.Invocation{
		RunID: s.cfg.RunID, Seq: s.seq.Add(1), Phase: b.phase, Function: fn,
		Status: results.InvError, ErrorKind: KindDropped,
		ErrorMessage: "not sent: the in-flight limit was reached",
		ScheduledNS:  int64(due), SentNS: int64(time.Since(s.start)),
	}
	b.store(&rec)
	s.cfg.Progress.Done(true)
}

func sortResultsBySchedule(rs []*Result) {
	slices.SortFunc(rs, func(a, b *Result) int { return cmp.Compare(a.Record.ScheduledNS, b.Record.ScheduledNS) })
}
