// Package export writes one run's invocations or metrics as flat tables for
// notebooks: CSV (RFC 4180, header row), JSON Lines (one object per line) or
// Apache Parquet (typed columns, nullable where the database is, Snappy
// compressed). Every format has the same columns in the same order (see
// InvocationRow and MetricRow); rows are streamed from the database, so
// exports of millions of invocations use little memory.
//
// Times: *_ns columns are integers in nanoseconds. Client-clock columns
// (scheduled_ns, sent_ns, latency_ns) are offsets from the run start on the
// client's monotonic clock; function-clock columns (fn_*_ns, caller_*_ns)
// are epoch nanoseconds read inside the function, on another machine: never
// subtract one from the other without a clock-offset estimate.
package export

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"github.com/parquet-go/parquet-go"

	"github.com/faas-benchmarker/faas-benchmarker/results"
)

// Format is an export file format.
type Format string

// Formats.
const (
	CSV     Format = "csv"
	JSONL   Format = "jsonl"
	Parquet Format = "parquet"
)

// Formats lists the supported formats.
var Formats = []Format{CSV, JSONL, Parquet}

// ParseFormat validates a format name.
func ParseFormat(s string) (Format, error) {
	for _, f := range Formats {
		if string(f) == strings.ToLower(s) {
			return f, nil
		}
	}
	return "", fmt.Errorf("export: unknown format %q (want csv, jsonl or parquet)", s)
}

// Tables that can be exported.
const (
	TableInvocations = "invocations"
	TableMetrics     = "metrics"
)

// InvocationRow is one exported invocation: the invocation, its platform
// report (null columns when the platform reported none) and the run's
// experiment and platform, so that exports of several runs concatenate.
type InvocationRow struct {
	RunID            string   `json:"run_id" parquet:"run_id"`
	Experiment       string   `json:"experiment" parquet:"experiment"`
	Platform         string   `json:"platform" parquet:"platform"`
	Seq              int64    `json:"seq" parquet:"seq"`
	ParentSeq        int64    `json:"parent_seq" parquet:"parent_seq"`
	Depth            int64    `json:"depth" parquet:"depth"`
	Phase            string   `json:"phase" parquet:"phase"`
	Function         string   `json:"function" parquet:"function"`
	Status           string   `json:"status" parquet:"status"`
	ErrorKind        string   `json:"error_kind" parquet:"error_kind"`
	ErrorMessage     string   `json:"error_message" parquet:"error_message"`
	ErrorReason      string   `json:"error_reason" parquet:"error_reason"`
	HTTPStatus       int64    `json:"http_status" parquet:"http_status"`
	ScheduledNS      int64    `json:"scheduled_ns" parquet:"scheduled_ns"`
	SentNS           int64    `json:"sent_ns" parquet:"sent_ns"`
	LatencyNS        int64    `json:"latency_ns" parquet:"latency_ns"`
	LatencyMS        float64  `json:"latency_ms" parquet:"latency_ms"`
	SentUnixNS       int64    `json:"sent_unix_ns" parquet:"sent_unix_ns"`
	ConnReused       bool     `json:"conn_reused" parquet:"conn_reused"`
	DNSNS            int64    `json:"dns_ns" parquet:"dns_ns"`
	ConnectNS        int64    `json:"connect_ns" parquet:"connect_ns"`
	TLSNS            int64    `json:"tls_ns" parquet:"tls_ns"`
	RequestID        string   `json:"request_id" parquet:"request_id"`
	InstanceID       string   `json:"instance_id" parquet:"instance_id"`
	Cold             *bool    `json:"cold" parquet:"cold,optional"`
	InvocationCount  int64    `json:"invocation_count" parquet:"invocation_count"`
	FnInitStartedNS  int64    `json:"fn_init_started_ns" parquet:"fn_init_started_ns"`
	FnStartNS        int64    `json:"fn_start_ns" parquet:"fn_start_ns"`
	FnEndNS          int64    `json:"fn_end_ns" parquet:"fn_end_ns"`
	CallerSentNS     int64    `json:"caller_sent_ns" parquet:"caller_sent_ns"`
	CallerReceivedNS int64    `json:"caller_received_ns" parquet:"caller_received_ns"`
	BootID           string   `json:"boot_id" parquet:"boot_id"`
	Hostname         string   `json:"hostname" parquet:"hostname"`
	PlatformHint     string   `json:"platform_hint" parquet:"platform_hint"`
	DurationMS       *float64 `json:"duration_ms" parquet:"duration_ms,optional"`
	BilledMS         *float64 `json:"billed_ms" parquet:"billed_ms,optional"`
	MemorySizeMB     *int64   `json:"memory_size_mb" parquet:"memory_size_mb,optional"`
	MaxMemoryUsedMB  *int64   `json:"max_memory_used_mb" parquet:"max_memory_used_mb,optional"`
	InitDurationMS   *float64 `json:"init_duration_ms" parquet:"init_duration_ms,optional"`
	RestoreMS        *float64 `json:"restore_ms" parquet:"restore_ms,optional"`
}

