package lab

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"time"
)

// nested performs the request's nested calls, in parallel (the default:
// one goroutine per call, all started at once) or in sequence (in list
// order; a failed call does not stop the ones after it). Guards have
// already been checked. Results are in request order.
func (h *Handler) nested(ctx context.Context, requestID string, req *Request) []NestedResult {
	calls := req.InvokeNested
	out := make([]NestedResult, len(calls))
	budgets := splitBudget(h.budget(req)-len(calls), len(calls))
	do := func(i int) {
		out[i] = h.call(ctx, calls[i], req.Depth+1, requestID, budgets[i])
	}
	if req.NestedMode == NestedSequential {
		for i := range calls {
			do(i)
		}
		return out
	}
	var wg sync.WaitGroup
	for i := range calls {
		wg.Go(func() { do(i) })
	}
	wg.Wait()
	return out
}

// splitBudget shares remaining nested calls among n children as evenly as
// possible, so that a whole request tree never makes more calls than the
// root's budget.
func splitBudget(remaining, n int) []int {
	b := make([]int, n)
	if n == 0 || remaining <= 0 {
		return b
	}
	for i := range b {
		b[i] = remaining / n
		if i < remaining%n {
			b[i]++
		}
	}
	return b
}

// call performs one nested call and records the caller's view of it.
func (h *Handler) call(ctx context.Context, c NestedCall, depth int, parent string, budget int) (r NestedResult) {
	r.FunctionName = c.FunctionName
	payload, err := childPayload(c.InvokePayload, depth, parent, budget)
	if err != nil {
		r.Error = &Error{Kind: ErrInput, Message: err.Error()}
		return r
	}
	t0 := time.Now()
	r.SentAt = t0.UnixNano()
	defer func() {
		if p := recover(); p != nil {
			r.Error = &Error{Kind: ErrInternal, Message: fmt.Sprintf("nested call panicked: %v", p)}
		}
		// t0 carries a monotonic reading: Since is immune to wall-clock steps.
		d := time.Since(t0)
		r.DurationNS = int64(d)
		r.ReceivedAt = r.SentAt + int64(d)
	}()
	body, err := h.cfg.Invoker.Invoke(ctx, c.FunctionName, payload)
	if len(bytes.TrimSpace(body)) > 0 {
		var cr Response
		if jerr := json.Unmarshal(body, &cr); jerr == nil && cr.SchemaVersion != 0 {
			r.Response = &cr
		}
	}
	switch {
	case err != nil:
		r.Error = &Error{Kind: ErrNested, Message: err.Error()}
	case r.Response == nil:
		r.Error = &Error{Kind: ErrNested, Message: "callee returned no lab response: " + truncate(string(body), 200)}
	case r.Response.Error != nil:
		r.Error = &Error{Kind: ErrNested, Message: "callee failed: " + r.Response.Error.Error()}
	}
	return r
}

// childPayload sets the propagated fields (depth, parent, nested_budget)
// in the client's invoke_payload, keeping every other field as sent. The
// caller's values always win over anything the payload says.
func childPayload(p json.RawMessage, depth int, parent string, budget int) ([]byte, error) {
	m := map[string]json.RawMessage{}
	if t := bytes.TrimSpace(p); len(t) > 0 && !bytes.Equal(t, []byte("null")) {
		if err := json.Unmarshal(t, &m); err != nil {
			return nil, fmt.Errorf("invoke_payload: %w", err)
		}
	}
	if m == nil {
		m = map[string]json.RawMessage{}
	}
	set := func(k string, v any) {
		// encoding/json matches keys case-insensitively: drop every
		// spelling of k so the payload cannot override the caller.
		for existing := range m {
			if strings.EqualFold(existing, k) {
				delete(m, existing)
			}
		}
		b, _ := json.Marshal(v)
		m[k] = b
	}
	set("depth", depth)
	set("parent", parent)
	set("nested_budget", budget)
	return json.Marshal(m)
}

// nestedError summarises failed nested calls, or returns nil.
func nestedError(rs []NestedResult) *Error {
	var failed []string
	for _, r := range rs {
		if r.Error != nil {
			failed = append(failed, r.FunctionName+": "+r.Error.Message)
		}
	}
	if len(failed) == 0 {
		return nil
	}
	return &Error{Kind: ErrNested, Message: fmt.Sprintf("%d of %d nested calls failed: %s", len(failed), len(rs), truncate(strings.Join(failed, "; "), 1000))}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
