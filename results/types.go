// Package results stores experiment runs in SQLite (modernc.org/sqlite, no
// cgo): one row per run, one row per invocation (client-issued and nested),
// platform-reported durations, and free-form metrics that experiments record.
//
// Writes are streamed during the run in batched transactions (WAL mode), so a
// crash or Ctrl-C keeps every invocation completed before it. Every SQL
// statement uses placeholders; none is built from strings.
package results

import (
	"encoding/json"
	"time"

	"github.com/faas-benchmarker/faas-benchmarker/internal/runowner"
)

// Run statuses.
const (
	StatusRunning     = "running"
	StatusOK          = "ok"
	StatusFailed      = "failed"
	StatusInterrupted = "interrupted"
	// StatusCrashed is a run whose owner process died while it was
	// running: it reads so as soon as the owner is gone (see Run.Owner),
	// and is stored so once closed (DB.CloseCrashed).
	StatusCrashed = "crashed"
)

// Invocation statuses (Invocation.Status).
const (
	InvOK            = "ok"             // the function answered without error
	InvFunctionError = "function_error" // the platform delivered a function failure
	InvError         = "error"          // no function answer: see ErrorKind
)

// Run describes one execution of an experiment on one platform.
type Run struct {
	ID         string
	Experiment string
	Platform   string
	// Params are the experiment parameters after defaults were applied.
	Params map[string]string
	// PlatformConfig describes the platform as configured (memory, region,
	// local-platform knobs ...).
	PlatformConfig map[string]any
	ToolVersion    string
	GitCommit      string
	// ClientHost describes the machine that ran the client.
	ClientHost map[string]any
	StartedAt  time.Time
	EndedAt    time.Time // zero while running
	// Status is the stored status, except that a run stored as running
	// whose owner process is known to be gone reads as StatusCrashed.
	Status string
	// StoredStatus is the status as stored.
	StoredStatus string
	// Owner is the process that ran the run (zero in runs stored before
	// owners were recorded).
	Owner runowner.Owner
	// Summary is the experiment's machine-readable summary (estimates ...).
	Summary json.RawMessage
	// Error is the run's error message, when it failed.
	Error string
}

// ConfigPlan is the PlatformConfig key of the hosting plan a run measured
// (Azure: "flex" or "consumption"), recorded where a platform has more
// than one.
const ConfigPlan = "plan"

// PlatformLabel names the platform a run measured, for reports and
// comparisons: the platform name, followed by the hosting plan in
// parentheses when PlatformConfig records one ("azure (flex)"). Runs of
// one platform on different plans measure different things and must not
// be compared as one platform.
func (r Run) PlatformLabel() string { return r.WithPlan(r.Platform) }

// WithPlan returns name followed by the run's hosting plan in parentheses,
// or name alone when the run records no plan.
func (r Run) WithPlan(name string) string {
	if plan, _ := r.PlatformConfig[ConfigPlan].(string); plan != "" {
		return name + " (" + plan + ")"
	}
	return name
}

// Invocation is one invocation: issued by the client (Depth 0) or a nested
// call made by a lab function (Depth > 0, ParentSeq set).
//
// Client-clock values (monotonic offsets from the run start, and the client's
// wall clock) and function-clock values (epoch ns read inside the function on
// another machine) are kept in separate fields and must never be subtracted
// from each other without a clock-offset estimate.
type Invocation struct {
	RunID string
	// Seq numbers invocations within a run, from 1.
	Seq int64
	// ParentSeq is the Seq of the calling invocation (0 for client calls).
	ParentSeq int64
	Depth     int
	Phase     string
	Function  string
	Status    string
	// ErrorKind classifies failures (providers.Kind values, or a lab error
	// kind for function errors); empty on success.
	ErrorKind    string
	ErrorMessage string
	// ErrorReason is the platform's own reason for a refusal, when it
	// gave one: for a Lambda throttle its TooManyRequestsException Reason
	// (ConcurrentInvocationLimitExceeded, FunctionInvocationRateLimitExceeded,
	// ...). Empty otherwise, and in runs stored before it was recorded.
	ErrorReason string
	HTTPStatus  int

	// Client clock. For nested invocations these are zero except LatencyNS,
	// which is the caller function's own monotonic measurement.
	ScheduledNS int64 // planned send, offset from run start (-1: not scheduled)
	SentNS      int64 // actual send, offset from run start (monotonic)
	LatencyNS   int64 // round trip (monotonic)
	SentUnixNS  int64 // client wall clock at send
	ConnReused  bool  // sent on a connection that carried a request before
	// Setup of the connection opened for this request, which it waited for:
	// DNS lookup, TCP connect, TLS handshake. Zero when the request went out
	// on a connection that already existed (reused, or idle and unused).
	DNSNS     int64
	ConnectNS int64
	TLSNS     int64

	// Function clock (epoch ns inside the function).
	RequestID        string
	InstanceID       string
	Cold             *bool // nil when the response could not be decoded
	InvocationCount  int64
	FnInitStartedNS  int64
	FnStartNS        int64
	FnEndNS          int64
	CallerSentNS     int64 // nested only: the caller's clock at send
	CallerReceivedNS int64 // nested only: the caller's clock at receive
	BootID           string
	Hostname         string
	PlatformHint     string

	// Report holds platform-reported durations (nil when none).
	Report *PlatformReport
	// Raw is the function's raw response body (JSON), kept verbatim for
	// client invocations; nested rows keep their own sub-response.
	Raw json.RawMessage
}

// PlatformReport holds durations the platform reported (Lambda REPORT line).
type PlatformReport struct {
	DurationMS      float64
	BilledMS        float64
	MemorySizeMB    int
	MaxMemoryUsedMB int
	InitDurationMS  *float64
	RestoreMS       *float64
}

// Metric is a named value an experiment records (an estimate, a probe
// outcome, a gauge over time).
type Metric struct {
	RunID string
	Name  string
	Value float64
	// Tags qualify the value (e.g. {"gap_s": "30"}).
	Tags  map[string]string
	Phase string
	// AtNS is the offset from the run start (monotonic).
	AtNS int64
}
