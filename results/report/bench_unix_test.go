//go:build unix

package report

import (
	"context"
	"io"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/faas-benchmarker/faas-benchmarker/results"
	"github.com/faas-benchmarker/faas-benchmarker/results/report/reporttest"
)

// BenchmarkReport1M generates the full HTML report of one run with
// 1,000,000 client invocations (1 % cold with platform init reports). The
// database is written once, outside the timed loop (about a minute).
// Target: under 10 s per report on a 2-core machine.
func BenchmarkReport1M(b *testing.B) {
	ctx := context.Background()
	db, err := results.Open(ctx, filepath.Join(b.TempDir(), "large.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	start := time.Now()
	id, err := reporttest.PopulateLarge(ctx, db, 1_000_000, 1)
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("wrote 1,000,000 invocations in %s", time.Since(start).Round(time.Millisecond))
	// The machine is shared: besides wall time, report the process CPU time
	// per report (user+system), which does not grow when other processes
	// compete for the cores.
	cpu0 := cpuTime(b)
	b.ResetTimer()
	for b.Loop() {
		if err := Generate(ctx, db, Config{Filter: results.RunFilter{IDs: []string{id}}}, io.Discard); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric((cpuTime(b)-cpu0).Seconds()/float64(b.N), "cpu-s/op")
}

func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
