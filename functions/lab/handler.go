package lab

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"slices"
	"time"
)

// Invoker performs one nested invocation of another lab function the
// platform's own way (AWS SDK Invoke, HTTP POST ...). function is the lab
// name ("function2"); the adapter maps it to the deployed name or URL.
// When the callee ran but failed, Invoke returns its body (the callee's
// lab Response, when the platform delivered one) together with a non-nil
// error. Implementations must be safe for concurrent use.
type Invoker interface {
	Invoke(ctx context.Context, function string, payload []byte) ([]byte, error)
}

// Workloads runs the monolith's named workloads. Validate is called before
// any work starts (its error is an input error); Run does the work and
// returns a checksum of the result and a small JSON summary.
// Implementations must be safe for concurrent use.
type Workloads interface {
	Validate(name string, args int) error
	Run(ctx context.Context, name string, args int, seed int64) (checksum string, value json.RawMessage, err error)
}

// Guards protect against recursion bombs in nested invocations. Zero
// fields select defaults.
type Guards struct {
	// MaxDepth is the deepest nesting level a call may create: a request
	// at depth d may call others only when d+1 <= MaxDepth. 0 means
	// DefaultMaxDepth.
	MaxDepth int
	// MaxNestedCalls is the total number of nested calls allowed in one
	// root request's whole call tree. 0 means DefaultMaxNestedCalls.
	MaxNestedCalls int
	// Allowed lists the lab functions nested calls may target. nil means
	// Names().
	Allowed []string
}

func (g Guards) withDefaults() Guards {
	if g.MaxDepth <= 0 {
		g.MaxDepth = DefaultMaxDepth
	}
	if g.MaxNestedCalls <= 0 {
		g.MaxNestedCalls = DefaultMaxNestedCalls
	}
	if g.Allowed == nil {
		g.Allowed = Names()
	}
	return g
}

// Config configures a Handler.
type Config struct {
	// Function is the lab name reported in Response.Function.
	Function string
	// Sandbox is the process identity shared by every Handler of the
	// process. Required.
	Sandbox *Sandbox
	// Invoker performs nested calls; nil makes every nested call fail
	// with a guard error.
	Invoker Invoker
	// Workloads runs run_function; nil (function1/2/3) makes run_function
	// an input error.
	Workloads Workloads
	// Guards bound nested calls.
	Guards Guards
	// Limits bound request values.
	Limits Limits
	// Logger receives errors; nil means slog.Default().
	Logger *slog.Logger
}

// Handler is the platform-independent lab function. It is safe for
// concurrent use.
type Handler struct {
	cfg Config
}

