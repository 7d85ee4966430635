package localfaas

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"
)

// invocation is one request routed to an instance.
type invocation struct {
	id            string
	payload       []byte
	traceID       string
	clientContext string
	// wantLog asks for the START/END/REPORT log (LogType Tail); without it
	// the platform skips the log work on the hot path.
	wantLog bool
	// HTTP runtime only: the request to forward.
	method string
	path   string
	header http.Header

	done chan *result // buffered 1, written once
	once sync.Once

	received time.Time // when the platform accepted the invocation

	// Set by instance.deliver under the instance's mutex.
	start        time.Time
	deadline     time.Time
	cold         bool
	initDuration time.Duration
	timer        *time.Timer
	log          tailBuffer
}

func newInvocation(payload []byte) *invocation {
	now := time.Now()
	return &invocation{
		id:       newRequestID(),
		payload:  payload,
		traceID:  newTraceID(now),
		done:     make(chan *result, 1),
		received: now,
	}
}

// result is the outcome of an invocation.
type result struct {
	// apiErr is set when the platform refused or lost the invocation
	// (throttled, shut down ...); the other fields are then unset.
	apiErr *apiError

	status int         // HTTP runtime: the function's status; Lambda: 200
	header http.Header // HTTP runtime: the function's response headers
	body   []byte
	// errorType is set when the function failed (X-Amz-Function-Error:
	// Unhandled): the Lambda error type, e.g. Runtime.ExitError.
	errorType string
	timedOut  bool

	instanceID   string
	logStream    string
	cold         bool
	duration     time.Duration
	initDuration time.Duration
	memoryMB     int
	maxMemoryMB  int
	// log is the last 4 KB of START, function output, END and REPORT.
	log []byte
}

// lostResult is the result of an invocation whose instance died under it.
func (in *instance) lostResult(inv *invocation, reason EvictReason, waitErr error) *result {
	switch reason {
	case ReasonShutdown:
		return &result{apiErr: errServiceUnavailable("the platform is shutting down")}
	case ReasonDeleted:
		return &result{apiErr: errNotFound(in.spec.Name)}
	}
	msg := "Runtime exited without providing a reason"
	if waitErr != nil {
		msg = "Runtime exited with error: " + exitDetail(waitErr)
	}
	full := "RequestId: " + inv.id + " Error: " + msg
	res := &result{status: http.StatusOK, errorType: "Runtime.ExitError",
		body: errorBody("Runtime.ExitError", full)}
	in.report(inv, res, time.Since(inv.start), full+"\nRuntime.ExitError\n")
	return res
}

// deliver marks inv as running on this instance and arms its timeout.
func (in *instance) deliver(inv *invocation) {
	in.mu.Lock()
	now := time.Now()
	inv.start = now
	inv.deadline = now.Add(in.spec.Timeout)
	inv.cold = in.invocations == 0
	if inv.cold {
		inv.initDuration = in.initDuration
	}
	in.invocations++
	in.current = inv
	in.capture = inv
	inv.timer = time.AfterFunc(in.spec.Timeout, func() { in.timeout(inv) })
	in.mu.Unlock()
	in.p.events.add(Event{Time: now, Kind: EventInvoked, Function: in.spec.Name, InstanceID: in.id,
		LogStream: in.logStream, PID: in.pid, RequestID: inv.id, Cold: inv.cold, WaitMS: ms(now.Sub(inv.received))})
}

// finish completes the running invocation inv with res and returns the
// instance to its function. It returns false when inv is not running here
// (already timed out or finished).
func (in *instance) finish(inv *invocation, res *result) bool {
	in.mu.Lock()
	if in.current != inv {
		in.mu.Unlock()
		return false
	}
	in.current = nil
	in.mu.Unlock()
	inv.timer.Stop()
	dur := time.Since(inv.start)
	if inv.wantLog {
		in.drainOutput()
	}
	in.mu.Lock()
	if in.capture == inv {
		in.capture = nil
	}
	in.mu.Unlock()
	in.report(inv, res, dur, "")
	// Release before answering, so a caller's next request finds the
	// instance idle (warm), as on Lambda.
	in.fn.release(in)
	in.complete(inv, res)
	return true
}

