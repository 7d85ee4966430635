package lambdalog

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"github.com/faas-benchmarker/faas-benchmarker/providers"
)

func f64(v float64) *float64 { return &v }

// Vectors from /work/shared/reference/lambda-report-lines.md.
const (
	coldText = "START RequestId: c793869b-ee49-115b-a5b6-4fd21e8dedac Version: $LATEST\n" +
		"END RequestId: c793869b-ee49-115b-a5b6-4fd21e8dedac\n" +
		"REPORT RequestId: c793869b-ee49-115b-a5b6-4fd21e8dedac\tDuration: 170.19 ms\tBilled Duration: 171 ms\tMemory Size: 128 MB\tMax Memory Used: 72 MB\tInit Duration: 196.77 ms\t\n"
	warmXRay = "REPORT RequestId: 8f507cfc-1234-4697-b07a-ac58fc914c95\tDuration: 3.27 ms\tBilled Duration: 4 ms\tMemory Size: 512 MB\tMax Memory Used: 19 MB\t\n" +
		"XRAY TraceId: 1-5e34a614-10bd1234f1fb44f07bc535a1\tSegmentId: 07f512342d1f6f85\tSampled: true\n"
	snapStart = "REPORT RequestId: 1c1a4f5e-0000-4000-8000-000000000001\tDuration: 12.01 ms\tBilled Duration: 450 ms\tMemory Size: 1024 MB\tMax Memory Used: 150 MB\tRestore Duration: 474.16 ms\tBilled Restore Duration: 437 ms"
	timedOut  = "2026-11-01T10:00:03.012Z 8f507cfc-1234-4697-b07a-ac58fc914c95 Task timed out after 3.00 seconds\n" +
		"END RequestId: 8f507cfc-1234-4697-b07a-ac58fc914c95\n" +
		"REPORT RequestId: 8f507cfc-1234-4697-b07a-ac58fc914c95\tDuration: 3000.00 ms\tBilled Duration: 3000 ms\tMemory Size: 128 MB\tMax Memory Used: 30 MB\t\n"
	exitError = "RequestId: 8f507cfc-1234-4697-b07a-ac58fc914c95 Error: Runtime exited with error: exit status 2\nRuntime.ExitError\n" +
		"END RequestId: 8f507cfc-1234-4697-b07a-ac58fc914c95\n" +
		"REPORT RequestId: 8f507cfc-1234-4697-b07a-ac58fc914c95\tDuration: 5.50 ms\tBilled Duration: 6 ms\tMemory Size: 128 MB\tMax Memory Used: 25 MB\tInit Duration: 40.00 ms\t\n"
	jsonCold = `{"time":"2026-11-01T10:00:00.000Z","type":"platform.start","record":{"requestId":"c793869b-ee49-115b-a5b6-4fd21e8dedac","version":"$LATEST"}}` + "\n" +
		`{"time":"2026-11-01T10:00:00.123Z","type":"platform.report","record":{"requestId":"c793869b-ee49-115b-a5b6-4fd21e8dedac","metrics":{"durationMs":170.19,"billedDurationMs":171,"memorySizeMB":128,"maxMemoryUsedMB":72,"initDurationMs":196.77},"status":"success"}}` + "\n"
	jsonWarm = `{"time":"2026-11-01T10:00:00.123Z","type":"platform.report","record":{"requestId":"r2","metrics":{"durationMs":1.5,"billedDurationMs":2,"memorySizeMB":256,"maxMemoryUsedMB":30,"newField":1},"status":"timeout","extra":{}}}`
)

