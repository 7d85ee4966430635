package results

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"modernc.org/sqlite" // registers the "sqlite" driver
	sqlite3 "modernc.org/sqlite/lib"
)

// migrations are applied in order; migrations[i] brings the schema to
// version i+1. Never edit a released migration: append a new one.
var migrations = []string{
	`CREATE TABLE runs (
		id              TEXT PRIMARY KEY,
		experiment      TEXT NOT NULL,
		platform        TEXT NOT NULL,
		params          TEXT NOT NULL DEFAULT '{}',
		platform_config TEXT NOT NULL DEFAULT '{}',
		tool_version    TEXT NOT NULL DEFAULT '',
		git_commit      TEXT NOT NULL DEFAULT '',
		client_host     TEXT NOT NULL DEFAULT '{}',
		started_at_ns   INTEGER NOT NULL,
		ended_at_ns     INTEGER,
		status          TEXT NOT NULL,
		summary         TEXT,
		error           TEXT NOT NULL DEFAULT ''
	);
	CREATE TABLE invocations (
		run_id              TEXT NOT NULL REFERENCES runs(id),
		seq                 INTEGER NOT NULL,
		parent_seq          INTEGER NOT NULL DEFAULT 0,
		depth               INTEGER NOT NULL DEFAULT 0,
		phase               TEXT NOT NULL DEFAULT '',
		function            TEXT NOT NULL,
		status              TEXT NOT NULL,
		error_kind          TEXT NOT NULL DEFAULT '',
		error_message       TEXT NOT NULL DEFAULT '',
		http_status         INTEGER NOT NULL DEFAULT 0,
		scheduled_ns        INTEGER NOT NULL DEFAULT -1,
		sent_ns             INTEGER NOT NULL DEFAULT 0,
		latency_ns          INTEGER NOT NULL DEFAULT 0,
		sent_unix_ns        INTEGER NOT NULL DEFAULT 0,
		conn_reused         INTEGER NOT NULL DEFAULT 0,
		dns_ns              INTEGER NOT NULL DEFAULT 0,
		connect_ns          INTEGER NOT NULL DEFAULT 0,
		tls_ns              INTEGER NOT NULL DEFAULT 0,
		request_id          TEXT NOT NULL DEFAULT '',
		instance_id         TEXT NOT NULL DEFAULT '',
		cold                INTEGER,
		invocation_count    INTEGER NOT NULL DEFAULT 0,
		fn_init_started_ns  INTEGER NOT NULL DEFAULT 0,
		fn_start_ns         INTEGER NOT NULL DEFAULT 0,
		fn_end_ns           INTEGER NOT NULL DEFAULT 0,
		caller_sent_ns      INTEGER NOT NULL DEFAULT 0,
		caller_received_ns  INTEGER NOT NULL DEFAULT 0,
		boot_id             TEXT NOT NULL DEFAULT '',
		hostname            TEXT NOT NULL DEFAULT '',
		platform_hint       TEXT NOT NULL DEFAULT '',
		raw                 TEXT,
		PRIMARY KEY (run_id, seq)
	);
	CREATE TABLE platform_reports (
		run_id              TEXT NOT NULL,
		seq                 INTEGER NOT NULL,
		duration_ms         REAL NOT NULL,
		billed_ms           REAL NOT NULL,
		memory_size_mb      INTEGER NOT NULL,
		max_memory_used_mb  INTEGER NOT NULL,
		init_duration_ms    REAL,
		restore_ms          REAL,
		PRIMARY KEY (run_id, seq)
	);
	CREATE TABLE metrics (
		run_id  TEXT NOT NULL REFERENCES runs(id),
		seq     INTEGER NOT NULL,
		name    TEXT NOT NULL,
		value   REAL NOT NULL,
		tags    TEXT NOT NULL DEFAULT '{}',
		phase   TEXT NOT NULL DEFAULT '',
		at_ns   INTEGER NOT NULL DEFAULT 0,
		PRIMARY KEY (run_id, seq)
	);
	CREATE INDEX metrics_name ON metrics(run_id, name);`,
	studyJournalSchema, // study_journal.go
	// The run's owner process (package runowner): a run left "running"
	// by an owner that is gone reads as crashed.
	`ALTER TABLE runs ADD COLUMN owner_host TEXT NOT NULL DEFAULT '';
	ALTER TABLE runs ADD COLUMN owner_pid INTEGER NOT NULL DEFAULT 0;
	ALTER TABLE runs ADD COLUMN owner_start TEXT NOT NULL DEFAULT '';`,
	// The platform's reason for a refusal (Lambda's throttle Reason):
	// older rows read as '' (no reason recorded).
	`ALTER TABLE invocations ADD COLUMN error_reason TEXT NOT NULL DEFAULT '';`,
}

