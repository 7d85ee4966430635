// Package lab holds the behaviour of the faas-benchmarker "lab" functions
// (function1, function2, function3 and monolith), written once and wrapped by
// thin per-platform adapters (Lambda runtime, Azure custom handler, OpenFaaS /
// plain HTTP).
//
// This file is the wire contract shared by the functions, the embedded local
// platform and the client: the request every function accepts and the
// response every function returns. The schema is versioned by SchemaVersion
// and documented in docs/lab-functions.md.
package lab

import "encoding/json"

// SchemaVersion is the version of the Response schema. Bump it on any
// incompatible change and document the change in docs/lab-functions.md.
const SchemaVersion = 1

// Platform names reported in Instance.Platform.
const (
	PlatformAWSLambda      = "aws-lambda"
	PlatformAzureFunctions = "azure-functions"
	PlatformOpenFaaS       = "openfaas"
	PlatformLocal          = "local"
	PlatformHTTP           = "http"
)

// Nested execution modes for Request.NestedMode.
const (
	NestedParallel   = "parallel"
	NestedSequential = "sequential"
)

// Request is the JSON body every lab function accepts. All fields are
// optional; unknown fields are ignored.
type Request struct {
	// StatusCode must be 200 when present; any other value makes the
	// function report an input error (kept for compatibility with the
	// predecessor's payloads).
	StatusCode *int `json:"StatusCode,omitempty"`
	// Sleep is the number of seconds to sleep (not busy) in the handler.
	Sleep float64 `json:"sleep,omitempty"`
	// ThroughputTime is the number of seconds of busy CPU work to do.
	ThroughputTime float64 `json:"throughput_time,omitempty"`
	// InvokeNested lists the nested invocations this function performs.
	InvokeNested []NestedCall `json:"invoke_nested,omitempty"`
	// NestedMode is NestedParallel (default) or NestedSequential.
	NestedMode string `json:"nested_mode,omitempty"`
	// RunFunction names a monolith workload (monolith only).
	RunFunction string `json:"run_function,omitempty"`
	// Args sizes the monolith workload.
	Args int `json:"args,omitempty"`
	// Seed makes the monolith workload deterministic.
	Seed int64 `json:"seed,omitempty"`

	// Depth is set by a calling lab function: 0 for a root request.
	Depth int `json:"depth,omitempty"`
	// Parent is the request id of the calling invocation, set by the caller.
	Parent string `json:"parent,omitempty"`
	// NestedBudget is the number of nested calls still allowed in this
	// request tree, set by the calling lab function. At the root (Depth 0)
	// 0 means "not set" (use the configured maximum) and a larger value is
	// clamped to it; at Depth > 0 the value is taken literally, so 0 means
	// "no nested calls left".
	NestedBudget int `json:"nested_budget,omitempty"`
}

// NestedCall is one nested invocation requested by the client.
type NestedCall struct {
	// FunctionName is the lab function to invoke (must be allowlisted).
	FunctionName string `json:"function_name"`
	// InvokePayload is the Request sent to that function.
	InvokePayload json.RawMessage `json:"invoke_payload,omitempty"`
}

// Response is the JSON body every lab function returns, on success and on
// error alike.
type Response struct {
	SchemaVersion int      `json:"schema_version"`
	Function      string   `json:"function"`
	RequestID     string   `json:"request_id"`
	Parent        string   `json:"parent,omitempty"`
	Depth         int      `json:"depth"`
	Instance      Instance `json:"instance"`
	Timing        Timing   `json:"timing"`
	// Result carries a monolith workload's result (nil otherwise).
	Result *WorkloadResult `json:"result,omitempty"`
	Nested []NestedResult  `json:"nested,omitempty"`
	Error  *Error          `json:"error"`
}