func TestParse(t *testing.T) {
	tests := []struct {
		name    string
		log     string
		want    *Record
		wantErr error // nil: success; ErrNoReport: exactly that; errAny: some error
	}{
		// Cold start: Init Duration present.
		{"text cold", coldText, &Record{RequestID: "c793869b-ee49-115b-a5b6-4fd21e8dedac", Report: providers.Report{
			DurationMS: 170.19, BilledMS: 171, MemorySizeMB: 128, MaxMemoryUsedMB: 72, InitDurationMS: f64(196.77)}}, nil},
		// Warm start: Init Duration absent must stay nil; XRAY line after REPORT ignored.
		{"text warm xray", warmXRay, &Record{RequestID: "8f507cfc-1234-4697-b07a-ac58fc914c95", Report: providers.Report{
			DurationMS: 3.27, BilledMS: 4, MemorySizeMB: 512, MaxMemoryUsedMB: 19}}, nil},
		// SnapStart: Restore Duration, Billed Restore Duration not read as Billed Duration.
		{"text snapstart", snapStart, &Record{RequestID: "1c1a4f5e-0000-4000-8000-000000000001", Report: providers.Report{
			DurationMS: 12.01, BilledMS: 450, MemorySizeMB: 1024, MaxMemoryUsedMB: 150, RestoreMS: f64(474.16)}}, nil},
		// Timeout ending before REPORT.
		{"text timeout", timedOut, &Record{RequestID: "8f507cfc-1234-4697-b07a-ac58fc914c95", Report: providers.Report{
			DurationMS: 3000, BilledMS: 3000, MemorySizeMB: 128, MaxMemoryUsedMB: 30}}, nil},
		// Runtime exit error before REPORT.
		{"text exit error", exitError, &Record{RequestID: "8f507cfc-1234-4697-b07a-ac58fc914c95", Report: providers.Report{
			DurationMS: 5.5, BilledMS: 6, MemorySizeMB: 128, MaxMemoryUsedMB: 25, InitDurationMS: f64(40)}}, nil},
		// Tabs rendered as spaces (copied from a console) still parse.
		{"text spaces", strings.ReplaceAll(coldText, "\t", " "), &Record{RequestID: "c793869b-ee49-115b-a5b6-4fd21e8dedac", Report: providers.Report{
			DurationMS: 170.19, BilledMS: 171, MemorySizeMB: 128, MaxMemoryUsedMB: 72, InitDurationMS: f64(196.77)}}, nil},
		// CRLF line endings.
		{"text crlf", strings.ReplaceAll(coldText, "\n", "\r\n"), &Record{RequestID: "c793869b-ee49-115b-a5b6-4fd21e8dedac", Report: providers.Report{
			DurationMS: 170.19, BilledMS: 171, MemorySizeMB: 128, MaxMemoryUsedMB: 72, InitDurationMS: f64(196.77)}}, nil},
		// Log truncated at the front in the middle of a line, and the function printed a fake REPORT earlier: the last one wins.
		{"text truncated front", "ation: 99 ms\tBilled Duration: 99 ms\nREPORT RequestId: fake\tDuration: 1 ms\tBilled Duration: 1 ms\tMemory Size: 1 MB\tMax Memory Used: 1 MB\n" + coldText,
			&Record{RequestID: "c793869b-ee49-115b-a5b6-4fd21e8dedac", Report: providers.Report{
				DurationMS: 170.19, BilledMS: 171, MemorySizeMB: 128, MaxMemoryUsedMB: 72, InitDurationMS: f64(196.77)}}, nil},
		// JSON cold with init duration.
		{"json cold", jsonCold, &Record{RequestID: "c793869b-ee49-115b-a5b6-4fd21e8dedac", Status: "success", Report: providers.Report{
			DurationMS: 170.19, BilledMS: 171, MemorySizeMB: 128, MaxMemoryUsedMB: 72, InitDurationMS: f64(196.77)}}, nil},
		// JSON warm, unknown fields ignored, status kept.
		{"json warm", jsonWarm, &Record{RequestID: "r2", Status: "timeout", Report: providers.Report{
			DurationMS: 1.5, BilledMS: 2, MemorySizeMB: 256, MaxMemoryUsedMB: 30}}, nil},
		// JSON line cut at the front is skipped (no other report) -> no report.
		{"json truncated", jsonCold[40:strings.Index(jsonCold, "\n")], nil, ErrNoReport},
		// Empty log.
		{"empty", "", nil, ErrNoReport},
		// Only START/END.
		{"no report", "START RequestId: x Version: $LATEST\nEND RequestId: x\n", nil, ErrNoReport},
		// REPORT line missing Max Memory Used.
		{"text incomplete", "REPORT RequestId: x\tDuration: 1 ms\tBilled Duration: 1 ms\tMemory Size: 128 MB\n", nil, errAny},
		// Field repeated.
		{"text repeated", "REPORT RequestId: x\tDuration: 1 ms\tDuration: 2 ms\tBilled Duration: 1 ms\tMemory Size: 128 MB\tMax Memory Used: 1 MB\n", nil, errAny},
		// Wrong unit.
		{"text wrong unit", "REPORT RequestId: x\tDuration: 1 MB\tBilled Duration: 1 ms\tMemory Size: 128 MB\tMax Memory Used: 1 MB\n", nil, errAny},
		// Fractional memory.
		{"text fractional MB", "REPORT RequestId: x\tDuration: 1 ms\tBilled Duration: 1 ms\tMemory Size: 128.5 MB\tMax Memory Used: 1 MB\n", nil, errAny},
		// JSON record lacking a required metric.
		{"json incomplete", `{"type":"platform.report","record":{"requestId":"r","metrics":{"durationMs":1}}}`, nil, errAny},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(tt.log)
			switch {
			case tt.wantErr == nil && err != nil:
				t.Fatalf("Parse: unexpected error %v", err)
			case tt.wantErr == errAny && (err == nil || errors.Is(err, ErrNoReport)):
				t.Fatalf("Parse: error = %v, want a parse error", err)
			case tt.wantErr == ErrNoReport && !errors.Is(err, ErrNoReport):
				t.Fatalf("Parse: error = %v, want ErrNoReport", err)
			}
			if tt.want == nil {
				if got != nil {
					t.Fatalf("Parse = %+v, want nil", got)
				}
				return
			}
			assertRecord(t, got, tt.want)
		})
	}
}

