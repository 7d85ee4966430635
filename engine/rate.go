package engine

import (
	"cmp"
	"context"
	"encoding/json"
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
func (b *Benchmarker) InvokeAtRate(ctx context.Context, fn string, p Pacer, duration time.Duration, req lab.Request) *RateReport {
	payload, _ := json.Marshal(req)
	s := b.shared
	rep := &RateReport{Pacer: p.String(), Duration: duration, LateThreshold: lateThreshold}
	sem := make(chan struct{}, s.cfg.MaxInFlight)
	var (
		wg  sync.WaitGroup
		mu  sync.Mutex
		out []*Result
	)
	began := time.Since(s.start) // attack start as a run offset
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for k := uint64(0); ; k++ {
		at, ok := p.Due(k)
		if !ok || at >= duration {
			break
		}
		if wait := at - (time.Since(s.start) - began); wait > 0 {
			timer.Reset(wait)
			select {
			case <-ctx.Done():
				timer.Stop()
			case <-timer.C:
			}
		}
		if ctx.Err() != nil {
			break
		}
		rep.Scheduled++
		due := began + at
		select {
		case sem <- struct{}{}:
		default:
			b.recordDropped(fn, due)
			rep.Dropped++
			continue
		}
		rep.Sent++
		wg.Add(1)
		go func(idx int) {
			defer wg.Done()
			defer func() { <-sem }()
			r := b.invoke(ctx, fn, payload, due)
			mu.Lock()
			out = append(out, r)
			mu.Unlock()
		}(int(k))
	}
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

func (b *Benchmarker) recordDropped(fn string, due time.Duration) {
	s := b.shared
	rec := results.Invocation{
		RunID: s.cfg.RunID, Seq: s.seq.Add(1), Phase: b.phase, Function: fn,
		Status: results.InvError, ErrorKind: KindDropped,
		ErrorMessage: "not sent: the in-flight limit was reached",
		ScheduledNS:  int64(due), SentNS: int64(time.Since(s.start)),
	}
	b.store(rec)
	s.cfg.Progress.Done(true)
}

func sortResultsBySchedule(rs []*Result) {
	slices.SortFunc(rs, func(a, b *Result) int { return cmp.Compare(a.Record.ScheduledNS, b.Record.ScheduledNS) })
}
