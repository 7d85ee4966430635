package results

import (
	"context"
	"database/sql"
	"fmt"
	"os"
)

// dataTables are copied by ExportRun and Import, parents first.
// RunFilePrefix is the object-key prefix under which per-run results files
// (ExportRun) are shipped to a bucket: "runs/<stack name>.sqlite". The
// runner ships there and `fbrun results pull` reads from there.
const RunFilePrefix = "runs/"

var dataTables = []string{"runs", "invocations", "platform_reports", "metrics"}

// ExportRun writes one run (with all its rows) to a new standalone database
// file at path, which must not exist yet. The file is what the runner ships
// to blob storage.
func (d *DB) ExportRun(ctx context.Context, runID, path string) error {
	if _, err := d.GetRun(ctx, runID); err != nil {
		return err
	}
	if _, err := os.Stat(path); err == nil {
		return fmt.Errorf("results: export %s: %s already exists", runID, path)
	}
	dst, err := Open(ctx, path)
	if err != nil {
		return err
	}
	if err := dst.Close(); err != nil {
		return err
	}
	return d.withAttached(ctx, path, func(conn *sql.Conn) error {
		for _, t := range dataTables {
			// Table names come from the fixed list above, never from input.
			q := `INSERT INTO other.` + t + ` SELECT * FROM main.` + t + ` WHERE ` + runKey(t) + ` = ?`
			if _, err := conn.ExecContext(ctx, q, runID); err != nil {
				return fmt.Errorf("results: export %s table %s: %w", runID, t, err)
			}
		}
		return nil
	})
}

// Import merges every run of the database file at path into d. It is
// idempotent: rows already present (same run id and sequence number) are
// left alone, so importing the same file twice adds nothing. It returns the
// ids of the runs that were new.
func (d *DB) Import(ctx context.Context, path string) ([]string, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("results: import: %w", err)
	}
	src, err := Open(ctx, path) // brings an older file's schema up to date
	if err != nil {
		return nil, err
	}
	if err := src.Close(); err != nil {
		return nil, err
	}
	var added []string
	err = d.withAttached(ctx, path, func(conn *sql.Conn) error {
		rows, err := conn.QueryContext(ctx, `SELECT id FROM other.runs WHERE id NOT IN (SELECT id FROM main.runs)`)
		if err != nil {
			return fmt.Errorf("results: import %s: %w", path, err)
		}
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return err
			}
			added = append(added, id)
		}
		rows.Close()
		for _, t := range dataTables {
			if _, err := conn.ExecContext(ctx, `INSERT OR IGNORE INTO main.`+t+` SELECT * FROM other.`+t); err != nil {
				return fmt.Errorf("results: import %s table %s: %w", path, t, err)
			}
		}
		return nil
	})
	return added, err
}

func runKey(table string) string {
	if table == "runs" {
		return "id"
	}
	return "run_id"
}

// withAttached runs fn on one connection with the file at path attached as
// schema "other", inside a transaction.
func (d *DB) withAttached(ctx context.Context, path string, fn func(*sql.Conn) error) error {
	conn, err := d.sql.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `ATTACH DATABASE ? AS other`, path); err != nil {
		return fmt.Errorf("results: attach %s: %w", path, err)
	}
	defer conn.ExecContext(context.Background(), `DETACH DATABASE other`)
	if _, err := conn.ExecContext(ctx, `BEGIN IMMEDIATE`); err != nil {
		return fmt.Errorf("results: begin: %w", err)
	}
	if err := fn(conn); err != nil {
		conn.ExecContext(context.Background(), `ROLLBACK`)
		return err
	}
	if _, err := conn.ExecContext(ctx, `COMMIT`); err != nil {
		return fmt.Errorf("results: commit: %w", err)
	}
	return nil
}