// SchemaVersion is the schema version this build writes.
var SchemaVersion = len(migrations)

// DB is an open results database. It is safe for concurrent use.
type DB struct {
	sql  *sql.DB
	path string
}

// Open opens (creating if needed) the results database at path and brings
// its schema up to date. The parent directory is created when missing.
func Open(ctx context.Context, path string) (*DB, error) {
	if path == "" {
		return nil, errors.New("results: empty database path")
	}
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("results: create directory for %s: %w", path, err)
		}
	}
	// _txlock=immediate: every transaction here writes, and one that began
	// deferred with a read (EndStudyAttempt) could not upgrade to a writer
	// once another connection — the experiment's own process writing the
	// same file — had committed since: SQLite answers SQLITE_BUSY at once,
	// without waiting out busy_timeout (https://sqlite.org/isolation.html,
	// https://sqlite.org/rescode.html#busy_snapshot). BEGIN IMMEDIATE takes
	// the write lock first and waits for it.
	dsn := "file:" + path + "?_pragma=journal_mode(WAL)&_pragma=busy_timeout(" + strconv.Itoa(int(busyTimeout.Milliseconds())) + ")&_pragma=synchronous(NORMAL)&_pragma=foreign_keys(ON)&_txlock=immediate"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("results: open %s: %w", path, err)
	}
	if err := connect(ctx, db); err != nil {
		db.Close()
		return nil, fmt.Errorf("results: open %s: %w", path, err)
	}
	d := &DB{sql: db, path: path}
	if err := d.migrate(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("results: %s: %w", path, err)
	}
	return d, nil
}

// busyTimeout is how long a connection waits for another one's lock
// (busy_timeout in Open's DSN) and how long connect retries.
const busyTimeout = 10 * time.Second

