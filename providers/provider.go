// Package providers defines how the client invokes a deployed lab function on
// a FaaS platform. Each platform lives in its own sub-package (aws, azure,
// openfaas, http, local) with a Config, a constructor and errors prefixed with
// the platform name.
//
// The core interface is deliberately tiny: Invoker invokes a function once.
// Optional capabilities (forcing a cold start) are separate small interfaces
// that a provider may implement; callers discover them with a type assertion.
//
// Timing is not the provider's job: the engine measures latency around
// Invoke with the monotonic clock and learns which connection a request went
// out on through an httptrace.ClientTrace placed in the context, so every
// provider must pass ctx down to its HTTP requests (the AWS SDK does). The
// setup of a new connection is timed once, by the connection itself (see
// ConnSetup); every provider here gets that from its shared transport.
package providers

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// ConnSetup is implemented by the connections a provider's transport opens:
// how long the new connection's DNS lookup and TCP connect took (zero for a
// step that did not happen, such as DNS for an IP address). The engine reads
// it from the connection a request was sent on (httptrace.GotConnInfo.Conn,
// unwrapped through NetConn for TLS) when that connection was opened for the
// request, so that timing connection setup costs nothing on the requests
// that reuse one. A connection that does not implement it is recorded with
// zero DNS and connect times.
type ConnSetup interface {
	SetupTimes() (dns, connect time.Duration)
}

// Invoker invokes a deployed function once. Implementations must be safe for
// concurrent use and must reuse connections (one shared, tuned transport).
type Invoker interface {
	// Platform returns the platform name, e.g. "aws" or "local".
	Platform() string
	// Invoke sends payload (a JSON lab.Request) to function and returns the
	// platform's reply. A function-level failure that the platform
	// delivered (HTTP 5xx from the function, Lambda Unhandled) is returned
	// as a Reply with FunctionError set and a nil error, so that the body
	// is kept; every other failure is an *Error.
	Invoke(ctx context.Context, function string, payload []byte) (*Reply, error)
}

// ColdStarter is implemented by providers that can make the next invocation
// of a function cold the platform's own way (Lambda configuration update,
// OpenFaaS scale to zero, ...). ForceColdStart returns once the platform
// reports the change as complete.
type ColdStarter interface {
	ForceColdStart(ctx context.Context, function string) error
}

// Preconnector is implemented by providers that can open connections to a
// function's endpoint without invoking it. Preconnect leaves at least n
// idle connections in the provider's pool (as far as the platform lets it
// open them), so that the next n concurrent invocations start together
// instead of one handshake apart: a cold burst measures cold starts, not
// connection set-up.
type Preconnector interface {
	Preconnect(ctx context.Context, function string, n int) error
}

// MemorySetter is implemented by providers that can change a function's
// memory size (Lambda UpdateFunctionConfiguration). SetMemory returns once
// the platform reports the update complete; like any configuration update
// it retires the function's instances, so the next invocation is cold.
type MemorySetter interface {
	SetMemory(ctx context.Context, function string, memoryMB int) error
}

// ArchitectureReader is implemented by providers that can tell which
// instruction set a deployed function runs on (Lambda: "arm64" or
// "x86_64"), which Lambda prices differently.
type ArchitectureReader interface {
	Architecture(ctx context.Context, function string) (string, error)
}

// ConcurrencyLimits are the limits on a function's concurrent executions
// that its platform account imposes (Lambda: GetAccountSettings'
// AccountLimit and the function's reserved concurrency).
type ConcurrencyLimits struct {
	// Account is the account's concurrent executions in the region
	// (Lambda AccountLimit.ConcurrentExecutions).
	Account int
	// Unreserved is the pool every function without reserved concurrency
	// shares (AccountLimit.UnreservedConcurrentExecutions).
	Unreserved int
	// Reserved is the function's reserved concurrency when HasReserved.
	Reserved    int
	HasReserved bool
}

// Limit is the most executions the function can have at once: its
// reserved concurrency when it has one, else the unreserved pool.
func (l ConcurrencyLimits) Limit() int {
	if l.HasReserved {
		return l.Reserved
	}
	return l.Unreserved
}

// ConcurrencyLimiter is implemented by providers that can read the
// concurrency limits that apply to a function.
type ConcurrencyLimiter interface {
	ConcurrencyLimits(ctx context.Context, function string) (ConcurrencyLimits, error)
}

// Describer is implemented by providers that read facts about the running
// deployment which its configuration cannot vouch for (OpenFaaS: the
// gateway's edition from GET /system/info). The session calls Describe
// before it stores the run and records the keys it returns in the run's
// platform description; an error fails the run before it starts.
type Describer interface {
	Describe(ctx context.Context) (map[string]any, error)
}

// Reply is what the platform returned for one invocation.
type Reply struct {
	// StatusCode is the HTTP status of the invoke call.
	StatusCode int
	// Body is the function's response body (a JSON lab.Response).
	Body []byte
	// FunctionError is non-empty when the platform reports the function
	// failed (Lambda X-Amz-Function-Error, HTTP 4xx/5xx from the function).
	FunctionError string
	// RequestID is the platform's request id, when it reports one.
	RequestID string
	// Report holds platform-reported durations, nil when unavailable.
	Report *Report
}

// Report holds durations the platform itself reports (Lambda REPORT line).
// Optional values are pointers: nil means "not present", never 0.
type Report struct {
	DurationMS      float64
	BilledMS        float64
	MemorySizeMB    int
	MaxMemoryUsedMB int
	InitDurationMS  *float64
	RestoreMS       *float64
}

// Kind classifies an invocation failure.
type Kind string

// Failure kinds. Records store them as strings, so never rename one.
const (
	KindThrottled Kind = "throttled" // platform refused for concurrency (HTTP 429)
	KindTimeout   Kind = "timeout"   // client or platform timeout
	KindTransport Kind = "transport" // connection refused, reset, DNS, TLS ...
	KindNotFound  Kind = "not_found" // unknown function
	KindAuth      Kind = "auth"      // bad or missing credentials
	KindHTTP      Kind = "http"      // any other unexpected HTTP status
	KindCanceled  Kind = "canceled"  // the caller's context was cancelled
)

// Error is a classified invocation failure. Its message is prefixed with the
// platform name and never contains credentials.
type Error struct {
	Platform   string
	Kind       Kind
	StatusCode int
	// Reason is the platform's own reason for a refusal, when it gives
	// one: for a Lambda throttle the TooManyRequestsException Reason
	// (ConcurrentInvocationLimitExceeded, FunctionInvocationRateLimitExceeded,
	// ReservedFunctionConcurrentInvocationLimitExceeded, ...).
	Reason  string
	Message string
	Err     error
}

// Error implements error.
func (e *Error) Error() string {
	msg := e.Message
	if msg == "" && e.Err != nil {
		msg = e.Err.Error()
	}
	if e.StatusCode != 0 {
		return fmt.Sprintf("%s: %s (HTTP %d): %s", e.Platform, e.Kind, e.StatusCode, msg)
	}
	return fmt.Sprintf("%s: %s: %s", e.Platform, e.Kind, msg)
}

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

// KindOf returns the Kind of err, or "" when err is not an *Error.
func KindOf(err error) Kind {
	var pe *Error
	if errors.As(err, &pe) {
		return pe.Kind
	}
	return ""
}
