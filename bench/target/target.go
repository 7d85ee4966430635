// Package target is the minimal HTTP server the performance benchmark
// points both load generators (fbrun's engine and vegeta) at. It answers
// every request with a small lab-like JSON response (a lab.Response with
// schema_version 1, so the engine decodes it as it would a real lab
// function's) whose timing.start and timing.end are the handler's entry
// and exit on the server's clock, and reports the same handling time in the
// X-Server-Time-Ns header. Client overhead is then the tool's measured
// latency minus that server time.
//
// The query parameter delay (a Go duration, e.g. "50ms") makes the handler
// sleep before answering, so that a closed-loop attack holds a known number
// of requests in flight. Stall makes the whole server stop answering for a
// while, as a platform that pauses does.
package target

import (
	"io"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"
)

// ServerTimeHeader carries the handler's own handling time in nanoseconds.
const ServerTimeHeader = "X-Server-Time-Ns"

// MaxDelay bounds the delay a request may ask for.
const MaxDelay = 10 * time.Second

// Config configures a Handler.
type Config struct {
	// Function is reported as the response's function name (default
	// "function1").
	Function string
	// InstanceID is reported as instance.id (default a fixed UUID).
	InstanceID string
}

// Handler serves the target. It is safe for concurrent use.
type Handler struct {
	prefix, instance []byte
	seq              atomic.Int64
	// epoch is the handler's creation; stallEnd, when after it, is the end
	// of a stall as an offset from epoch (monotonic clock).
	epoch    time.Time
	stallEnd atomic.Int64
}

// New returns a Handler.
func New(cfg Config) *Handler {
	if cfg.Function == "" {
		cfg.Function = "function1"
	}
	if cfg.InstanceID == "" {
		cfg.InstanceID = "6f1c2a4e-0b7d-4c1e-9a55-3d2f1e0c9b8a"
	}
	return &Handler{
		epoch:  time.Now(),
		prefix: []byte(`{"schema_version":1,"function":"` + cfg.Function + `","request_id":"t-`),
		instance: []byte(`","depth":0,"instance":{"id":"` + cfg.InstanceID + `","cold":false,"invocation_count":1,` +
			`"init_started_at":0,"started_at":0,"boot_id":"bench","host_boot_time":0,"cgroup":"","hostname":"bench",` +
			`"cpu_model":"","cpus":0,"memory_limit_mb":128,"platform":"http","runtime":"go","platform_hint":"bench-target"},`),
	}
}

// Requests returns the number of requests served so far.
func (h *Handler) Requests() int64 { return h.seq.Load() }

// Stall makes every request that arrives within d from now wait until then
// before it is handled, as if the server were paused: no response leaves
// the target for d, and the waiting time is not part of the handling time
// the target reports.
func (h *Handler) Stall(d time.Duration) {
	h.stallEnd.Store(int64(time.Since(h.epoch) + d))
}

// waitStall holds a request until the current stall, if any, ends; false
// when the request was cancelled first.
func (h *Handler) waitStall(r *http.Request) bool {
	left := time.Duration(h.stallEnd.Load()) - time.Since(h.epoch)
	if left <= 0 {
		return true
	}
	t := time.NewTimer(left)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
		return false
	}
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !h.waitStall(r) {
		return
	}
	start := time.Now()
	if _, err := io.Copy(io.Discard, r.Body); err != nil {
		http.Error(w, "read body: "+err.Error(), http.StatusBadRequest)
		return
	}
	if d := r.URL.Query().Get("delay"); d != "" {
		delay, err := time.ParseDuration(d)
		if err != nil || delay < 0 || delay > MaxDelay {
			http.Error(w, "bad delay", http.StatusBadRequest)
			return
		}
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return
		}
	}
	seq := h.seq.Add(1)
	body := make([]byte, 0, 640)
	body = append(body, h.prefix...)
	body = strconv.AppendInt(body, seq, 10)
	body = append(body, h.instance...)
	end := time.Now()
	body = append(body, `"timing":{"start":`...)
	body = strconv.AppendInt(body, start.UnixNano(), 10)
	body = append(body, `,"end":`...)
	body = strconv.AppendInt(body, start.UnixNano()+int64(end.Sub(start)), 10)
	body = append(body, `,"sleep_ms":0},"error":null}`...)
	hdr := w.Header()
	hdr["Content-Type"] = []string{"application/json"}
	hdr[ServerTimeHeader] = []string{strconv.FormatInt(int64(end.Sub(start)), 10)}
	hdr["Content-Length"] = []string{strconv.Itoa(len(body))}
	_, _ = w.Write(body)
}