// connect opens the first connection. Its setup switches the database to
// WAL (PRAGMA journal_mode), which needs an exclusive lock; while another
// connection or process is creating the same new database, SQLite can
// answer SQLITE_BUSY at once instead of waiting out busy_timeout (it does
// not wait where waiting could deadlock: https://sqlite.org/c3ref/busy_handler.html).
// Such a refusal is retried until busyTimeout has passed.
func connect(ctx context.Context, db *sql.DB) error {
	deadline := time.Now().Add(busyTimeout)
	for wait := time.Millisecond; ; wait = min(2*wait, 100*time.Millisecond) {
		err := db.PingContext(ctx)
		var se *sqlite.Error
		if err == nil || !errors.As(err, &se) || se.Code()&0xff != sqlite3.SQLITE_BUSY || time.Now().Add(wait).After(deadline) {
			return err
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}

// Path returns the database file path.
func (d *DB) Path() string { return d.path }

// Close closes the database.
func (d *DB) Close() error { return d.sql.Close() }

// migrate applies the missing migrations, one transaction each. Every step
// re-reads the version under SQLite's write lock (BEGIN IMMEDIATE), so
// processes opening a new database at the same moment (a run starting while
// `fbrun runs` looks) apply each migration once.
func (d *DB) migrate(ctx context.Context) error {
	if _, err := d.sql.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at_ns INTEGER NOT NULL)`); err != nil {
		return fmt.Errorf("create schema_migrations: %w", err)
	}
	conn, err := d.sql.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	for {
		done, err := migrateStep(ctx, conn)
		if err != nil || done {
			return err
		}
	}
}

// migrateStep applies the next migration, if any, and reports whether the
// schema was already up to date.
func migrateStep(ctx context.Context, conn *sql.Conn) (done bool, err error) {
	if _, err := conn.ExecContext(ctx, `BEGIN IMMEDIATE`); err != nil {
		return false, fmt.Errorf("begin migration: %w", err)
	}
	defer func() {
		if err != nil {
			conn.ExecContext(context.WithoutCancel(ctx), `ROLLBACK`)
		}
	}()
	var current int
	if err := conn.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&current); err != nil {
		return false, fmt.Errorf("read schema version: %w", err)
	}
	if current > len(migrations) {
		return false, fmt.Errorf("database schema version %d is newer than this fbrun supports (%d): upgrade fbrun", current, len(migrations))
	}
	if current == len(migrations) {
		_, err := conn.ExecContext(ctx, `COMMIT`)
		return true, err
	}
	if _, err := conn.ExecContext(ctx, migrations[current]); err != nil {
		return false, fmt.Errorf("migration %d: %w", current+1, err)
	}
	if _, err := conn.ExecContext(ctx, `INSERT INTO schema_migrations(version, applied_at_ns) VALUES (?, ?)`, current+1, time.Now().UnixNano()); err != nil {
		return false, fmt.Errorf("migration %d: %w", current+1, err)
	}
	if _, err := conn.ExecContext(ctx, `COMMIT`); err != nil {
		return false, fmt.Errorf("migration %d: %w", current+1, err)
	}
	return false, nil
}

func mustJSON(v any) string {
	if v == nil {
		return "{}"
	}
	b, err := json.Marshal(v)
	if err != nil {
		return "{}"
	}
	return string(b)
}

// CreateRun inserts a new run with status running.
func (d *DB) CreateRun(ctx context.Context, r Run) error {
	if r.ID == "" || r.Experiment == "" || r.Platform == "" {
		return errors.New("results: run needs id, experiment and platform")
	}
	if r.Status == "" {
		r.Status = StatusRunning
	}
	_, err := d.sql.ExecContext(ctx, `INSERT INTO runs (id, experiment, platform, params, platform_config, tool_version, git_commit, client_host, started_at_ns, status, owner_host, owner_pid, owner_start)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		r.ID, r.Experiment, r.Platform, mustJSON(r.Params), mustJSON(r.PlatformConfig), r.ToolVersion, r.GitCommit,
		mustJSON(r.ClientHost), r.StartedAt.UnixNano(), r.Status, r.Owner.Host, r.Owner.PID, r.Owner.Start)
	if err != nil {
		return fmt.Errorf("results: create run %s: %w", r.ID, err)
	}
	return nil
}

// FinishRun records the end of a run: its status, summary and error.
func (d *DB) FinishRun(ctx context.Context, id, status string, ended time.Time, summary json.RawMessage, runErr string) error {
	var sum any
	if len(summary) > 0 {
		sum = string(summary)
	}
	res, err := d.sql.ExecContext(ctx, `UPDATE runs SET status = ?, ended_at_ns = ?, summary = ?, error = ? WHERE id = ?`,
		status, ended.UnixNano(), sum, runErr, id)
	if err != nil {
		return fmt.Errorf("results: finish run %s: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("results: finish run %s: no such run", id)
	}
	return nil
}

// CloseCrashed marks the run id, stored as running, as StatusCrashed with
// reason as its error, and changes nothing else: its end time stays
// unknown and every row measured before the crash is kept. It refuses a
// run that is not stored as running.
func (d *DB) CloseCrashed(ctx context.Context, id, reason string) error {
	res, err := d.sql.ExecContext(ctx, `UPDATE runs SET status = ?, error = ? WHERE id = ? AND status = ? AND ended_at_ns IS NULL`,
		StatusCrashed, reason, id, StatusRunning)
	if err != nil {
		return fmt.Errorf("results: close run %s: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		if _, err := d.GetRun(ctx, id); err != nil {
			return err
		}
		return fmt.Errorf("results: close run %s: it is not stored as running", id)
	}
	return nil
}
