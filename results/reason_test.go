package results

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
)

// TestThrottleReasonStored: a throttled invocation keeps the platform's
// reason; a database from before the column (schema 3) is migrated, its
// rows read with no reason, and new rows store one.
func TestThrottleReasonStored(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "v3.db")
	raw, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at_ns INTEGER NOT NULL)`,
		migrations[0], migrations[1], migrations[2],
		`INSERT INTO schema_migrations VALUES (1, 0), (2, 0), (3, 0)`,
		`INSERT INTO runs (id, experiment, platform, started_at_ns, status) VALUES ('old', 'scaling', 'aws', 100, 'ok')`,
		`INSERT INTO invocations (run_id, seq, function, status, error_kind, http_status) VALUES ('old', 1, 'function2', 'error', 'throttled', 429)`,
	} {
		if _, err := raw.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	raw.Close()
	db, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	old, err := db.Invocations(ctx, "old")
	if err != nil || len(old) != 1 || old[0].ErrorKind != "throttled" || old[0].ErrorReason != "" {
		t.Fatalf("old rows %+v (%v)", old, err)
	}
	newRun(t, db, "r1")
	w := db.NewWriter(WriterConfig{})
	for seq, reason := range []string{"ConcurrentInvocationLimitExceeded", "FunctionInvocationRateLimitExceeded", ""} {
		if err := w.Add(Invocation{RunID: "r1", Seq: int64(seq + 1), Function: "function2", Status: InvError,
			ErrorKind: "throttled", ErrorReason: reason, HTTPStatus: 429, ScheduledNS: -1}); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	got, err := db.Invocations(ctx, "r1")
	if err != nil || len(got) != 3 {
		t.Fatalf("%d rows (%v)", len(got), err)
	}
	if got[0].ErrorReason != "ConcurrentInvocationLimitExceeded" || got[1].ErrorReason != "FunctionInvocationRateLimitExceeded" || got[2].ErrorReason != "" {
		t.Errorf("reasons %q %q %q", got[0].ErrorReason, got[1].ErrorReason, got[2].ErrorReason)
	}
}
