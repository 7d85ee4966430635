package cloudplan

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/faas-benchmarker/faas-benchmarker/experiments"
	"github.com/faas-benchmarker/faas-benchmarker/runner/session"
)

func encode(t *testing.T, v any) *bytes.Buffer {
	t.Helper()
	var b bytes.Buffer
	if err := json.NewEncoder(&b).Encode(v); err != nil {
		t.Fatal(err)
	}
	return &b
}

// TestReadPlan: a plan reads back as written; another format, another
// build or an unknown field is refused with what to do.
func TestReadPlan(t *testing.T) {
	p := Plan{Version: Version, Build: "v1 abc", Experiment: "cold-start", Params: map[string]string{"samples": "3"},
		Platform: "aws", StackSets: []string{"memory=512"}, DB: "/d/results.db", RunsDir: "/d/runs", TimeoutNS: 5 * time.Minute,
		LogLevel: "warn", Runner: Runner{State: "file:///s", ResultsRegion: "us-east-1"}}
	got, err := ReadPlan(encode(t, p), "v1 abc")
	if err != nil || !reflect.DeepEqual(got, p) {
		t.Fatalf("ReadPlan = %+v, %v; want %+v", got, err, p)
	}
	for _, tt := range []struct {
		name string
		in   *bytes.Buffer
		own  string
		want string
	}{
		{"format", encode(t, Plan{Version: Version + 1}), "", "plan format"},
		{"build", encode(t, Plan{Version: Version, Build: "v1 abc"}), "v2 def", `fbrun build "v1 abc" but this fbrun-cloud is build "v2 def"`},
		{"unknown field", bytes.NewBufferString(`{"version":1,"platfrom":"aws"}`), "", "unknown field"},
		{"raw arguments", bytes.NewBufferString(`experiment smoke --platform aws`), "", "reading the plan"},
	} {
		if _, err := ReadPlan(tt.in, tt.own); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want %q", tt.name, err, tt.want)
		}
	}
}

// TestOutcomeCarriesTheRun: the session outcome crosses intact; an
// outcome without a run has no session.
func TestOutcomeCarriesTheRun(t *testing.T) {
	start := time.Date(2026, 12, 6, 1, 2, 3, 0, time.UTC)
	s := &session.Outcome{RunID: "r1", Status: "failed", Estimates: experiments.Estimates{"p50_ms": 12.5}, Rows: 7,
		Started: start, Ended: start.Add(time.Minute), Err: errors.New("boom")}
	o := Outcome{Version: Version, Notes: []string{"stack: x"}, ExitCode: 3, Error: "teardown"}
	o.FromSession(s)
	back, err := ReadOutcome(encode(t, o))
	if err != nil {
		t.Fatal(err)
	}
	got := back.Session()
	if got == nil || got.RunID != "r1" || got.Status != "failed" || got.Estimates["p50_ms"] != 12.5 || got.Rows != 7 ||
		!got.Started.Equal(s.Started) || !got.Ended.Equal(s.Ended) || got.Err == nil || got.Err.Error() != "boom" {
		t.Errorf("session = %+v", got)
	}
	if back.Err() == nil || back.Err().Error() != "teardown" || back.ExitCode != 3 || len(back.Notes) != 1 {
		t.Errorf("outcome = %+v", back)
	}
	if (Outcome{Version: Version}).Session() != nil {
		t.Error("an outcome without a run has a session")
	}
	if _, err := ReadOutcome(encode(t, Outcome{Version: 9})); err == nil {
		t.Error("another outcome format accepted")
	}
}
