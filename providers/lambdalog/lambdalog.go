// Package lambdalog parses the platform lines AWS Lambda appends to an
// invocation's log (the REPORT line with Duration, Billed Duration, Memory
// Size, Max Memory Used, Init Duration and Restore Duration), as returned in
// the Invoke API's LogResult with LogType Tail.
//
// Both of Lambda's log formats are understood: the default text format
// (TAB-separated "Name: value unit" fields after "REPORT RequestId: id") and
// the JSON format (a "platform.report" record). LogResult holds only the last
// 4 KB of the log, so the text before the REPORT record may be cut anywhere;
// the parser looks at whole lines only and uses the last REPORT record it
// finds. The functions here are pure and safe for concurrent use.
package lambdalog

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"

	"github.com/faas-benchmarker/faas-benchmarker/providers"
)

// ErrNoReport is returned when a log holds no REPORT record.
var ErrNoReport = errors.New("lambdalog: no REPORT record in log")

// Record is one parsed REPORT record.
type Record struct {
	// RequestID is the invocation's request id as printed in the record.
	RequestID string
	// Report holds the durations and memory figures. Optional values
	// (Init Duration, Restore Duration) are nil when absent.
	Report providers.Report
	// Status is the JSON format's record status ("success", "error",
	// "timeout", ...); empty for the text format.
	Status string
}

// ParseLogResult decodes a base64 LogResult (as returned by Lambda's Invoke
// with LogType Tail) and parses its last REPORT record.
func ParseLogResult(logResult string) (*Record, error) {
	raw, err := base64.StdEncoding.DecodeString(logResult)
	if err != nil {
		return nil, fmt.Errorf("lambdalog: decode LogResult: %w", err)
	}
	return Parse(string(raw))
}

// Parse returns the last REPORT record (text or JSON format) in log. It
// returns ErrNoReport when there is none, and an error describing the
// problem when the last REPORT record is malformed.
func Parse(log string) (*Record, error) {
	lines := strings.Split(log, "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		line := strings.TrimRight(lines[i], "\r")
		switch {
		case strings.HasPrefix(line, textPrefix):
			return parseText(line)
		case strings.HasPrefix(strings.TrimLeft(line, " \t"), "{") &&
			strings.Contains(line, `"platform.report"`):
			rec, ok, err := parseJSON(line)
			if ok {
				return rec, err
			}
		}
	}
	return nil, ErrNoReport
}

const textPrefix = "REPORT RequestId: "

// fieldRE matches one "Name: value unit" field of a text REPORT line. The
// alternation lists longer names first so "Billed Duration" is never read
// as "Duration"; matching starts at the leftmost position, so a field name
// is always taken whole.
var fieldRE = regexp.MustCompile(`(Billed Restore Duration|Restore Duration|Billed Duration|Init Duration|Max Memory Used|Memory Size|Duration): ([0-9]+(?:\.[0-9]+)?) ?(ms|MB)`)