var errAny = errors.New("any error")

func assertRecord(t *testing.T, got, want *Record) {
	t.Helper()
	if got == nil {
		t.Fatal("got nil record")
	}
	if got.RequestID != want.RequestID || got.Status != want.Status {
		t.Errorf("id/status = %q/%q, want %q/%q", got.RequestID, got.Status, want.RequestID, want.Status)
	}
	g, w := got.Report, want.Report
	if g.DurationMS != w.DurationMS || g.BilledMS != w.BilledMS || g.MemorySizeMB != w.MemorySizeMB || g.MaxMemoryUsedMB != w.MaxMemoryUsedMB {
		t.Errorf("report = %+v, want %+v", g, w)
	}
	if !eqPtr(g.InitDurationMS, w.InitDurationMS) {
		t.Errorf("InitDurationMS = %v, want %v", show(g.InitDurationMS), show(w.InitDurationMS))
	}
	if !eqPtr(g.RestoreMS, w.RestoreMS) {
		t.Errorf("RestoreMS = %v, want %v", show(g.RestoreMS), show(w.RestoreMS))
	}
}

func eqPtr(a, b *float64) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return *a == *b
}

func show(p *float64) any {
	if p == nil {
		return "nil"
	}
	return *p
}

func TestParseLogResult(t *testing.T) {
	// A 4 KB tail: lots of function output cut at the front, then the platform lines.
	long := strings.Repeat("function output line that is fairly long\n", 200) + coldText
	tail := long[len(long)-4096:]
	rec, err := ParseLogResult(base64.StdEncoding.EncodeToString([]byte(tail)))
	if err != nil {
		t.Fatalf("ParseLogResult: %v", err)
	}
	if rec.Report.InitDurationMS == nil || *rec.Report.InitDurationMS != 196.77 {
		t.Errorf("InitDurationMS = %v, want 196.77", show(rec.Report.InitDurationMS))
	}
	if _, err := ParseLogResult("not base64!"); err == nil {
		t.Error("ParseLogResult(bad base64): want error")
	}
}

func FuzzParseReport(f *testing.F) {
	for _, s := range []string{coldText, warmXRay, snapStart, timedOut, exitError, jsonCold, jsonWarm, "", "REPORT RequestId: "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, log string) {
		rec, err := Parse(log)
		if err != nil {
			if rec != nil {
				t.Fatalf("Parse returned both a record and error %v", err)
			}
			return
		}
		r := rec.Report
		if r.DurationMS < 0 || r.BilledMS < 0 || r.MemorySizeMB < 0 || r.MaxMemoryUsedMB < 0 {
			t.Fatalf("negative value in %+v", r)
		}
		if (r.InitDurationMS != nil && *r.InitDurationMS < 0) || (r.RestoreMS != nil && *r.RestoreMS < 0) {
			t.Fatalf("negative optional value in %+v", r)
		}
	})
}

func BenchmarkParseLogResult(b *testing.B) {
	long := strings.Repeat("function output line that is fairly long\n", 200) + coldText
	enc := base64.StdEncoding.EncodeToString([]byte(long[len(long)-4096:]))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseLogResult(enc); err != nil {
			b.Fatal(err)
		}
	}
}
