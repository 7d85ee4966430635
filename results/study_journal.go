package results

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// studyJournalSchema is the migration that adds the study journal: one row
// per study run (one execution of a study file: a date of the campaign),
// one per cell (experiment × platform × repetition) and one per attempt of
// a cell. Package study owns the logic; these are its storage primitives.
const studyJournalSchema = `CREATE TABLE study_runs (
		id              TEXT PRIMARY KEY,
		study           TEXT NOT NULL,
		file            TEXT NOT NULL DEFAULT '',
		file_sha256     TEXT NOT NULL DEFAULT '',
		spec            TEXT NOT NULL DEFAULT '',
		started_at_ns   INTEGER NOT NULL,
		ended_at_ns     INTEGER,
		status          TEXT NOT NULL,
		owner_host      TEXT NOT NULL DEFAULT '',
		owner_pid       INTEGER NOT NULL DEFAULT 0,
		owner_token     TEXT NOT NULL DEFAULT ''
	);
	CREATE INDEX study_runs_study ON study_runs(study, started_at_ns);
	CREATE TABLE study_cells (
		study_run      TEXT NOT NULL REFERENCES study_runs(id),
		seq            INTEGER NOT NULL,
		platform       TEXT NOT NULL,
		experiment     TEXT NOT NULL,
		repetition     INTEGER NOT NULL,
		spec           TEXT NOT NULL DEFAULT '{}',
		state          TEXT NOT NULL,
		attempts       INTEGER NOT NULL DEFAULT 0,
		run_id         TEXT NOT NULL DEFAULT '',
		error          TEXT NOT NULL DEFAULT '',
		started_at_ns  INTEGER,
		ended_at_ns    INTEGER,
		PRIMARY KEY (study_run, seq)
	);
	CREATE TABLE study_attempts (
		study_run      TEXT NOT NULL,
		seq            INTEGER NOT NULL,
		attempt        INTEGER NOT NULL,
		outcome        TEXT NOT NULL,
		run_id         TEXT NOT NULL DEFAULT '',
		error          TEXT NOT NULL DEFAULT '',
		log_path       TEXT NOT NULL DEFAULT '',
		started_at_ns  INTEGER NOT NULL,
		ended_at_ns    INTEGER,
		PRIMARY KEY (study_run, seq, attempt),
		FOREIGN KEY (study_run, seq) REFERENCES study_cells(study_run, seq)
	);`

// Study run statuses (StudyRun.Status).
const (
	// StudyRunning: cells are left to run (or the process running it
	// died: the next `fbrun study run` continues it).
	StudyRunning = "running"
	// StudyFinished: every cell is done or failed.
	StudyFinished = "finished"
)

// Study cell states (StudyCell.State) and attempt outcomes.
const (
	CellPending = "pending"
	CellRunning = "running"
	CellDone    = "done"
	CellFailed  = "failed"
	// AttemptAbandoned is the outcome of an attempt whose study process
	// died (crash, SIGKILL) while it ran; the cell went back to pending.
	AttemptAbandoned = "abandoned"
	// AttemptInterrupted is the outcome of an attempt stopped by Ctrl-C or
	// SIGTERM; the cell went back to pending.
	AttemptInterrupted = "interrupted"
)

// StudyOwner identifies the process running a study run: host name,
// process id and a token that tells a reused pid apart (the process start
// time where the system exposes it).
type StudyOwner struct {
	Host  string
	PID   int
	Token string
}

// StudyRun is one execution of a study file.
type StudyRun struct {
	ID    string
	Study string
	// File is the study file's path and FileSHA256 its content hash when
	// the study run began; Spec is the file's content.
	File, FileSHA256, Spec string
	StartedAt              time.Time
	EndedAt                time.Time // zero while running
	Status                 string
	Owner                  StudyOwner
}

// StudyCell is one cell of a study run: an experiment on one of the
// study's platforms, one repetition.
type StudyCell struct {
	StudyRun string
	// Seq is the cell's position in the (interleaved) plan, from 1.
	Seq        int
	Platform   string // the study's platform label
	Experiment string
	Repetition int
	// Spec is what the cell runs (JSON, written by package study).
	Spec     string
	State    string
	Attempts int
	// RunID is the run of the attempt that finished the cell.
	RunID     string
	Error     string
	StartedAt time.Time
	EndedAt   time.Time
}

// StudyAttempt is one attempt to run a cell.
type StudyAttempt struct {
	StudyRun  string
	Seq       int
	Attempt   int
	Outcome   string // running, done, failed, abandoned, interrupted
	RunID     string
	Error     string
	LogPath   string
	StartedAt time.Time
	EndedAt   time.Time
}

// ErrNoStudyRun is returned when a study run does not exist.
var ErrNoStudyRun = errors.New("no such study run")

