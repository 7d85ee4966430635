package measure

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/faas-benchmarker/faas-benchmarker/engine"
	"github.com/faas-benchmarker/faas-benchmarker/functions/lab"
	httpprov "github.com/faas-benchmarker/faas-benchmarker/providers/http"
	"github.com/faas-benchmarker/faas-benchmarker/results"
)

// discardSink counts records and keeps only the due times of dropped
// requests, which the summary needs.
type discardSink struct {
	n       atomic.Int64
	mu      sync.Mutex
	dropped []int64
}

func (d *discardSink) Add(inv results.Invocation) error {
	d.n.Add(1)
	if inv.ErrorKind == engine.KindDropped {
		d.mu.Lock()
		d.dropped = append(d.dropped, inv.ScheduledNS)
		d.mu.Unlock()
	}
	return nil
}

func (d *discardSink) AddMetric(results.Metric) error { return nil }

// sqliteSink is the real results writer, plus what discardSink keeps.
type sqliteSink struct {
	discardSink
	w *results.Writer
}

func (s *sqliteSink) Add(inv results.Invocation) error {
	_ = s.discardSink.Add(inv)
	return s.w.Add(inv)
}

func (s *sqliteSink) AddMetric(m results.Metric) error { return s.w.AddMetric(m) }

// runFBRun attacks spec.URL with fbrun's engine and the http provider, as
// an experiment would: Invoke in a closed loop per worker, InvokeAtRate
// with a ConstantPacer for the open loop.
func runFBRun(ctx context.Context, spec Spec) (*run, error) {
	prov, err := httpprov.New(httpprov.Config{URLs: map[string]string{spec.Function: spec.URL}, HTTPTimeout: 30 * time.Second})
	if err != nil {
		return nil, fmt.Errorf("measure: fbrun provider: %w", err)
	}
	ds := &discardSink{}
	var sink engine.Sink = ds
	var closeSink func() error
	if spec.Sink == SinkSQLite {
		db, err := results.Open(ctx, filepath.Join(spec.DBDir, "bench.db"))
		if err != nil {
			return nil, fmt.Errorf("measure: %w", err)
		}
		defer db.Close()
		if err := db.CreateRun(ctx, results.Run{ID: "bench", Experiment: "bench", Platform: "http", StartedAt: time.Now()}); err != nil {
			return nil, fmt.Errorf("measure: %w", err)
		}
		ss := &sqliteSink{w: db.NewWriter(results.WriterConfig{})}
		sink, closeSink, ds = ss, ss.w.Close, &ss.discardSink
	}
	bm, err := engine.New(engine.Config{RunID: "bench", Invoker: prov, Sink: sink, Timeout: 30 * time.Second})
	if err != nil {
		return nil, fmt.Errorf("measure: %w", err)
	}
	req := lab.Request{}
	total := spec.Warmup + spec.Window
	out := &run{}
	var obs *observer
	switch spec.Mode {
	case ModeMax:
		startOff := bm.Elapsed()
		start := time.Now()
		obs = observe(ctx, spec.Warmup, spec.Window)
		var col collector
		var wg sync.WaitGroup
		for i := 0; i < spec.Concurrency; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				local := make([]sample, 0, 64) // small: the memory measurement counts it
				for ctx.Err() == nil && time.Since(start) < total {
					r := bm.Invoke(ctx, spec.Function, req)
					local = append(local, fbrunSample(r, 0, startOff))
				}
				col.add(local)
			}()
		}
		wg.Wait()
		out.samples = col.samples
	case ModeRate:
		obs = observe(ctx, spec.Warmup, spec.Window)
		rep := bm.InvokeAtRate(ctx, spec.Function, engine.ConstantPacer{Rate: spec.Rate}, total, req)
		if len(rep.Results) == 0 {
			break
		}
		began := time.Duration(rep.Results[0].Record.ScheduledNS) // due(0) = 0, results sorted by due time
		for _, r := range rep.Results {
			out.samples = append(out.samples, fbrunSample(r, began, began))
		}
		ds.mu.Lock()
		for _, due := range ds.dropped {
			if off := time.Duration(due) - began; off >= spec.Warmup && off < total {
				out.dropped++
			}
		}
		ds.mu.Unlock()
	}
	ws, err := obs.wait()
	if err != nil {
		return nil, fmt.Errorf("measure: %w", err)
	}
	out.window = ws
	if closeSink != nil {
		if err := closeSink(); err != nil {
			return nil, fmt.Errorf("measure: results writer: %w", err)
		}
	}
	if err := bm.SinkErr(); err != nil {
		return nil, fmt.Errorf("measure: sink: %w", err)
	}
	out.sinkRecords = ds.n.Load()
	return out, nil
}

// fbrunSample converts an engine result; offsets are made relative to the
// attack start (began for the schedule, startOff for send times).
func fbrunSample(r *engine.Result, began, startOff time.Duration) sample {
	rec := r.Record
	s := sample{scheduled: -1, sent: time.Duration(rec.SentNS) - startOff, latency: time.Duration(rec.LatencyNS), server: -1, ok: r.OK()}
	if !s.ok {
		s.errKind = rec.ErrorKind
	}
	if rec.ScheduledNS >= 0 {
		s.scheduled = time.Duration(rec.ScheduledNS) - began
	}
	if rec.FnStartNS > 0 && rec.FnEndNS >= rec.FnStartNS {
		s.server = time.Duration(rec.FnEndNS - rec.FnStartNS)
	}
	return s
}
