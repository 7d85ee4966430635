package target

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/faas-benchmarker/faas-benchmarker/functions/lab"
)

func TestHandler(t *testing.T) {
	h := New(Config{Function: "function2"})
	tests := []struct {
		name       string
		query      string
		wantStatus int
	}{
		{"plain", "", http.StatusOK},
		{"delay", "?delay=2ms", http.StatusOK},
		{"bad delay", "?delay=soon", http.StatusBadRequest},
		{"negative delay", "?delay=-1s", http.StatusBadRequest},
		{"too long delay", "?delay=1h", http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/function2"+tt.query, strings.NewReader(`{"sleep":0}`)))
			if rec.Code != tt.wantStatus {
				t.Fatalf("status %d, want %d: %s", rec.Code, tt.wantStatus, rec.Body)
			}
			if tt.wantStatus != http.StatusOK {
				return
			}
			var r lab.Response
			if err := json.Unmarshal(rec.Body.Bytes(), &r); err != nil {
				t.Fatalf("body is not a lab response: %v: %s", err, rec.Body)
			}
			if r.SchemaVersion != lab.SchemaVersion || r.Function != "function2" || r.Instance.ID == "" || r.Error != nil {
				t.Errorf("unexpected response %+v", r)
			}
			if r.Timing.Start <= 0 || r.Timing.End < r.Timing.Start {
				t.Errorf("timing %+v", r.Timing)
			}
			ns, err := strconv.ParseInt(rec.Header().Get(ServerTimeHeader), 10, 64)
			if err != nil || ns != r.Timing.End-r.Timing.Start {
				t.Errorf("%s = %q, want %d", ServerTimeHeader, rec.Header().Get(ServerTimeHeader), r.Timing.End-r.Timing.Start)
			}
			if tt.query != "" && time.Duration(ns) < 2*time.Millisecond {
				t.Errorf("server time %v does not include the 2ms delay", time.Duration(ns))
			}
			if rec.Header().Get("Content-Length") != strconv.Itoa(rec.Body.Len()) {
				t.Errorf("Content-Length %q for %d bytes", rec.Header().Get("Content-Length"), rec.Body.Len())
			}
		})
	}
	if got := h.Requests(); got != 2 {
		t.Errorf("Requests() = %d, want 2", got)
	}
}

func TestRequestIDsDiffer(t *testing.T) {
	h := New(Config{})
	seen := map[string]bool{}
	for i := 0; i < 3; i++ {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/", nil))
		var r lab.Response
		if err := json.Unmarshal(rec.Body.Bytes(), &r); err != nil {
			t.Fatal(err)
		}
		if seen[r.RequestID] {
			t.Fatalf("request id %q repeated", r.RequestID)
		}
		seen[r.RequestID] = true
	}
}

// TestStall: a request that arrives during a stall is answered only after
// it, and the stall is not counted in the handling time (timing.start is
// taken when the stall is over); one cancelled during the stall gets no
// answer.
func TestStall(t *testing.T) {
	h := New(Config{})
	before := time.Now()
	const stall = 30 * time.Millisecond
	h.Stall(stall)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/", nil))
	var resp lab.Response
	if err := json.Unmarshal(rec.Body.Bytes(), &resp); err != nil {
		t.Fatalf("response after the stall: %v (%q)", err, rec.Body.String())
	}
	if end := before.Add(stall).UnixNano(); resp.Timing.Start < end {
		t.Errorf("handled from %d, before the stall's end %d", resp.Timing.Start, end)
	}

	h.Stall(time.Hour)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/", nil).WithContext(ctx))
	if rec.Body.Len() != 0 || h.Requests() != 1 {
		t.Errorf("a request cancelled during the stall was answered: %q (%d served)", rec.Body.String(), h.Requests())
	}
}
