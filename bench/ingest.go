package main

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"time"

	"github.com/faas-benchmarker/faas-benchmarker/bench/measure"
	"github.com/faas-benchmarker/faas-benchmarker/results"
)

// ingestResult is the results-database write rate.
type ingestResult struct {
	Rows       int     `json:"rows"`
	Seconds    float64 `json:"seconds"`
	RowsPerSec float64 `json:"rows_per_s"`
	// CPUSeconds is the process's CPU time (user + system) over the same
	// span, writer and producer together; RowsPerCPUSec does not drop when
	// other processes compete for the cores.
	CPUSeconds    float64 `json:"cpu_s"`
	RowsPerCPUSec float64 `json:"rows_per_cpu_s"`
}

// measureIngest writes rows invocation records (each with a platform
// report and a raw lab response, like a Lambda run) through the results
// writer into a fresh database and times it, Close (the final flush)
// included.
func measureIngest(ctx context.Context, dir string, rows int) (*ingestResult, error) {
	db, err := results.Open(ctx, filepath.Join(dir, "ingest.db"))
	if err != nil {
		return nil, fmt.Errorf("ingest: %w", err)
	}
	defer db.Close()
	if err := db.CreateRun(ctx, results.Run{ID: "ingest", Experiment: "bench", Platform: "local", StartedAt: time.Now()}); err != nil {
		return nil, fmt.Errorf("ingest: %w", err)
	}
	raw := json.RawMessage(`{"schema_version":1,"function":"function1","request_id":"abc","instance":{"id":"0b7c","cold":false}}`)
	cold := false
	cpu0, err := measure.CPUTime()
	if err != nil {
		return nil, fmt.Errorf("ingest: %w", err)
	}
	start := time.Now()
	w := db.NewWriter(results.WriterConfig{})
	for i := 0; i < rows; i++ {
		if err := w.Add(results.Invocation{RunID: "ingest", Seq: int64(i + 1), Function: "function1", Status: results.InvOK,
			LatencyNS: 1234567, InstanceID: "0b7c5a7e-3f7e-4c55-9a3b-7f1e2d3c4b5a", Cold: &cold, Raw: raw,
			Report: &results.PlatformReport{DurationMS: 1.2, BilledMS: 2, MemorySizeMB: 128, MaxMemoryUsedMB: 20}}); err != nil {
			return nil, fmt.Errorf("ingest: %w", err)
		}
	}
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("ingest: %w", err)
	}
	d := time.Since(start)
	cpu1, err := measure.CPUTime()
	if err != nil {
		return nil, fmt.Errorf("ingest: %w", err)
	}
	cpu := (cpu1 - cpu0).Seconds()
	return &ingestResult{Rows: rows, Seconds: d.Seconds(), RowsPerSec: float64(rows) / d.Seconds(),
		CPUSeconds: cpu, RowsPerCPUSec: float64(rows) / cpu}, nil
}
