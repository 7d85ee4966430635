package results

import (
	"context"
	"database/sql"
	"fmt"
)

// InvocationLite is the light projection of an invocation that reports and
// summaries read: no response bodies, no function-clock or connection
// details. Cold is -1 when unknown, 0 warm, 1 cold. HasInit says whether the
// platform's init durations are read separately (InitDurations), which
// avoids a join per row.
type InvocationLite struct {
	Seq   int64
	Depth int
	Phase string
	// Status is empty for InvOK (so successful rows cost no allocation).
	Status      string
	ErrorKind   string
	ScheduledNS int64
	SentNS      int64
	LatencyNS   int64
	InstanceID  string
	Cold        int8
}

// OK reports whether the invocation succeeded.
func (v *InvocationLite) OK() bool { return v.Status == "" }

// SeqRange returns the smallest and largest Seq of a run's invocations
// (0, 0 when it has none).
func (d *DB) SeqRange(ctx context.Context, runID string) (lo, hi int64, err error) {
	var a, b sql.NullInt64
	err = d.sql.QueryRowContext(ctx, `SELECT MIN(seq), MAX(seq) FROM invocations WHERE run_id = ?`, runID).Scan(&a, &b)
	if err != nil {
		return 0, 0, fmt.Errorf("results: seq range of %s: %w", runID, err)
	}
	return a.Int64, b.Int64, nil
}

// EachInvocationLite calls fn for every invocation of run with fromSeq <=
// Seq <= toSeq, in Seq order, with the light projection. The
// *InvocationLite passed to fn is reused between calls: copy what you keep.
// It streams, and several ranges can be read concurrently.
func (d *DB) EachInvocationLite(ctx context.Context, runID string, fromSeq, toSeq int64, fn func(*InvocationLite) error) error {
	const q = `SELECT i.seq, i.depth, i.phase, NULLIF(i.status, 'ok'), NULLIF(i.error_kind, ''),
		i.scheduled_ns, i.sent_ns, i.latency_ns, NULLIF(i.instance_id, ''), i.cold
		FROM invocations i WHERE i.run_id = ? AND i.seq BETWEEN ? AND ? ORDER BY i.seq`
	rows, err := d.sql.QueryContext(ctx, q, runID, fromSeq, toSeq)
	if err != nil {
		return fmt.Errorf("results: read invocations of %s: %w", runID, err)
	}
	defer rows.Close()
	var (
		v                  InvocationLite
		status, kind, inst sql.NullString
		cold               sql.NullInt64
	)
	for rows.Next() {
		if err := rows.Scan(&v.Seq, &v.Depth, &v.Phase, &status, &kind,
			&v.ScheduledNS, &v.SentNS, &v.LatencyNS, &inst, &cold); err != nil {
			return fmt.Errorf("results: scan invocation: %w", err)
		}
		v.Status, v.ErrorKind, v.InstanceID = status.String, kind.String, inst.String
		v.Cold = -1
		if cold.Valid {
			v.Cold = int8(cold.Int64)
		}
		if err := fn(&v); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("results: read invocations of %s: %w", runID, err)
	}
	return nil
}

// InitDurations returns the platform-reported init durations (ms) of a
// run's invocations that have one, in Seq order.
func (d *DB) InitDurations(ctx context.Context, runID string) ([]float64, error) {
	rows, err := d.sql.QueryContext(ctx, `SELECT init_duration_ms FROM platform_reports WHERE run_id = ? AND init_duration_ms IS NOT NULL ORDER BY seq`, runID)
	if err != nil {
		return nil, fmt.Errorf("results: init durations of %s: %w", runID, err)
	}
	defer rows.Close()
	var out []float64
	for rows.Next() {
		var f float64
		if err := rows.Scan(&f); err != nil {
			return nil, fmt.Errorf("results: scan init duration: %w", err)
		}
		out = append(out, f)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("results: init durations of %s: %w", runID, err)
	}
	return out, nil
}