// MetricRow is one exported metric. Tags are a JSON object in a string
// column (tags_json) plus one column per tag key, named tag_<key>, in CSV
// and JSON Lines; Parquet keeps tags_json only (its schema is fixed).
type MetricRow struct {
	RunID      string  `json:"run_id" parquet:"run_id"`
	Experiment string  `json:"experiment" parquet:"experiment"`
	Platform   string  `json:"platform" parquet:"platform"`
	Name       string  `json:"name" parquet:"name"`
	Value      float64 `json:"value" parquet:"value"`
	Phase      string  `json:"phase" parquet:"phase"`
	AtNS       int64   `json:"at_ns" parquet:"at_ns"`
	TagsJSON   string  `json:"tags_json" parquet:"tags_json"`
}

func invocationRow(run results.Run, v *results.Invocation) InvocationRow {
	r := InvocationRow{
		RunID: v.RunID, Experiment: run.Experiment, Platform: run.Platform, Seq: v.Seq, ParentSeq: v.ParentSeq,
		Depth: int64(v.Depth), Phase: v.Phase, Function: v.Function, Status: v.Status, ErrorKind: v.ErrorKind,
		ErrorMessage: v.ErrorMessage, ErrorReason: v.ErrorReason, HTTPStatus: int64(v.HTTPStatus), ScheduledNS: v.ScheduledNS, SentNS: v.SentNS,
		LatencyNS: v.LatencyNS, LatencyMS: float64(v.LatencyNS) / 1e6, SentUnixNS: v.SentUnixNS, ConnReused: v.ConnReused,
		DNSNS: v.DNSNS, ConnectNS: v.ConnectNS, TLSNS: v.TLSNS, RequestID: v.RequestID, InstanceID: v.InstanceID,
		Cold: v.Cold, InvocationCount: v.InvocationCount, FnInitStartedNS: v.FnInitStartedNS, FnStartNS: v.FnStartNS,
		FnEndNS: v.FnEndNS, CallerSentNS: v.CallerSentNS, CallerReceivedNS: v.CallerReceivedNS, BootID: v.BootID,
		Hostname: v.Hostname, PlatformHint: v.PlatformHint,
	}
	if p := v.Report; p != nil {
		d, bm := p.DurationMS, p.BilledMS
		m, mx := int64(p.MemorySizeMB), int64(p.MaxMemoryUsedMB)
		r.DurationMS, r.BilledMS, r.MemorySizeMB, r.MaxMemoryUsedMB = &d, &bm, &m, &mx
		r.InitDurationMS, r.RestoreMS = p.InitDurationMS, p.RestoreMS
	}
	return r
}

// Invocations writes every invocation of run runID to w in format f and
// returns the number of rows written.
func Invocations(ctx context.Context, db *results.DB, runID string, f Format, w io.Writer) (int64, error) {
	run, err := db.GetRun(ctx, runID)
	if err != nil {
		return 0, err
	}
	out, err := newSink[InvocationRow](f, w, nil)
	if err != nil {
		return 0, err
	}
	var n int64
	err = db.EachInvocation(ctx, runID, results.InvocationOptions{}, func(v *results.Invocation) error {
		n++
		return out.write(invocationRow(run, v))
	})
	if err != nil {
		return n, fmt.Errorf("export: invocations of %s: %w", runID, err)
	}
	return n, out.close()
}

// Metrics writes every metric of run runID to w in format f and returns the
// number of rows written.
func Metrics(ctx context.Context, db *results.DB, runID string, f Format, w io.Writer) (int64, error) {
	run, err := db.GetRun(ctx, runID)
	if err != nil {
		return 0, err
	}
	ms, err := db.Metrics(ctx, runID, "")
	if err != nil {
		return 0, err
	}
	keySet := map[string]bool{}
	for _, m := range ms {
		for k := range m.Tags {
			keySet[k] = true
		}
	}
	tagKeys := make([]string, 0, len(keySet))
	for k := range keySet {
		tagKeys = append(tagKeys, k)
	}
	sort.Strings(tagKeys)
	out, err := newSink[MetricRow](f, w, tagKeys)
	if err != nil {
		return 0, err
	}
	for _, m := range ms {
		tags, err := json.Marshal(m.Tags)
		if err != nil {
			return 0, fmt.Errorf("export: metric tags: %w", err)
		}
		if m.Tags == nil {
			tags = []byte("{}")
		}
		row := MetricRow{RunID: runID, Experiment: run.Experiment, Platform: run.Platform, Name: m.Name, Value: m.Value,
			Phase: m.Phase, AtNS: m.AtNS, TagsJSON: string(tags)}
		out.tags = m.Tags
		if err := out.write(row); err != nil {
			return 0, err
		}
	}
	return int64(len(ms)), out.close()
}