// New returns a Handler for cfg.
func New(cfg Config) (*Handler, error) {
	if cfg.Function == "" {
		return nil, errors.New("lab: Config.Function is empty")
	}
	if cfg.Sandbox == nil {
		return nil, errors.New("lab: Config.Sandbox is nil")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	cfg.Guards = cfg.Guards.withDefaults()
	cfg.Limits = cfg.Limits.withDefaults()
	return &Handler{cfg: cfg}, nil
}

// Function returns the lab name this handler serves.
func (h *Handler) Function() string { return h.cfg.Function }

// Handle serves one invocation: body is the request JSON, requestID the
// platform's request id. It always returns a Response; Response.Error is
// set when the invocation failed (adapters turn it into the platform's
// failure signal too). Panics anywhere in the invocation are recovered and
// reported as errors. The context's deadline, if any, is treated as the
// function's remaining time.
func (h *Handler) Handle(ctx context.Context, requestID string, body []byte) (resp *Response) {
	start := time.Now()
	resp = &Response{
		SchemaVersion: SchemaVersion,
		Function:      h.cfg.Function,
		RequestID:     requestID,
		Instance:      h.cfg.Sandbox.Begin(),
		Timing:        Timing{Start: start.UnixNano()},
	}
	defer func() {
		if p := recover(); p != nil {
			h.cfg.Logger.Error("lab: handler panic", "function", h.cfg.Function, "panic", p, "stack", string(debug.Stack()))
			resp.Error = &Error{Kind: ErrInternal, Message: fmt.Sprintf("panic: %v", p)}
		}
		resp.Timing.End = time.Now().UnixNano()
	}()

	lim := h.cfg.Limits
	if dl, ok := ctx.Deadline(); ok {
		if left := dl.Sub(start); left < lim.Timeout {
			lim.Timeout = max(left, time.Millisecond)
		}
	}
	req, err := DecodeRequest(body, lim)
	if err != nil {
		resp.Error = asLabError(err, ErrInput)
		// Keep the call-tree position of a rejected nested request when
		// it can be read, so the failure stays traceable.
		var pos struct {
			Depth  int    `json:"depth"`
			Parent string `json:"parent"`
		}
		if json.Unmarshal(body, &pos) == nil && pos.Depth >= 0 {
			resp.Depth, resp.Parent = pos.Depth, pos.Parent
		}
		return resp
	}
	resp.Depth, resp.Parent = req.Depth, req.Parent
	if err := h.check(req); err != nil {
		resp.Error = err
		return resp
	}
	if req.Sleep > 0 {
		ms, err := sleep(ctx, time.Duration(req.Sleep*float64(time.Second)))
		resp.Timing.SleepMS = ms
		if err != nil {
			resp.Error = &Error{Kind: ErrTimeout, Message: "sleep interrupted: " + err.Error()}
			return resp
		}
	}
	if req.ThroughputTime > 0 {
		tp, err := throughput(ctx, time.Duration(req.ThroughputTime*float64(time.Second)))
		tp.RequestedS = req.ThroughputTime
		resp.Timing.Throughput = &tp
		if err != nil {
			resp.Error = &Error{Kind: ErrTimeout, Message: "throughput work interrupted: " + err.Error()}
			return resp
		}
	}
	if req.RunFunction != "" {
		res, err := h.runWorkload(ctx, req)
		resp.Result = res
		if err != nil {
			resp.Error = err
			return resp
		}
	}
	if len(req.InvokeNested) > 0 {
		resp.Nested = h.nested(ctx, requestID, req)
		if err := nestedError(resp.Nested); err != nil {
			resp.Error = err
		}
	}
	return resp
}

// check validates what the generic request validation cannot: workload
// names and the nested-call guards. Nothing has run yet when it fails.
func (h *Handler) check(req *Request) *Error {
	if req.RunFunction != "" {
		if h.cfg.Workloads == nil {
			return inputErr(fmt.Sprintf("run_function is not supported by %s: it was built without the monolith workloads", h.cfg.Function))
		}
		if err := h.cfg.Workloads.Validate(req.RunFunction, req.Args); err != nil {
			return inputErr(err.Error())
		}
	}
	n := len(req.InvokeNested)
	if n == 0 {
		return nil
	}
	g := h.cfg.Guards
	if req.Depth+1 > g.MaxDepth {
		return guardErr(fmt.Sprintf("nested calls at depth %d would exceed the maximum depth of %d", req.Depth+1, g.MaxDepth))
	}
	if budget := h.budget(req); n > budget {
		return guardErr(fmt.Sprintf("%d nested calls requested but only %d remain in this request tree (maximum %d per root request)", n, budget, g.MaxNestedCalls))
	}
	for i, c := range req.InvokeNested {
		if !slices.Contains(g.Allowed, c.FunctionName) {
			return guardErr(fmt.Sprintf("invoke_nested[%d]: function %q is not in the allowlist %v", i, c.FunctionName, g.Allowed))
		}
	}
	if h.cfg.Invoker == nil {
		return guardErr("nested calls are not configured for this deployment")
	}
	return nil
}

// budget is the number of nested calls this request's subtree may still
// make (see Request.NestedBudget).
func (h *Handler) budget(req *Request) int {
	maxCalls := h.cfg.Guards.MaxNestedCalls
	if req.Depth == 0 && req.NestedBudget == 0 {
		return maxCalls
	}
	return min(req.NestedBudget, maxCalls)
}

func (h *Handler) runWorkload(ctx context.Context, req *Request) (res *WorkloadResult, lerr *Error) {
	res = &WorkloadResult{Name: req.RunFunction, Args: req.Args, Seed: req.Seed}
	t0 := time.Now()
	defer func() {
		res.DurationNS = int64(time.Since(t0))
		if p := recover(); p != nil {
			h.cfg.Logger.Error("lab: workload panic", "workload", req.RunFunction, "panic", p)
			lerr = &Error{Kind: ErrWorkload, Message: fmt.Sprintf("workload %s panicked: %v", req.RunFunction, p)}
		}
	}()
	sum, val, err := h.cfg.Workloads.Run(ctx, req.RunFunction, req.Args, req.Seed)
	if err != nil {
		kind := ErrWorkload
		if ctx.Err() != nil {
			kind = ErrTimeout
		}
		return res, &Error{Kind: kind, Message: fmt.Sprintf("workload %s: %v", req.RunFunction, err)}
	}
	res.Checksum, res.Value = sum, val
	return res, nil
}

// HTTPStatus is the HTTP status an adapter reports with a Response whose
// error is e: 200 for none, 400 for input and guard errors, 502 for failed
// nested calls, 504 for timeouts and 500 for the rest.
func HTTPStatus(e *Error) int {
	if e == nil {
		return 200
	}
	switch e.Kind {
	case ErrInput, ErrGuard:
		return 400
	case ErrNested:
		return 502
	case ErrTimeout:
		return 504
	default:
		return 500
	}
}

func guardErr(msg string) *Error { return &Error{Kind: ErrGuard, Message: msg} }

// asLabError returns err as an *Error, wrapping other errors with kind.
func asLabError(err error, kind string) *Error {
	var le *Error
	if errors.As(err, &le) {
		return le
	}
	return &Error{Kind: kind, Message: err.Error()}
}

// sleep sleeps for d or until ctx is done and returns the time slept in ms.
func sleep(ctx context.Context, d time.Duration) (float64, error) {
	t0 := time.Now()
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return ms(time.Since(t0)), nil
	case <-ctx.Done():
		return ms(time.Since(t0)), ctx.Err()
	}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
