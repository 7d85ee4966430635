package results

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/faas-benchmarker/faas-benchmarker/internal/runowner"
)

// RunFilter selects runs; zero fields match everything.
type RunFilter struct {
	IDs        []string
	Experiment string
	Platform   string
	Since      time.Time
}

// ErrNoRun is returned when a run does not exist.
var ErrNoRun = errors.New("no such run")

const runColumns = `id, experiment, platform, params, platform_config, tool_version, git_commit, client_host, started_at_ns, ended_at_ns, status, summary, error, owner_host, owner_pid, owner_start`

// Runs lists runs matching f, oldest first.
func (d *DB) Runs(ctx context.Context, f RunFilter) ([]Run, error) {
	q := `SELECT ` + runColumns + ` FROM runs WHERE (? = '' OR experiment = ?) AND (? = '' OR platform = ?) AND started_at_ns >= ? ORDER BY started_at_ns, id`
	var since int64
	if !f.Since.IsZero() {
		since = f.Since.UnixNano()
	}
	rows, err := d.sql.QueryContext(ctx, q, f.Experiment, f.Experiment, f.Platform, f.Platform, since)
	if err != nil {
		return nil, fmt.Errorf("results: list runs: %w", err)
	}
	defer rows.Close()
	want := map[string]bool{}
	for _, id := range f.IDs {
		want[id] = true
	}
	var out []Run
	for rows.Next() {
		r, err := scanRun(rows)
		if err != nil {
			return nil, err
		}
		if len(want) > 0 && !want[r.ID] {
			continue
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("results: list runs: %w", err)
	}
	for _, id := range f.IDs {
		found := false
		for _, r := range out {
			if r.ID == id {
				found = true
				break
			}
		}
		if !found {
			return nil, fmt.Errorf("results: run %s: %w", id, ErrNoRun)
		}
	}
	return out, nil
}

// GetRun returns one run.
func (d *DB) GetRun(ctx context.Context, id string) (Run, error) {
	row := d.sql.QueryRowContext(ctx, `SELECT `+runColumns+` FROM runs WHERE id = ?`, id)
	r, err := scanRun(row)
	if errors.Is(err, sql.ErrNoRows) {
		return Run{}, fmt.Errorf("results: run %s: %w", id, ErrNoRun)
	}
	return r, err
}

type scanner interface{ Scan(...any) error }

func scanRun(s scanner) (Run, error) {
	var (
		r                  Run
		params, pcfg, host string
		started            int64
		ended              sql.NullInt64
		summary            sql.NullString
	)
	if err := s.Scan(&r.ID, &r.Experiment, &r.Platform, &params, &pcfg, &r.ToolVersion, &r.GitCommit, &host, &started, &ended, &r.Status, &summary, &r.Error,
		&r.Owner.Host, &r.Owner.PID, &r.Owner.Start); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return r, err
		}
		return r, fmt.Errorf("results: scan run: %w", err)
	}
	_ = json.Unmarshal([]byte(params), &r.Params)
	_ = json.Unmarshal([]byte(pcfg), &r.PlatformConfig)
	_ = json.Unmarshal([]byte(host), &r.ClientHost)
	r.StartedAt = time.Unix(0, started)
	if ended.Valid {
		r.EndedAt = time.Unix(0, ended.Int64)
	}
	if summary.Valid {
		r.Summary = json.RawMessage(summary.String)
	}
	r.StoredStatus = r.Status
	if r.Status == StatusRunning && !ended.Valid && runowner.Check(r.Owner) == runowner.Gone {
		r.Status = StatusCrashed
	}
	return r, nil
}

// InvocationOptions tune EachInvocation.
type InvocationOptions struct {
	// WithRaw loads the raw response JSON (large); off by default.
	WithRaw bool
}

