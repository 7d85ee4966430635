package results

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
)

// WriterConfig tunes a Writer.
type WriterConfig struct {
	// BatchSize is the number of rows written per transaction (default 2000).
	BatchSize int
	// FlushInterval bounds how long a row waits before it is written
	// (default 200 ms), so an interrupted run loses at most that much.
	FlushInterval time.Duration
	// Buffer is the channel capacity (default 65536 rows).
	Buffer int
}

// Writer streams invocations and metrics into the database from a background
// goroutine in batched transactions. Add and AddMetric are safe for
// concurrent use and never block on disk unless the buffer is full. Close
// must be called to flush.
type Writer struct {
	db     *DB
	cfg    WriterConfig
	ch     chan row
	done   chan struct{}
	mu     sync.Mutex
	closed bool
	err    error
	rows   int64
}

type row struct {
	inv    *Invocation
	metric *Metric
}

// NewWriter starts a writer on d.
func (d *DB) NewWriter(cfg WriterConfig) *Writer {
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = 2000
	}
	if cfg.FlushInterval <= 0 {
		cfg.FlushInterval = 200 * time.Millisecond
	}
	if cfg.Buffer <= 0 {
		cfg.Buffer = 65536
	}
	w := &Writer{db: d, cfg: cfg, ch: make(chan row, cfg.Buffer), done: make(chan struct{})}
	go w.loop()
	return w
}

// Add queues an invocation. It returns an error only after the writer was
// closed or a previous write failed.
func (w *Writer) Add(inv Invocation) error { return w.put(row{inv: &inv}) }

// AddMetric queues a metric.
func (w *Writer) AddMetric(m Metric) error { return w.put(row{metric: &m}) }

func (w *Writer) put(r row) error {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return errors.New("results: writer closed")
	}
	if w.err != nil {
		err := w.err
		w.mu.Unlock()
		return err
	}
	w.mu.Unlock()
	w.ch <- r
	return nil
}

// Close flushes every queued row and stops the writer. It returns the first
// write error, if any. Close is idempotent.
func (w *Writer) Close() error {
	w.mu.Lock()
	if !w.closed {
		w.closed = true
		close(w.ch)
	}
	w.mu.Unlock()
	<-w.done
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

// Rows returns the number of rows written so far.
func (w *Writer) Rows() int64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.rows
}

func (w *Writer) loop() {
	defer close(w.done)
	batch := make([]row, 0, w.cfg.BatchSize)
	t := time.NewTimer(w.cfg.FlushInterval)
	defer t.Stop()
	flush := func() {
		if len(batch) == 0 {
			return
		}
		err := w.db.writeBatch(batch)
		w.mu.Lock()
		if err != nil && w.err == nil {
			w.err = err
		}
		if err == nil {
			w.rows += int64(len(batch))
		}
		w.mu.Unlock()
		batch = batch[:0]
	}
	for {
		select {
		case r, ok := <-w.ch:
			if !ok {
				flush()
				return
			}
			batch = append(batch, r)
			if len(batch) >= w.cfg.BatchSize {
				flush()
			}
		case <-t.C:
			flush()
			t.Reset(w.cfg.FlushInterval)
		}
	}
}

// invocationColumns and reportColumns are the columns the writer inserts.
const (
	invocationColumns = `run_id, seq, parent_seq, depth, phase, function, status, error_kind, error_message, http_status,
	scheduled_ns, sent_ns, latency_ns, sent_unix_ns, conn_reused, dns_ns, connect_ns, tls_ns,
	request_id, instance_id, cold, invocation_count, fn_init_started_ns, fn_start_ns, fn_end_ns, caller_sent_ns, caller_received_ns,
	boot_id, hostname, platform_hint, raw, error_reason`
	invocationArgs = 32
	reportColumns  = `run_id, seq, duration_ms, billed_ms, memory_size_mb, max_memory_used_mb, init_duration_ms, restore_ms`
	reportArgs     = 8
)

// rowsPerInsert is the number of rows one multi-row INSERT writes: one
// statement per 64 rows instead of one per row is most of the writer's
// speed (32 × 64 parameters, well under SQLite's limit of 32766).
const rowsPerInsert = 64

const insertMetric = `INSERT INTO metrics (run_id, seq, name, value, tags, phase, at_ns)
	VALUES (?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM metrics WHERE run_id = ?), ?, ?, ?, ?, ?)`

// multiInsert returns an INSERT of rows rows of n parameters each.
func multiInsert(table, columns string, n, rows int) string {
	one := "(" + strings.Repeat("?, ", n-1) + "?)"
	var b strings.Builder
	b.Grow(len(table) + len(columns) + rows*(len(one)+2) + 32)
	b.WriteString("INSERT INTO ")
	b.WriteString(table)
	b.WriteString(" (")
	b.WriteString(columns)
	b.WriteString(") VALUES ")
	for i := 0; i < rows; i++ {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(one)
	}
	return b.String()
}

