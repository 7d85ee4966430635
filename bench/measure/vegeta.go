package measure

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/faas-benchmarker/faas-benchmarker/bench/target"
)

// runVegeta attacks spec.URL with vegeta's Attacker at its defaults (as the
// vegeta CLI would, keep-alive on, whole bodies read), with the same JSON
// body fbrun sends.
func runVegeta(ctx context.Context, spec Spec) (*run, error) {
	body, _ := json.Marshal(struct{}{}) // what fbrun sends for lab.Request{}
	tr := vegeta.NewStaticTargeter(vegeta.Target{Method: http.MethodPost, URL: spec.URL, Body: body,
		Header: http.Header{"Content-Type": []string{"application/json"}}})
	opts := []func(*vegeta.Attacker){vegeta.Timeout(30 * time.Second)}
	var pacer vegeta.Pacer
	var interval time.Duration
	switch spec.Mode {
	case ModeMax:
		c := uint64(spec.Concurrency)
		opts = append(opts, vegeta.Workers(c), vegeta.MaxWorkers(c))
		pacer = vegeta.Rate{Freq: 0} // as fast as the workers go
	default:
		pacer = vegeta.ConstantPacer{Freq: int(spec.Rate), Per: time.Second}
		interval = time.Duration(int64(time.Second) / int64(spec.Rate))
	}
	atk := vegeta.NewAttacker(opts...)
	stop := context.AfterFunc(ctx, func() { atk.Stop() })
	defer stop()
	total := spec.Warmup + spec.Window
	// The attack's own start is taken inside Attack right after this; the
	// difference (well under a microsecond) makes vegeta look later, never
	// earlier.
	t0 := time.Now()
	obs := observe(ctx, spec.Warmup, spec.Window)
	out := &run{}
	bodies := map[int][]byte{}
	for res := range atk.Attack(tr, pacer, total, "bench") {
		s := sample{scheduled: -1, sent: res.Timestamp.Sub(t0), latency: res.Latency, server: -1,
			ok: res.Error == "" && res.Code == http.StatusOK}
		if !s.ok {
			s.errKind = res.Error
			if s.errKind == "" {
				s.errKind = "HTTP " + strconv.Itoa(int(res.Code))
			}
			if len(s.errKind) > 80 {
				s.errKind = s.errKind[:80]
			}
		}
		if spec.Mode == ModeRate {
			// vegeta's ConstantPacer sends hit k at (k+1) intervals; Seq
			// is the hit count at send time.
			s.scheduled = time.Duration(res.Seq+1) * interval
		}
		if v := res.Headers.Get(target.ServerTimeHeader); v != "" {
			if ns, err := strconv.ParseInt(v, 10, 64); err == nil {
				s.server = time.Duration(ns)
			}
		} else if len(res.Body) > 0 {
			bodies[len(out.samples)] = res.Body // decoded after the attack, off the clock
		}
		out.samples = append(out.samples, s)
	}
	ws, err := obs.wait()
	if err != nil {
		return nil, err
	}
	out.window = ws
	for i, b := range bodies {
		out.samples[i].server = serverTime(b)
	}
	return out, nil
}

// serverTime reads timing.end - timing.start from a lab response, -1 when
// absent.
func serverTime(body []byte) time.Duration {
	var r struct {
		Timing struct {
			Start int64 `json:"start"`
			End   int64 `json:"end"`
		} `json:"timing"`
	}
	if json.Unmarshal(body, &r) != nil || r.Timing.Start <= 0 || r.Timing.End < r.Timing.Start {
		return -1
	}
	return time.Duration(r.Timing.End - r.Timing.Start)
}
