package results

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"testing"
	"time"
)

func ptr[T any](v T) *T { return &v }

func openTemp(t testing.TB) *DB {
	t.Helper()
	db, err := Open(context.Background(), filepath.Join(t.TempDir(), "sub", "r.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func newRun(t testing.TB, db *DB, id string) {
	t.Helper()
	err := db.CreateRun(context.Background(), Run{ID: id, Experiment: "smoke", Platform: "local",
		Params: map[string]string{"n": "3"}, StartedAt: time.Unix(100, 0)})
	if err != nil {
		t.Fatal(err)
	}
}

func TestRoundTrip(t *testing.T) {
	ctx := context.Background()
	db := openTemp(t)
	newRun(t, db, "r1")
	w := db.NewWriter(WriterConfig{BatchSize: 2})
	want := []Invocation{
		{RunID: "r1", Seq: 1, Function: "function1", Status: InvOK, ScheduledNS: -1, SentNS: 10, LatencyNS: 2000, Cold: ptr(true),
			InstanceID: "i-1", Report: &PlatformReport{DurationMS: 1.5, BilledMS: 2, MemorySizeMB: 128, MaxMemoryUsedMB: 20, InitDurationMS: ptr(12.5)},
			Raw: json.RawMessage(`{"function":"function1"}`)},
		{RunID: "r1", Seq: 2, ParentSeq: 1, Depth: 1, Function: "function2", Status: InvOK, ScheduledNS: -1, LatencyNS: 900, Cold: ptr(false)},
		{RunID: "r1", Seq: 3, Function: "function1", Status: InvError, ErrorKind: "throttled", HTTPStatus: 429, ScheduledNS: -1},
	}
	for _, v := range want {
		if err := w.Add(v); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.AddMetric(Metric{RunID: "r1", Name: "max_instances", Value: 4, Tags: map[string]string{"k": "v"}}); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.Add(want[0]); err == nil {
		t.Fatal("Add after Close succeeded")
	}
	got, err := db.Invocations(ctx, "r1")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("got %d invocations, want %d", len(got), len(want))
	}
	if got[0].Report == nil || got[0].Report.InitDurationMS == nil || *got[0].Report.InitDurationMS != 12.5 {
		t.Errorf("report not round-tripped: %+v", got[0].Report)
	}
	if got[1].Report != nil {
		t.Errorf("nested row got a report: %+v", got[1].Report)
	}
	if got[2].Cold != nil {
		t.Errorf("unknown cold flag became %v", *got[2].Cold)
	}
	if *got[0].Cold != true || *got[1].Cold != false || got[1].ParentSeq != 1 || got[2].ErrorKind != "throttled" {
		t.Errorf("fields not round-tripped: %+v", got)
	}
	if string(got[0].Raw) != `{"function":"function1"}` {
		t.Errorf("raw = %s", got[0].Raw)
	}
	ms, err := db.Metrics(ctx, "r1", "max_instances")
	if err != nil || len(ms) != 1 || ms[0].Value != 4 || ms[0].Tags["k"] != "v" {
		t.Fatalf("metrics = %+v, %v", ms, err)
	}
	if err := db.FinishRun(ctx, "r1", StatusOK, time.Unix(200, 0), json.RawMessage(`{"a":1}`), ""); err != nil {
		t.Fatal(err)
	}
	r, err := db.GetRun(ctx, "r1")
	if err != nil || r.Status != StatusOK || string(r.Summary) != `{"a":1}` || r.Params["n"] != "3" {
		t.Fatalf("run = %+v, %v", r, err)
	}
	if err := db.FinishRun(ctx, "nope", StatusOK, time.Now(), nil, ""); err == nil {
		t.Error("finishing an unknown run succeeded")
	}
}

func TestRunsFilter(t *testing.T) {
	ctx := context.Background()
	db := openTemp(t)
	newRun(t, db, "a")
	if err := db.CreateRun(ctx, Run{ID: "b", Experiment: "load", Platform: "aws", StartedAt: time.Unix(300, 0)}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		f    RunFilter
		want []string
		err  bool
	}{
		{"all", RunFilter{}, []string{"a", "b"}, false},
		{"experiment", RunFilter{Experiment: "load"}, []string{"b"}, false},
		{"platform", RunFilter{Platform: "local"}, []string{"a"}, false},
		{"since", RunFilter{Since: time.Unix(200, 0)}, []string{"b"}, false},
		{"ids", RunFilter{IDs: []string{"a"}}, []string{"a"}, false},
		{"unknown id", RunFilter{IDs: []string{"zzz"}}, nil, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			runs, err := db.Runs(ctx, tc.f)
			if (err != nil) != tc.err {
				t.Fatalf("err = %v", err)
			}
			var ids []string
			for _, r := range runs {
				ids = append(ids, r.ID)
			}
			if fmt.Sprint(ids) != fmt.Sprint(tc.want) {
				t.Errorf("ids = %v, want %v", ids, tc.want)
			}
		})
	}
}

func TestExportImportIdempotent(t *testing.T) {
	ctx := context.Background()
	src := openTemp(t)
	newRun(t, src, "r1")
	w := src.NewWriter(WriterConfig{})
	for i := 1; i <= 50; i++ {
		w.Add(Invocation{RunID: "r1", Seq: int64(i), Function: "function1", Status: InvOK, Report: &PlatformReport{DurationMS: 1}})
	}
	w.AddMetric(Metric{RunID: "r1", Name: "x", Value: 1})
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "run.db")
	if err := src.ExportRun(ctx, "r1", file); err != nil {
		t.Fatal(err)
	}
	if err := src.ExportRun(ctx, "r1", file); err == nil {
		t.Error("export over an existing file succeeded")
	}
	dst := openTemp(t)
	for i, wantAdded := range []int{1, 0} {
		added, err := dst.Import(ctx, file)
		if err != nil {
			t.Fatal(err)
		}
		if len(added) != wantAdded {
			t.Errorf("import %d added %v", i, added)
		}
		n, _ := dst.CountInvocations(ctx, "r1")
		if n != 50 {
			t.Errorf("import %d: %d invocations, want 50", i, n)
		}
		ms, _ := dst.Metrics(ctx, "r1", "")
		if len(ms) != 1 {
			t.Errorf("import %d: %d metrics, want 1", i, len(ms))
		}
	}
}