// sink writes rows of type T in one format. tagKeys add tag_<key> columns
// (metrics in CSV and JSON Lines); tags holds the current row's tags.
type sink[T any] struct {
	format  Format
	bw      *bufio.Writer
	csv     *csv.Writer
	pq      *parquet.GenericWriter[T]
	batch   []T
	tagKeys []string
	tags    map[string]string
	cols    []string
}

const parquetBatch = 8192

func newSink[T any](f Format, w io.Writer, tagKeys []string) (*sink[T], error) {
	s := &sink[T]{format: f, tagKeys: tagKeys, cols: columns[T]()}
	switch f {
	case CSV:
		s.bw = bufio.NewWriterSize(w, 1<<16)
		s.csv = csv.NewWriter(s.bw)
		header := append([]string(nil), s.cols...)
		for _, k := range tagKeys {
			header = append(header, "tag_"+k)
		}
		if err := s.csv.Write(header); err != nil {
			return nil, fmt.Errorf("export: csv header: %w", err)
		}
	case JSONL:
		s.bw = bufio.NewWriterSize(w, 1<<16)
	case Parquet:
		s.pq = parquet.NewGenericWriter[T](w, parquet.Compression(&parquet.Snappy))
	default:
		return nil, fmt.Errorf("export: unknown format %q", f)
	}
	return s, nil
}

func (s *sink[T]) write(row T) error {
	switch s.format {
	case CSV:
		rec := csvRecord(row)
		for _, k := range s.tagKeys {
			rec = append(rec, s.tags[k])
		}
		if err := s.csv.Write(rec); err != nil {
			return fmt.Errorf("export: csv: %w", err)
		}
	case JSONL:
		b, err := jsonRecord(row, s.tagKeys, s.tags)
		if err != nil {
			return err
		}
		if _, err := s.bw.Write(append(b, '\n')); err != nil {
			return fmt.Errorf("export: jsonl: %w", err)
		}
	case Parquet:
		s.batch = append(s.batch, row)
		if len(s.batch) >= parquetBatch {
			return s.flushParquet()
		}
	}
	return nil
}

func (s *sink[T]) flushParquet() error {
	if len(s.batch) == 0 {
		return nil
	}
	if _, err := s.pq.Write(s.batch); err != nil {
		return fmt.Errorf("export: parquet: %w", err)
	}
	s.batch = s.batch[:0]
	return nil
}

func (s *sink[T]) close() error {
	switch s.format {
	case CSV:
		s.csv.Flush()
		if err := s.csv.Error(); err != nil {
			return fmt.Errorf("export: csv: %w", err)
		}
		return s.bw.Flush()
	case JSONL:
		return s.bw.Flush()
	case Parquet:
		if err := s.flushParquet(); err != nil {
			return err
		}
		if err := s.pq.Close(); err != nil {
			return fmt.Errorf("export: parquet: %w", err)
		}
	}
	return nil
}

// columns returns the json names of T's fields, in order.
func columns[T any]() []string {
	t := reflect.TypeFor[T]()
	out := make([]string, t.NumField())
	for i := range out {
		out[i] = strings.Split(t.Field(i).Tag.Get("json"), ",")[0]
	}
	return out
}

// csvRecord formats a row's fields: pointers nil → empty, floats in the
// shortest exact form, bools true/false.
func csvRecord(row any) []string {
	v := reflect.ValueOf(row)
	out := make([]string, v.NumField())
	for i := range out {
		f := v.Field(i)
		if f.Kind() == reflect.Pointer {
			if f.IsNil() {
				continue
			}
			f = f.Elem()
		}
		switch f.Kind() {
		case reflect.String:
			out[i] = f.String()
		case reflect.Int, reflect.Int64:
			out[i] = strconv.FormatInt(f.Int(), 10)
		case reflect.Float64:
			out[i] = strconv.FormatFloat(f.Float(), 'g', -1, 64)
		case reflect.Bool:
			out[i] = strconv.FormatBool(f.Bool())
		default:
			out[i] = fmt.Sprint(f.Interface())
		}
	}
	return out
}

// jsonRecord marshals row, adding tag_<key> members when tagKeys is set.
func jsonRecord(row any, tagKeys []string, tags map[string]string) ([]byte, error) {
	b, err := json.Marshal(row)
	if err != nil {
		return nil, fmt.Errorf("export: json: %w", err)
	}
	if len(tagKeys) == 0 {
		return b, nil
	}
	var extra strings.Builder
	for _, k := range tagKeys {
		v, ok := tags[k]
		if !ok {
			continue
		}
		kb, _ := json.Marshal("tag_" + k)
		vb, _ := json.Marshal(v)
		extra.WriteString("," + string(kb) + ":" + string(vb))
	}
	return append(b[:len(b)-1], []byte(extra.String()+"}")...), nil
}