func parseText(line string) (*Record, error) {
	rest := line[len(textPrefix):]
	id := rest
	if i := strings.IndexAny(rest, " \t"); i >= 0 {
		id = rest[:i]
		rest = rest[i:]
	} else {
		rest = ""
	}
	rec := &Record{RequestID: id}
	seen := map[string]bool{}
	for _, m := range fieldRE.FindAllStringSubmatch(rest, -1) {
		name, val, unit := m[1], m[2], m[3]
		if seen[name] {
			return nil, fmt.Errorf("lambdalog: REPORT field %q repeated", name)
		}
		seen[name] = true
		wantUnit := "ms"
		if name == "Max Memory Used" || name == "Memory Size" {
			wantUnit = "MB"
		}
		if unit != wantUnit {
			return nil, fmt.Errorf("lambdalog: REPORT field %q has unit %q, want %q", name, unit, wantUnit)
		}
		f, err := strconv.ParseFloat(val, 64)
		if err != nil || math.IsInf(f, 0) {
			return nil, fmt.Errorf("lambdalog: REPORT field %q: bad number %q", name, val)
		}
		switch name {
		case "Duration":
			rec.Report.DurationMS = f
		case "Billed Duration":
			rec.Report.BilledMS = f
		case "Memory Size", "Max Memory Used":
			n, err := toInt(f)
			if err != nil {
				return nil, fmt.Errorf("lambdalog: REPORT field %q: %w", name, err)
			}
			if name == "Memory Size" {
				rec.Report.MemorySizeMB = n
			} else {
				rec.Report.MaxMemoryUsedMB = n
			}
		case "Init Duration":
			rec.Report.InitDurationMS = &f
		case "Restore Duration":
			rec.Report.RestoreMS = &f
		case "Billed Restore Duration":
			// Not stored: billing detail of SnapStart restores.
		}
	}
	for _, name := range []string{"Duration", "Billed Duration", "Memory Size", "Max Memory Used"} {
		if !seen[name] {
			return nil, fmt.Errorf("lambdalog: REPORT line lacks %q", name)
		}
	}
	return rec, nil
}

func toInt(f float64) (int, error) {
	if f != math.Trunc(f) || f > math.MaxInt32 {
		return 0, fmt.Errorf("not a whole number of MB: %v", f)
	}
	return int(f), nil
}

type jsonReport struct {
	Type   string `json:"type"`
	Record struct {
		RequestID string `json:"requestId"`
		Status    string `json:"status"`
		Metrics   struct {
			DurationMS        *float64 `json:"durationMs"`
			BilledDurationMS  *float64 `json:"billedDurationMs"`
			MemorySizeMB      *float64 `json:"memorySizeMB"`
			MaxMemoryUsedMB   *float64 `json:"maxMemoryUsedMB"`
			InitDurationMS    *float64 `json:"initDurationMs"`
			RestoreDurationMS *float64 `json:"restoreDurationMs"`
		} `json:"metrics"`
	} `json:"record"`
}

// parseJSON parses a JSON-format line. ok is false when the line is not a
// complete platform.report record (for example a line cut at the front).
func parseJSON(line string) (rec *Record, ok bool, err error) {
	var j jsonReport
	if json.Unmarshal([]byte(line), &j) != nil || j.Type != "platform.report" {
		return nil, false, nil
	}
	m := j.Record.Metrics
	rec = &Record{RequestID: j.Record.RequestID, Status: j.Record.Status}
	required := []struct {
		name string
		v    *float64
	}{{"durationMs", m.DurationMS}, {"billedDurationMs", m.BilledDurationMS}, {"memorySizeMB", m.MemorySizeMB}, {"maxMemoryUsedMB", m.MaxMemoryUsedMB}}
	for _, r := range required {
		if r.v == nil {
			return nil, true, fmt.Errorf("lambdalog: platform.report lacks %q", r.name)
		}
		if *r.v < 0 {
			return nil, true, fmt.Errorf("lambdalog: platform.report %q is negative", r.name)
		}
	}
	rec.Report.DurationMS = *m.DurationMS
	rec.Report.BilledMS = *m.BilledDurationMS
	if rec.Report.MemorySizeMB, err = toInt(*m.MemorySizeMB); err != nil {
		return nil, true, fmt.Errorf("lambdalog: platform.report memorySizeMB: %w", err)
	}
	if rec.Report.MaxMemoryUsedMB, err = toInt(*m.MaxMemoryUsedMB); err != nil {
		return nil, true, fmt.Errorf("lambdalog: platform.report maxMemoryUsedMB: %w", err)
	}
	if m.InitDurationMS != nil && *m.InitDurationMS >= 0 {
		v := *m.InitDurationMS
		rec.Report.InitDurationMS = &v
	}
	if m.RestoreDurationMS != nil && *m.RestoreDurationMS >= 0 {
		v := *m.RestoreDurationMS
		rec.Report.RestoreMS = &v
	}
	return rec, true, nil
}