// batchInserter writes rows of one table in multi-row INSERTs inside a
// transaction, preparing each statement size once per transaction.
type batchInserter struct {
	ctx         context.Context
	tx          *sql.Tx
	table, cols string
	n           int // parameters per row
	stmts       map[int]*sql.Stmt
	args        []any
	rows        int
	first, last int64 // seq range of the pending rows, for errors
	what, runID string
}

func newBatchInserter(ctx context.Context, tx *sql.Tx, table, cols string, n int, what string) *batchInserter {
	return &batchInserter{ctx: ctx, tx: tx, table: table, cols: cols, n: n, what: what,
		stmts: map[int]*sql.Stmt{}, args: make([]any, 0, n*rowsPerInsert)}
}

// add queues one row's arguments, writing a full chunk.
func (b *batchInserter) add(runID string, seq int64, args ...any) error {
	if b.rows == 0 {
		b.first, b.runID = seq, runID
	}
	b.last = seq
	b.args = append(b.args, args...)
	b.rows++
	if b.rows == rowsPerInsert {
		return b.flush()
	}
	return nil
}

// flush writes the pending rows.
func (b *batchInserter) flush() error {
	if b.rows == 0 {
		return nil
	}
	st := b.stmts[b.rows]
	if st == nil {
		var err error
		if st, err = b.tx.PrepareContext(b.ctx, multiInsert(b.table, b.cols, b.n, b.rows)); err != nil {
			return fmt.Errorf("results: prepare: %w", err)
		}
		b.stmts[b.rows] = st
	}
	if _, err := st.ExecContext(b.ctx, b.args...); err != nil {
		if b.rows == 1 {
			return fmt.Errorf("results: insert %s %s/%d: %w", b.what, b.runID, b.first, err)
		}
		return fmt.Errorf("results: insert %ss %s/%d..%d: %w", b.what, b.runID, b.first, b.last, err)
	}
	clear(b.args)
	b.args, b.rows = b.args[:0], 0
	return nil
}

func (d *DB) writeBatch(batch []row) error {
	ctx := context.Background() // a batch already queued is always written, even after cancellation
	tx, err := d.sql.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("results: begin batch: %w", err)
	}
	defer tx.Rollback()
	invs := newBatchInserter(ctx, tx, "invocations", invocationColumns, invocationArgs, "invocation")
	reps := newBatchInserter(ctx, tx, "platform_reports", reportColumns, reportArgs, "platform report")
	var metStmt *sql.Stmt
	for _, r := range batch {
		switch {
		case r.inv != nil:
			v := r.inv
			vals := invocationValues(v)
			if err := invs.add(v.RunID, v.Seq, vals[:]...); err != nil {
				return err
			}
			if p := v.Report; p != nil {
				if err := reps.add(v.RunID, v.Seq, v.RunID, v.Seq, p.DurationMS, p.BilledMS, p.MemorySizeMB,
					p.MaxMemoryUsedMB, nullFloat(p.InitDurationMS), nullFloat(p.RestoreMS)); err != nil {
					return err
				}
			}
		case r.metric != nil:
			if metStmt == nil {
				if metStmt, err = tx.PrepareContext(ctx, insertMetric); err != nil {
					return fmt.Errorf("results: prepare: %w", err)
				}
			}
			m := r.metric
			if _, err := metStmt.ExecContext(ctx, m.RunID, m.RunID, m.Name, m.Value, mustJSON(m.Tags), m.Phase, m.AtNS); err != nil {
				return fmt.Errorf("results: insert metric %s: %w", m.Name, err)
			}
		}
	}
	if err := invs.flush(); err != nil {
		return err
	}
	if err := reps.flush(); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("results: commit batch: %w", err)
	}
	return nil
}

// invocationValues returns v's column values in invocationColumns order.
func invocationValues(v *Invocation) [invocationArgs]any {
	var cold any
	if v.Cold != nil {
		cold = boolInt(*v.Cold)
	}
	var raw any
	if len(v.Raw) > 0 {
		raw = string(v.Raw)
	}
	return [invocationArgs]any{v.RunID, v.Seq, v.ParentSeq, v.Depth, v.Phase, v.Function, v.Status, v.ErrorKind, v.ErrorMessage, v.HTTPStatus,
		v.ScheduledNS, v.SentNS, v.LatencyNS, v.SentUnixNS, boolInt(v.ConnReused), v.DNSNS, v.ConnectNS, v.TLSNS,
		v.RequestID, v.InstanceID, cold, v.InvocationCount, v.FnInitStartedNS, v.FnStartNS, v.FnEndNS, v.CallerSentNS, v.CallerReceivedNS,
		v.BootID, v.Hostname, v.PlatformHint, raw, v.ErrorReason}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func nullFloat(f *float64) any {
	if f == nil {
		return nil
	}
	return *f
}