// CreateStudyRun inserts a study run with all its cells (state pending) in
// one transaction.
func (d *DB) CreateStudyRun(ctx context.Context, r StudyRun, cells []StudyCell) error {
	if r.ID == "" || r.Study == "" {
		return errors.New("results: study run needs an id and a study")
	}
	if r.Status == "" {
		r.Status = StudyRunning
	}
	tx, err := d.sql.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("results: create study run %s: %w", r.ID, err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `INSERT INTO study_runs (id, study, file, file_sha256, spec, started_at_ns, status, owner_host, owner_pid, owner_token)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, r.ID, r.Study, r.File, r.FileSHA256, r.Spec, r.StartedAt.UnixNano(), r.Status,
		r.Owner.Host, r.Owner.PID, r.Owner.Token); err != nil {
		return fmt.Errorf("results: create study run %s: %w", r.ID, err)
	}
	for _, c := range cells {
		if _, err := tx.ExecContext(ctx, `INSERT INTO study_cells (study_run, seq, platform, experiment, repetition, spec, state)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, r.ID, c.Seq, c.Platform, c.Experiment, c.Repetition, c.Spec, CellPending); err != nil {
			return fmt.Errorf("results: create study run %s cell %d: %w", r.ID, c.Seq, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("results: create study run %s: %w", r.ID, err)
	}
	return nil
}

const studyRunColumns = `id, study, file, file_sha256, spec, started_at_ns, ended_at_ns, status, owner_host, owner_pid, owner_token`

func scanStudyRun(s scanner) (StudyRun, error) {
	var (
		r       StudyRun
		started int64
		ended   sql.NullInt64
	)
	if err := s.Scan(&r.ID, &r.Study, &r.File, &r.FileSHA256, &r.Spec, &started, &ended, &r.Status,
		&r.Owner.Host, &r.Owner.PID, &r.Owner.Token); err != nil {
		return r, err
	}
	r.StartedAt = time.Unix(0, started)
	if ended.Valid {
		r.EndedAt = time.Unix(0, ended.Int64)
	}
	return r, nil
}

// StudyRuns lists the study runs of study (every study when empty), oldest
// first.
func (d *DB) StudyRuns(ctx context.Context, study string) ([]StudyRun, error) {
	rows, err := d.sql.QueryContext(ctx, `SELECT `+studyRunColumns+` FROM study_runs WHERE (? = '' OR study = ?) ORDER BY started_at_ns, id`, study, study)
	if err != nil {
		return nil, fmt.Errorf("results: list study runs: %w", err)
	}
	defer rows.Close()
	var out []StudyRun
	for rows.Next() {
		r, err := scanStudyRun(rows)
		if err != nil {
			return nil, fmt.Errorf("results: scan study run: %w", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("results: list study runs: %w", err)
	}
	return out, nil
}

// GetStudyRun returns one study run.
func (d *DB) GetStudyRun(ctx context.Context, id string) (StudyRun, error) {
	r, err := scanStudyRun(d.sql.QueryRowContext(ctx, `SELECT `+studyRunColumns+` FROM study_runs WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return r, fmt.Errorf("results: study run %s: %w", id, ErrNoStudyRun)
	}
	if err != nil {
		return r, fmt.Errorf("results: study run %s: %w", id, err)
	}
	return r, nil
}

// ClaimStudyRun makes owner the owner of study run id if its owner is
// still prev (compare and swap): of two processes claiming the same study
// run, exactly one succeeds.
func (d *DB) ClaimStudyRun(ctx context.Context, id string, prev, owner StudyOwner) (bool, error) {
	res, err := d.sql.ExecContext(ctx, `UPDATE study_runs SET owner_host = ?, owner_pid = ?, owner_token = ?
		WHERE id = ? AND owner_host = ? AND owner_pid = ? AND owner_token = ?`,
		owner.Host, owner.PID, owner.Token, id, prev.Host, prev.PID, prev.Token)
	if err != nil {
		return false, fmt.Errorf("results: claim study run %s: %w", id, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("results: claim study run %s: %w", id, err)
	}
	return n == 1, nil
}

// FinishStudyRun sets a study run's status and end time.
func (d *DB) FinishStudyRun(ctx context.Context, id, status string, ended time.Time) error {
	var end any
	if !ended.IsZero() {
		end = ended.UnixNano()
	}
	if _, err := d.sql.ExecContext(ctx, `UPDATE study_runs SET status = ?, ended_at_ns = ? WHERE id = ?`, status, end, id); err != nil {
		return fmt.Errorf("results: finish study run %s: %w", id, err)
	}
	return nil
}

// StudyCells returns the cells of a study run in plan order.
func (d *DB) StudyCells(ctx context.Context, studyRun string) ([]StudyCell, error) {
	rows, err := d.sql.QueryContext(ctx, `SELECT seq, platform, experiment, repetition, spec, state, attempts, run_id, error, started_at_ns, ended_at_ns
		FROM study_cells WHERE study_run = ? ORDER BY seq`, studyRun)
	if err != nil {
		return nil, fmt.Errorf("results: cells of study run %s: %w", studyRun, err)
	}
	defer rows.Close()
	var out []StudyCell
	for rows.Next() {
		c := StudyCell{StudyRun: studyRun}
		var started, ended sql.NullInt64
		if err := rows.Scan(&c.Seq, &c.Platform, &c.Experiment, &c.Repetition, &c.Spec, &c.State, &c.Attempts, &c.RunID, &c.Error, &started, &ended); err != nil {
			return nil, fmt.Errorf("results: scan study cell: %w", err)
		}
		if started.Valid {
			c.StartedAt = time.Unix(0, started.Int64)
		}
		if ended.Valid {
			c.EndedAt = time.Unix(0, ended.Int64)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("results: cells of study run %s: %w", studyRun, err)
	}
	return out, nil
}

// StartStudyCell marks a cell running and records attempt number attempt
// (the cell's attempt counter becomes attempt) with runID, the run the
// attempt will store: chosen before it starts, so that a study that dies
// while the attempt runs finds that run again (StudyAttempt.RunID).
func (d *DB) StartStudyCell(ctx context.Context, studyRun string, seq, attempt int, runID, logPath string, at time.Time) error {
	tx, err := d.sql.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("results: start study cell %s/%d: %w", studyRun, seq, err)
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `UPDATE study_cells SET state = ?, attempts = ?, started_at_ns = ?, ended_at_ns = NULL
		WHERE study_run = ? AND seq = ? AND state = ?`, CellRunning, attempt, at.UnixNano(), studyRun, seq, CellPending)
	if err != nil {
		return fmt.Errorf("results: start study cell %s/%d: %w", studyRun, seq, err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return fmt.Errorf("results: start study cell %s/%d: the cell is not pending", studyRun, seq)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO study_attempts (study_run, seq, attempt, outcome, run_id, log_path, started_at_ns) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		studyRun, seq, attempt, CellRunning, runID, logPath, at.UnixNano()); err != nil {
		return fmt.Errorf("results: start study cell %s/%d: %w", studyRun, seq, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("results: start study cell %s/%d: %w", studyRun, seq, err)
	}
	return nil
}

// EndStudyAttempt records the outcome of a running cell's current
// attempt and sets the cell's state: done or failed (the cell is
// finished; its end time is at), or pending (to be tried again).
func (d *DB) EndStudyAttempt(ctx context.Context, studyRun string, seq int, outcome, state, runID, errMsg string, at time.Time) error {
	tx, err := d.sql.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("results: end study cell %s/%d: %w", studyRun, seq, err)
	}
	defer tx.Rollback()
	var attempt int
	if err := tx.QueryRowContext(ctx, `SELECT attempts FROM study_cells WHERE study_run = ? AND seq = ? AND state = ?`,
		studyRun, seq, CellRunning).Scan(&attempt); err != nil {
		return fmt.Errorf("results: end study cell %s/%d: not running: %w", studyRun, seq, err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE study_attempts SET outcome = ?, run_id = ?, error = ?, ended_at_ns = ?
		WHERE study_run = ? AND seq = ? AND attempt = ?`, outcome, runID, errMsg, at.UnixNano(), studyRun, seq, attempt); err != nil {
		return fmt.Errorf("results: end study cell %s/%d: %w", studyRun, seq, err)
	}
	cellRun, end := "", any(nil)
	if state == CellDone || state == CellFailed {
		cellRun, end = runID, at.UnixNano()
	}
	if _, err := tx.ExecContext(ctx, `UPDATE study_cells SET state = ?, run_id = ?, error = ?, ended_at_ns = ? WHERE study_run = ? AND seq = ?`,
		state, cellRun, errMsg, end, studyRun, seq); err != nil {
		return fmt.Errorf("results: end study cell %s/%d: %w", studyRun, seq, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("results: end study cell %s/%d: %w", studyRun, seq, err)
	}
	return nil
}

// StudyAttempts returns every attempt of a study run's cells, by cell and
// attempt number.
func (d *DB) StudyAttempts(ctx context.Context, studyRun string) ([]StudyAttempt, error) {
	rows, err := d.sql.QueryContext(ctx, `SELECT seq, attempt, outcome, run_id, error, log_path, started_at_ns, ended_at_ns
		FROM study_attempts WHERE study_run = ? ORDER BY seq, attempt`, studyRun)
	if err != nil {
		return nil, fmt.Errorf("results: attempts of study run %s: %w", studyRun, err)
	}
	defer rows.Close()
	var out []StudyAttempt
	for rows.Next() {
		a := StudyAttempt{StudyRun: studyRun}
		var started int64
		var ended sql.NullInt64
		if err := rows.Scan(&a.Seq, &a.Attempt, &a.Outcome, &a.RunID, &a.Error, &a.LogPath, &started, &ended); err != nil {
			return nil, fmt.Errorf("results: scan study attempt: %w", err)
		}
		a.StartedAt = time.Unix(0, started)
		if ended.Valid {
			a.EndedAt = time.Unix(0, ended.Int64)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("results: attempts of study run %s: %w", studyRun, err)
	}
	return out, nil
}