// timeout fails inv with "Task timed out" and kills the instance.
func (in *instance) timeout(inv *invocation) {
	in.mu.Lock()
	if in.current != inv {
		in.mu.Unlock()
		return
	}
	in.current = nil
	in.capture = nil
	secs := fmt.Sprintf("%.2f", in.spec.Timeout.Seconds())
	if in.killReason == "" {
		in.killReason = ReasonTimeout
		in.killedAt = time.Now()
		in.killDetail = "task timed out after " + secs + " seconds"
	}
	pid := in.pid
	in.mu.Unlock()
	_ = killGroup(pid)
	in.fn.detach(in)
	msg := time.Now().UTC().Format("2006-01-02T15:04:05.000Z") + " " + inv.id + " Task timed out after " + secs + " seconds"
	res := &result{status: http.StatusOK, errorType: "Sandbox.Timedout", timedOut: true,
		body: errorBody("Sandbox.Timedout", msg)}
	if in.spec.Runtime == RuntimeHTTP {
		res.status = http.StatusGatewayTimeout
	}
	in.report(inv, res, in.spec.Timeout, msg+"\n")
	in.complete(inv, res)
}

func (in *instance) complete(inv *invocation, res *result) {
	inv.once.Do(func() { inv.done <- res })
}

// errorBody is a Lambda error payload.
func errorBody(errType, msg string) []byte {
	b, _ := jsonMarshal(map[string]any{"errorType": errType, "errorMessage": msg})
	return b
}

// run routes inv to this (acquired) instance and waits for its result or
// ctx. retry is true when the instance turned out dead before the
// invocation reached it and was not initialising for it.
func (in *instance) run(ctx context.Context, inv *invocation) (res *result, retry bool) {
	in.mu.Lock()
	wasReady := in.isReady
	in.mu.Unlock()
	if in.spec.Runtime == RuntimeLambda {
		select {
		case in.work <- inv:
		case <-in.dead:
			return in.notDelivered(inv, wasReady)
		case <-ctx.Done():
			in.fn.release(in)
			return &result{apiErr: errCanceled(ctx.Err())}, false
		}
	} else {
		select {
		case <-in.ready:
		case <-in.dead:
			return in.notDelivered(inv, wasReady)
		case <-ctx.Done():
			in.fn.release(in)
			return &result{apiErr: errCanceled(ctx.Err())}, false
		}
		in.deliver(inv)
		go in.forwardHTTP(inv)
	}
	select {
	case res := <-inv.done:
		return res, false
	case <-ctx.Done():
		return &result{apiErr: errCanceled(ctx.Err())}, false
	}
}

// notDelivered is the result of an invocation whose instance died before
// the invocation reached it.
func (in *instance) notDelivered(inv *invocation, wasReady bool) (*result, bool) {
	in.mu.Lock()
	reason, detail := in.killReason, in.killDetail
	errType, errBody := in.initErrType, in.initErrBody
	in.mu.Unlock()
	switch reason {
	case ReasonShutdown:
		return &result{apiErr: errServiceUnavailable("the platform is shutting down")}, false
	case ReasonDeleted:
		return &result{apiErr: errNotFound(in.spec.Name)}, false
	}
	if wasReady || reason != ReasonInitError {
		// A warm instance that died while idle: try another one.
		return nil, true
	}
	inv.start = time.Now()
	inv.cold = false // never initialised: no Init Duration
	res := &result{status: http.StatusOK}
	switch {
	case errType != "":
		res.errorType = errType
		res.body = errBody
		if !jsonValid(errBody) {
			res.body = errorBody(errType, string(errBody))
		}
	case strings.HasPrefix(detail, "init timed out"):
		res.errorType = "Sandbox.Timedout"
		res.body = errorBody(res.errorType, "RequestId: "+inv.id+" Error: "+detail)
	default:
		res.errorType = "Runtime.ExitError"
		res.body = errorBody(res.errorType, "RequestId: "+inv.id+" Error: Runtime exited with error: "+detail)
	}
	if in.spec.Runtime == RuntimeHTTP {
		res.status = http.StatusBadGateway
	}
	in.report(inv, res, 0, "INIT_REPORT Phase: init Status: error Error Type: "+res.errorType+" ("+detail+")\n")
	return res, false
}
