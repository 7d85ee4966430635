package export

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"

	"github.com/faas-benchmarker/faas-benchmarker/results"
	"github.com/faas-benchmarker/faas-benchmarker/results/report/reporttest"
)

func fixture(t *testing.T) *results.DB {
	t.Helper()
	ctx := context.Background()
	db, err := results.Open(ctx, filepath.Join(t.TempDir(), "x.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := reporttest.Populate(ctx, db, reporttest.Config{}); err != nil {
		t.Fatal(err)
	}
	return db
}

// want returns the rows the export must contain, built from the database's
// own reader.
func want(t *testing.T, db *results.DB, id string) []InvocationRow {
	t.Helper()
	run, err := db.GetRun(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	invs, err := db.Invocations(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]InvocationRow, len(invs))
	for i := range invs {
		out[i] = invocationRow(run, &invs[i])
	}
	return out
}

func TestInvocationsAllFormatsRoundTrip(t *testing.T) {
	db := fixture(t)
	ctx := context.Background()
	const id = "run-cold-local-1"
	exp := want(t, db, id)
	if len(exp) != 302 {
		t.Fatalf("fixture has %d rows", len(exp))
	}
	for _, f := range Formats {
		t.Run(string(f), func(t *testing.T) {
			var buf bytes.Buffer
			n, err := Invocations(ctx, db, id, f, &buf)
			if err != nil {
				t.Fatal(err)
			}
			if n != int64(len(exp)) {
				t.Fatalf("wrote %d rows, want %d", n, len(exp))
			}
			var got []InvocationRow
			switch f {
			case JSONL:
				sc := bufio.NewScanner(&buf)
				for sc.Scan() {
					var r InvocationRow
					if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
						t.Fatal(err)
					}
					got = append(got, r)
				}
			case Parquet:
				got, err = parquet.Read[InvocationRow](bytes.NewReader(buf.Bytes()), int64(buf.Len()))
				if err != nil {
					t.Fatal(err)
				}
			case CSV:
				recs, err := csv.NewReader(&buf).ReadAll()
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(recs[0], columns[InvocationRow]()) {
					t.Fatalf("header %v", recs[0])
				}
				if len(recs)-1 != len(exp) {
					t.Fatalf("%d csv rows, want %d", len(recs)-1, len(exp))
				}
				for i, r := range recs[1:] {
					if !slices.Equal(r, csvRecord(exp[i])) {
						t.Fatalf("csv row %d = %v, want %v", i, r, csvRecord(exp[i]))
					}
				}
				// Null platform report and unknown cold flag are empty cells.
				last := recs[len(recs)-1]
				col := slices.Index(recs[0], "init_duration_ms")
				cold := slices.Index(recs[0], "cold")
				if last[col] != "" || last[cold] != "" {
					t.Fatalf("error row: init %q cold %q, want empty", last[col], last[cold])
				}
				return
			}
			if !reflect.DeepEqual(got, exp) {
				for i := range exp {
					if !reflect.DeepEqual(got[i], exp[i]) {
						t.Fatalf("row %d differs:\n got %+v\nwant %+v", i, got[i], exp[i])
					}
				}
				t.Fatalf("got %d rows, want %d", len(got), len(exp))
			}
		})
	}
}

func TestMetricsTagsColumns(t *testing.T) {
	db := fixture(t)
	var buf bytes.Buffer
	n, err := Metrics(context.Background(), db, "run-idle-local-1", CSV, &buf)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if n != 72 || len(recs) != 73 {
		t.Fatalf("n=%d, %d records", n, len(recs))
	}
	if got := strings.Join(recs[0], ","); got != "run_id,experiment,platform,name,value,phase,at_ns,tags_json,tag_burst,tag_gap_s,tag_idle_s" {
		t.Fatalf("header %s", got)
	}
	if recs[1][3] != "idle_probe" || recs[1][8] != "1" || recs[1][9] != "30" || recs[1][10] != "30" || recs[1][7] != `{"burst":"1","gap_s":"30","idle_s":"30"}` {
		t.Fatalf("first row %v", recs[1])
	}
	buf.Reset()
	if _, err := Metrics(context.Background(), db, "run-idle-local-1", JSONL, &buf); err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(bytes.SplitN(buf.Bytes(), []byte("\n"), 2)[0], &m); err != nil {
		t.Fatal(err)
	}
	if m["tag_gap_s"] != "30" || m["name"] != "idle_probe" {
		t.Fatalf("jsonl row %v", m)
	}
	buf.Reset()
	if _, err := Metrics(context.Background(), db, "run-idle-local-1", Parquet, &buf); err != nil {
		t.Fatal(err)
	}
	rows, err := parquet.Read[MetricRow](bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil || len(rows) != 72 || rows[0].TagsJSON != `{"burst":"1","gap_s":"30","idle_s":"30"}` {
		t.Fatalf("parquet rows %d err %v", len(rows), err)
	}
}

func TestErrors(t *testing.T) {
	db := fixture(t)
	if _, err := ParseFormat("xlsx"); err == nil {
		t.Error("xlsx accepted")
	}
	if f, err := ParseFormat("CSV"); err != nil || f != CSV {
		t.Errorf("ParseFormat(CSV) = %v, %v", f, err)
	}
	if _, err := Invocations(context.Background(), db, "nope", CSV, &bytes.Buffer{}); err == nil {
		t.Error("missing run accepted")
	}
}
