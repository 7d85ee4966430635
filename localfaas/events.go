package localfaas

import (
	"slices"
	"sync"
	"time"
)

// EventKind is the kind of an instance lifecycle event.
type EventKind string

// Event kinds, in the order they happen to an instance.
const (
	// EventCreated: the platform spawned an instance process.
	EventCreated EventKind = "created"
	// EventInitDone: the instance became ready (Lambda runtime: its first
	// /next call; HTTP runtime: its port accepted a connection).
	// InitDurationMS is set.
	EventInitDone EventKind = "init_done"
	// EventInitError: the instance reported /runtime/init/error, exited or
	// timed out before it became ready. The instance is then evicted.
	EventInitError EventKind = "init_error"
	// EventInvoked: the instance received an invocation. Cold is true on
	// the instance's first invocation (its "first invocation" event).
	EventInvoked EventKind = "invoked"
	// EventEvicted: the instance was killed; Reason says why.
	EventEvicted EventKind = "evicted"
	// EventThrottled: an invocation was refused with 429; no instance.
	EventThrottled EventKind = "throttled"
)

// EvictReason says why an instance was evicted.
type EvictReason string

// Eviction reasons.
const (
	ReasonIdle         EvictReason = "idle"          // idle longer than the idle timeout
	ReasonLifetime     EvictReason = "lifetime"      // older than the max lifetime
	ReasonConfigUpdate EvictReason = "config_update" // the function's configuration changed
	ReasonCrash        EvictReason = "crash"         // the process exited on its own
	ReasonTimeout      EvictReason = "timeout"       // an invocation hit the function timeout
	ReasonInitError    EvictReason = "init_error"    // init failed or timed out
	ReasonShutdown     EvictReason = "shutdown"      // the platform closed
	ReasonDeleted      EvictReason = "deleted"       // the function was deleted
)

// Event is one instance lifecycle event: the ground truth experiments are
// checked against.
type Event struct {
	// Seq numbers events from 1 in the order they were recorded.
	Seq int64 `json:"seq"`
	// Time is when the event happened (platform clock). For evicted events
	// it is when the platform decided to kill the instance (or saw it exit),
	// so Seq order (recording order) may differ slightly from Time order.
	Time     time.Time `json:"time"`
	Kind     EventKind `json:"kind"`
	Function string    `json:"function"`
	// InstanceID is the platform's id of the instance; LogStream is its
	// AWS_LAMBDA_LOG_STREAM_NAME (the lab functions report it as
	// instance.platform_hint).
	InstanceID string `json:"instance_id,omitempty"`
	LogStream  string `json:"log_stream,omitempty"`
	PID        int    `json:"pid,omitempty"`
	// RequestID is set on invoked and throttled events.
	RequestID string `json:"request_id,omitempty"`
	// Cold is set on the first invoked event of an instance.
	Cold bool `json:"cold,omitempty"`
	// InitDurationMS is set on init_done events.
	InitDurationMS float64 `json:"init_duration_ms,omitempty"`
	// WaitMS is set on invoked events: how long the invocation waited in
	// the platform, from its receipt to its delivery to the instance
	// (acquiring an instance, and for a cold one spawning and initialising
	// it: what a cold start adds on the platform's side).
	WaitMS float64 `json:"wait_ms,omitempty"`
	// Reason is set on evicted events.
	Reason EvictReason `json:"reason,omitempty"`
	// Detail is a human-readable explanation (errors, exit status).
	Detail string `json:"detail,omitempty"`
}

// eventLog keeps every event in memory (about 300 bytes each). It is safe
// for concurrent use.
type eventLog struct {
	mu     sync.Mutex
	events []Event
	// changed is closed and replaced on every append, for waiters.
	changed chan struct{}
}

func newEventLog() *eventLog { return &eventLog{changed: make(chan struct{})} }

func (l *eventLog) add(e Event) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	e.Seq = int64(len(l.events)) + 1
	l.events = append(l.events, e)
	close(l.changed)
	l.changed = make(chan struct{})
}

// since returns a copy of the events with Seq > seq and a channel closed at
// the next append.
func (l *eventLog) since(seq int64) ([]Event, <-chan struct{}) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if seq < 0 {
		seq = 0
	}
	if seq >= int64(len(l.events)) {
		return nil, l.changed
	}
	return slices.Clone(l.events[seq:]), l.changed
}
