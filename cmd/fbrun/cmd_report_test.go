package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/faas-benchmarker/faas-benchmarker/results"
	"github.com/faas-benchmarker/faas-benchmarker/results/report/reporttest"
)

func fixtureDBPath(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "fixture.db")
	db, err := results.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := reporttest.Populate(context.Background(), db, reporttest.Config{}); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestReportAndExportCommands(t *testing.T) {
	dbPath := fixtureDBPath(t)
	dir := t.TempDir()
	html := filepath.Join(dir, "r.html")

	r := fbrun(t, "--db", dbPath, "report", "--experiment", "cold-start", "--since", "2026-03-01", "-o", html)
	if r.code != 0 || !strings.Contains(r.stderr, "3 run(s)") {
		t.Fatalf("report: code %d stderr %s", r.code, r.stderr)
	}
	b, err := os.ReadFile(html)
	if err != nil || !strings.Contains(string(b), "Compare: cold-start") || strings.Contains(string(b), "idle-timeout on") {
		t.Fatalf("report content wrong (err %v, %d bytes)", err, len(b))
	}
	r = fbrun(t, "--db", dbPath, "report", "run-idle-local-1", "-o", html)
	if r.code != 0 {
		t.Fatalf("report by id: %d %s", r.code, r.stderr)
	}
	if r = fbrun(t, "--db", dbPath, "report", "--platform", "nowhere", "-o", html); r.code == 0 || !strings.Contains(r.stderr, "no runs match") {
		t.Fatalf("empty selection: code %d stderr %s", r.code, r.stderr)
	}
	if r = fbrun(t, "--db", dbPath, "report", "--since", "March", "-o", html); r.code != 2 {
		t.Fatalf("bad --since: code %d", r.code)
	}

	r = fbrun(t, "--db", dbPath, "export", "run-cold-local-1", "--format", "csv")
	if r.code != 0 || strings.Count(r.stdout, "\n") != 303 || !strings.HasPrefix(r.stdout, "run_id,experiment,platform,seq,") {
		t.Fatalf("csv export: code %d, %d lines, stderr %s", r.code, strings.Count(r.stdout, "\n"), r.stderr)
	}
	r = fbrun(t, "--db", dbPath, "export", "run-idle-local-1", "--table", "metrics", "--format", "jsonl")
	if r.code != 0 || strings.Count(r.stdout, "\n") != 72 || !strings.Contains(r.stdout, `"tag_gap_s":"30"`) {
		t.Fatalf("jsonl metrics export: code %d stderr %s", r.code, r.stderr)
	}
	pq := filepath.Join(dir, "x.parquet")
	if r = fbrun(t, "--db", dbPath, "export", "run-cold-local-1", "--format", "parquet", "-o", pq); r.code != 0 {
		t.Fatalf("parquet export: %d %s", r.code, r.stderr)
	}
	if b, err := os.ReadFile(pq); err != nil || string(b[:4]) != "PAR1" {
		t.Fatalf("parquet file: %v", err)
	}
	if r = fbrun(t, "--db", dbPath, "export", "run-cold-local-1", "--format", "parquet"); r.code != 2 {
		t.Fatalf("parquet to stdout: code %d", r.code)
	}
	r = fbrun(t, "--db", dbPath, "export", "run-cold-local-1", "run-load-local-1", "--latex")
	if r.code != 0 || strings.Count(r.stdout, `\begin{tabular}`) != 4 {
		t.Fatalf("latex: code %d stderr %s", r.code, r.stderr)
	}
	if r = fbrun(t, "--db", dbPath, "export", "missing", "--format", "csv"); r.code == 0 {
		t.Fatal("missing run exported")
	}
}
