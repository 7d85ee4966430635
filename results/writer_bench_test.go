package results

import (
	"context"
	"strings"
	"testing"
)

// TestWriterMultiRowChunks writes more rows than one multi-row INSERT holds,
// with platform reports on some rows and metrics in between, and reads
// everything back.
func TestWriterMultiRowChunks(t *testing.T) {
	ctx := context.Background()
	db := openTemp(t)
	newRun(t, db, "r1")
	w := db.NewWriter(WriterConfig{BatchSize: 150})
	const n = 3*rowsPerInsert + 7
	for i := 1; i <= n; i++ {
		inv := Invocation{RunID: "r1", Seq: int64(i), Function: "function1", Status: InvOK, LatencyNS: int64(i)}
		if i%3 == 0 {
			inv.Report = &PlatformReport{DurationMS: float64(i), BilledMS: 1, MemorySizeMB: 128, MaxMemoryUsedMB: 20}
		}
		if err := w.Add(inv); err != nil {
			t.Fatal(err)
		}
		if i%50 == 0 {
			if err := w.AddMetric(Metric{RunID: "r1", Name: "m", Value: float64(i)}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	got, err := db.Invocations(ctx, "r1")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != n {
		t.Fatalf("%d invocations, want %d", len(got), n)
	}
	for i, v := range got {
		seq := int64(i + 1)
		if v.Seq != seq || v.LatencyNS != seq {
			t.Fatalf("row %d: seq %d latency %d", i, v.Seq, v.LatencyNS)
		}
		if hasReport := v.Report != nil; hasReport != (seq%3 == 0) || (hasReport && v.Report.DurationMS != float64(seq)) {
			t.Fatalf("row %d: report %+v", i, v.Report)
		}
	}
	ms, err := db.Metrics(ctx, "r1", "m")
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != n/50 {
		t.Errorf("%d metrics, want %d", len(ms), n/50)
	}
}

// TestWriterDuplicateInChunk reports a failing multi-row INSERT with the
// range of sequence numbers it held, and writes nothing of that batch.
func TestWriterDuplicateInChunk(t *testing.T) {
	ctx := context.Background()
	db := openTemp(t)
	newRun(t, db, "r1")
	w := db.NewWriter(WriterConfig{})
	for _, seq := range []int64{1, 2, 3, 2} {
		if err := w.Add(Invocation{RunID: "r1", Seq: seq, Function: "f", Status: InvOK}); err != nil {
			t.Fatal(err)
		}
	}
	err := w.Close()
	if err == nil || !strings.Contains(err.Error(), "r1/1..2") {
		t.Fatalf("Close() = %v, want an error naming r1/1..2", err)
	}
	got, err := db.Invocations(ctx, "r1")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 0 {
		t.Errorf("%d invocations written from a failed batch", len(got))
	}
}
