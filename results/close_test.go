package results

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/faas-benchmarker/faas-benchmarker/internal/runowner"
)

// TestCloseCrashedRuns: without ids only runs whose owner is gone are
// closed; a named run is refused when its owner is alive, when it cannot
// be checked (unless forced) and when it is not running.
func TestCloseCrashedRuns(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("owners are checked on Linux only")
	}
	ctx := context.Background()
	db := openTemp(t)
	dead, kill := childOwner(t)
	kill()
	for id, o := range map[string]runowner.Owner{"dead": dead, "alive": runowner.Self(), "unknown": {}} {
		if err := db.CreateRun(ctx, Run{ID: id, Experiment: "smoke", Platform: "local", StartedAt: time.Unix(100, 0), Owner: o}); err != nil {
			t.Fatal(err)
		}
	}
	now := time.Unix(200, 0)
	steps := []struct {
		name    string
		opts    CloseOptions
		closed  []string
		wantErr string
	}{
		{"crashed only", CloseOptions{}, []string{"dead"}, ""},
		{"named, not running", CloseOptions{IDs: []string{"dead"}}, nil, "not running"},
		{"named, alive", CloseOptions{IDs: []string{"alive"}, Force: true}, nil, "still running"},
		{"named, unknown", CloseOptions{IDs: []string{"unknown"}}, nil, "pass --force"},
		{"named, unknown, forced", CloseOptions{IDs: []string{"unknown"}, Force: true}, []string{"unknown"}, ""},
	}
	for _, s := range steps {
		s.opts.Now = now
		closed, err := db.CloseCrashedRuns(ctx, s.opts)
		if !slices.Equal(closed, s.closed) || (err == nil) != (s.wantErr == "") || err != nil && !strings.Contains(err.Error(), s.wantErr) {
			t.Errorf("%s: closed %v, err %v; want %v, %q", s.name, closed, err, s.closed, s.wantErr)
		}
	}
	for id, want := range map[string]string{"dead": "owner process is gone", "unknown": "with --force", "alive": ""} {
		r, err := db.GetRun(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if want == "" && r.StoredStatus != StatusRunning || want != "" && (r.StoredStatus != StatusCrashed || !strings.Contains(r.Error, want)) {
			t.Errorf("run %s: stored %s, error %q; want reason %q", id, r.StoredStatus, r.Error, want)
		}
	}
}

// TestStatusText: a running run reads as running with its pid when its
// owner is alive, as running on its host when that is another one, and
// as "running (or crashed)" when its owner cannot be checked; any other
// run reads as its status.
func TestStatusText(t *testing.T) {
	self := runowner.Self()
	elsewhere := runowner.Owner{Host: self.Host + "-elsewhere", PID: 1, Start: "x"}
	tests := []struct {
		r    Run
		want string
	}{
		{Run{Status: StatusOK}, StatusOK},
		{Run{Status: StatusRunning, EndedAt: time.Unix(1, 0)}, StatusRunning},
		{Run{Status: StatusRunning, Owner: elsewhere}, "running on " + elsewhere.Host},
		{Run{Status: StatusRunning}, "running (or crashed)"},
	}
	if runtime.GOOS == "linux" {
		tests = append(tests, struct {
			r    Run
			want string
		}{Run{Status: StatusRunning, Owner: self}, fmt.Sprintf("running (pid %d)", self.PID)})
	}
	for _, tt := range tests {
		if got := tt.r.StatusText(); got != tt.want {
			t.Errorf("StatusText(%+v) = %q, want %q", tt.r, got, tt.want)
		}
	}
}