// EachInvocation calls fn for every invocation of run, in Seq order, with its
// platform report attached. It streams: memory use does not grow with the
// number of rows.
func (d *DB) EachInvocation(ctx context.Context, runID string, opt InvocationOptions, fn func(*Invocation) error) error {
	rawCol := `NULL`
	if opt.WithRaw {
		rawCol = `i.raw`
	}
	q := `SELECT i.seq, i.parent_seq, i.depth, i.phase, i.function, i.status, i.error_kind, i.error_message, i.http_status,
		i.scheduled_ns, i.sent_ns, i.latency_ns, i.sent_unix_ns, i.conn_reused, i.dns_ns, i.connect_ns, i.tls_ns,
		i.request_id, i.instance_id, i.cold, i.invocation_count, i.fn_init_started_ns, i.fn_start_ns, i.fn_end_ns, i.caller_sent_ns, i.caller_received_ns,
		i.boot_id, i.hostname, i.platform_hint, ` + rawCol + `, i.error_reason,
		p.duration_ms, p.billed_ms, p.memory_size_mb, p.max_memory_used_mb, p.init_duration_ms, p.restore_ms
		FROM invocations i LEFT JOIN platform_reports p ON p.run_id = i.run_id AND p.seq = i.seq
		WHERE i.run_id = ? ORDER BY i.seq`
	rows, err := d.sql.QueryContext(ctx, q, runID)
	if err != nil {
		return fmt.Errorf("results: read invocations of %s: %w", runID, err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			v            Invocation
			reused       int
			cold         sql.NullInt64
			raw          sql.NullString
			pd, pb       sql.NullFloat64
			pm, pmax     sql.NullInt64
			pinit, prest sql.NullFloat64
		)
		if err := rows.Scan(&v.Seq, &v.ParentSeq, &v.Depth, &v.Phase, &v.Function, &v.Status, &v.ErrorKind, &v.ErrorMessage, &v.HTTPStatus,
			&v.ScheduledNS, &v.SentNS, &v.LatencyNS, &v.SentUnixNS, &reused, &v.DNSNS, &v.ConnectNS, &v.TLSNS,
			&v.RequestID, &v.InstanceID, &cold, &v.InvocationCount, &v.FnInitStartedNS, &v.FnStartNS, &v.FnEndNS, &v.CallerSentNS, &v.CallerReceivedNS,
			&v.BootID, &v.Hostname, &v.PlatformHint, &raw, &v.ErrorReason, &pd, &pb, &pm, &pmax, &pinit, &prest); err != nil {
			return fmt.Errorf("results: scan invocation: %w", err)
		}
		v.RunID = runID
		v.ConnReused = reused != 0
		if cold.Valid {
			c := cold.Int64 != 0
			v.Cold = &c
		}
		if raw.Valid {
			v.Raw = json.RawMessage(raw.String)
		}
		if pd.Valid {
			v.Report = &PlatformReport{DurationMS: pd.Float64, BilledMS: pb.Float64, MemorySizeMB: int(pm.Int64), MaxMemoryUsedMB: int(pmax.Int64)}
			if pinit.Valid {
				f := pinit.Float64
				v.Report.InitDurationMS = &f
			}
			if prest.Valid {
				f := prest.Float64
				v.Report.RestoreMS = &f
			}
		}
		if err := fn(&v); err != nil {
			return err
		}
	}
	return rows.Err()
}

// Invocations returns every invocation of a run (convenience over
// EachInvocation for small runs and tests).
func (d *DB) Invocations(ctx context.Context, runID string) ([]Invocation, error) {
	var out []Invocation
	err := d.EachInvocation(ctx, runID, InvocationOptions{WithRaw: true}, func(v *Invocation) error {
		out = append(out, *v)
		return nil
	})
	return out, err
}

// Metrics returns a run's metrics in recording order; name filters when
// non-empty.
func (d *DB) Metrics(ctx context.Context, runID, name string) ([]Metric, error) {
	rows, err := d.sql.QueryContext(ctx, `SELECT name, value, tags, phase, at_ns FROM metrics WHERE run_id = ? AND (? = '' OR name = ?) ORDER BY seq`, runID, name, name)
	if err != nil {
		return nil, fmt.Errorf("results: read metrics of %s: %w", runID, err)
	}
	defer rows.Close()
	var out []Metric
	for rows.Next() {
		m := Metric{RunID: runID}
		var tags string
		if err := rows.Scan(&m.Name, &m.Value, &tags, &m.Phase, &m.AtNS); err != nil {
			return nil, fmt.Errorf("results: scan metric: %w", err)
		}
		_ = json.Unmarshal([]byte(tags), &m.Tags)
		out = append(out, m)
	}
	return out, rows.Err()
}

// CountInvocations returns the number of invocation rows of a run.
func (d *DB) CountInvocations(ctx context.Context, runID string) (int64, error) {
	var n int64
	err := d.sql.QueryRowContext(ctx, `SELECT COUNT(*) FROM invocations WHERE run_id = ?`, runID).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("results: count invocations of %s: %w", runID, err)
	}
	return n, nil
}