// Instance identifies the sandbox (process) and host that served a request.
type Instance struct {
	// ID is a UUID created once per process at init.
	ID string `json:"id"`
	// Cold is true only on the first invocation this instance serves.
	Cold bool `json:"cold"`
	// InvocationCount counts invocations served by this instance, this one included.
	InvocationCount int64 `json:"invocation_count"`
	// InitStartedAt is the process start time, epoch ns (function clock).
	InitStartedAt int64 `json:"init_started_at"`
	// InitStartedSource says how InitStartedAt was measured: "proc" (the
	// kernel's process start time from /proc/self/stat, 10 ms resolution)
	// or "runtime" (the lab package's initialisation, a fallback that
	// misses the Go runtime start-up).
	InitStartedSource string `json:"init_started_source,omitempty"`
	// StartedAt is when initialisation finished and the instance became ready, epoch ns.
	StartedAt int64  `json:"started_at"`
	BootID    string `json:"boot_id"`
	// HostBootTime is the host's boot time, epoch seconds (/proc/stat btime).
	HostBootTime  int64  `json:"host_boot_time"`
	Cgroup        string `json:"cgroup"`
	Hostname      string `json:"hostname"`
	CPUModel      string `json:"cpu_model"`
	CPUs          int    `json:"cpus"`
	MemoryLimitMB int    `json:"memory_limit_mb"`
	// MemoryLimitSource says where MemoryLimitMB came from: "env"
	// (platform or FB_MEMORY_MB), "cgroup" or "meminfo" (host total).
	MemoryLimitSource string `json:"memory_limit_source,omitempty"`
	Platform          string `json:"platform"`
	Runtime           string `json:"runtime"`
	// PlatformHint is the platform's own instance identifier
	// (AWS_LAMBDA_LOG_STREAM_NAME, CONTAINER_NAME or HOSTNAME).
	PlatformHint string `json:"platform_hint"`
}

// Timing is measured inside the function, on the function's clock.
type Timing struct {
	// Start and End are epoch ns at handler entry and exit.
	Start      int64       `json:"start"`
	End        int64       `json:"end"`
	SleepMS    float64     `json:"sleep_ms"`
	Throughput *Throughput `json:"throughput,omitempty"`
}

// Throughput reports the busy-CPU work done for throughput_time.
type Throughput struct {
	RequestedS float64 `json:"requested_s"`
	Iterations int64   `json:"iterations"`
	CPUS       float64 `json:"cpu_s"`
}

// WorkloadResult is what a monolith workload computed.
type WorkloadResult struct {
	Name     string          `json:"name"`
	Args     int             `json:"args"`
	Seed     int64           `json:"seed"`
	Checksum string          `json:"checksum"`
	Value    json.RawMessage `json:"value,omitempty"`
	// DurationNS is the monotonic time the workload ran.
	DurationNS int64 `json:"duration_ns"`
}

// NestedResult is one nested invocation as seen by the caller.
type NestedResult struct {
	FunctionName string `json:"function_name"`
	// SentAt and ReceivedAt are the caller's epoch ns around the call.
	SentAt     int64 `json:"sent_at"`
	ReceivedAt int64 `json:"received_at"`
	// DurationNS is the caller's monotonic duration of the call.
	DurationNS int64 `json:"duration_ns"`
	// Response is the callee's full response (nil if none could be decoded).
	Response *Response `json:"response,omitempty"`
	Error    *Error    `json:"error,omitempty"`
}

// Error kinds reported in Error.Kind.
const (
	ErrInput    = "input"    // the request was invalid
	ErrGuard    = "guard"    // a nested-call guard refused the request
	ErrNested   = "nested"   // a nested call failed
	ErrWorkload = "workload" // a workload failed or panicked
	ErrTimeout  = "timeout"  // the function ran out of time (context deadline)
	ErrInternal = "internal" // anything else
)

// Error describes why a request failed.
type Error struct {
	Kind    string `json:"kind"`
	Message string `json:"message"`
}

// Error implements the error interface.
func (e *Error) Error() string { return e.Kind + ": " + e.Message }
