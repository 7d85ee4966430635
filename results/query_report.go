package results

import (
	"context"
	"database/sql"
	"fmt"
)

// InvocationLite is the light projection of an invocation that reports and
// summaries read: no response bodies, no function-clock or connection
// details. Cold is -1 when unknown, 0 warm, 1 cold. InitDurationMS is NaN-free:
// HasInit says whether the platform reported an init duration.
type InvocationLite struct {
	Seq            int64
	ParentSeq      int64
	Depth          int
	Phase          string
	Function       string
	Status         string
	ErrorKind      string
	ScheduledNS    int64
	SentNS         int64
	LatencyNS      int64
	InstanceID     string
	Cold           int8
	HasReport      bool
	DurationMS     float64
	InitDurationMS float64
	HasInit        bool
}

// EachInvocationLite calls fn for every invocation of run in Seq order with
// the light projection. The *InvocationLite passed to fn is reused between
// calls: copy what you keep. It streams and is several times faster than
// EachInvocation on large runs.
func (d *DB) EachInvocationLite(ctx context.Context, runID string, fn func(*InvocationLite) error) error {
	const q = `SELECT i.seq, i.parent_seq, i.depth, i.phase, i.function, i.status, i.error_kind,
		i.scheduled_ns, i.sent_ns, i.latency_ns, i.instance_id, i.cold, p.duration_ms, p.init_duration_ms
		FROM invocations i LEFT JOIN platform_reports p ON p.run_id = i.run_id AND p.seq = i.seq
		WHERE i.run_id = ? ORDER BY i.seq`
	rows, err := d.sql.QueryContext(ctx, q, runID)
	if err != nil {
		return fmt.Errorf("results: read invocations of %s: %w", runID, err)
	}
	defer rows.Close()
	var (
		v     InvocationLite
		cold  sql.NullInt64
		dur   sql.NullFloat64
		pinit sql.NullFloat64
	)
	for rows.Next() {
		if err := rows.Scan(&v.Seq, &v.ParentSeq, &v.Depth, &v.Phase, &v.Function, &v.Status, &v.ErrorKind,
			&v.ScheduledNS, &v.SentNS, &v.LatencyNS, &v.InstanceID, &cold, &dur, &pinit); err != nil {
			return fmt.Errorf("results: scan invocation: %w", err)
		}
		v.Cold = -1
		if cold.Valid {
			v.Cold = int8(cold.Int64)
		}
		v.HasReport, v.DurationMS = dur.Valid, dur.Float64
		v.HasInit, v.InitDurationMS = pinit.Valid, pinit.Float64
		if err := fn(&v); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("results: read invocations of %s: %w", runID, err)
	}
	return nil
}