func TestReopenKeepsSchema(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "r.db")
	db, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	newRun(t, db, "x")
	db.Close()
	db, err = Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.GetRun(ctx, "x"); err != nil {
		t.Fatal(err)
	}
}

func TestOpenUnwritable(t *testing.T) {
	_, err := Open(context.Background(), "/proc/nope/r.db")
	if err == nil {
		t.Fatal("opening a database under /proc succeeded")
	}
}

// BenchmarkIngest measures the sustained invocation-row write rate through
// the Writer (target: at least 50,000 rows/s on a 2-core machine).
func BenchmarkIngest(b *testing.B) {
	db := openTemp(b)
	newRun(b, db, "bench")
	raw := json.RawMessage(`{"schema_version":1,"function":"function1","request_id":"abc","instance":{"id":"0b7c","cold":false}}`)
	b.ResetTimer()
	start := time.Now()
	w := db.NewWriter(WriterConfig{})
	for i := 0; i < b.N; i++ {
		w.Add(Invocation{RunID: "bench", Seq: int64(i + 1), Function: "function1", Status: InvOK, LatencyNS: 1234567,
			InstanceID: "0b7c5a7e-3f7e-4c55-9a3b-7f1e2d3c4b5a", Cold: ptr(false), Raw: raw,
			Report: &PlatformReport{DurationMS: 1.2, BilledMS: 2, MemorySizeMB: 128, MaxMemoryUsedMB: 20}})
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "rows/s")
}
