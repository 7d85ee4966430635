package lab

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"time"
)

// Limits bound what a request may ask for. Zero fields select defaults.
type Limits struct {
	// Timeout is the function's timeout: sleep + throughput_time must be
	// shorter. 0 means DefaultTimeout.
	Timeout time.Duration
	// MaxFanout is the maximum number of entries in invoke_nested. 0 means
	// DefaultMaxFanout.
	MaxFanout int
}

// Defaults for Limits and Guards.
const (
	DefaultTimeout        = 900 * time.Second
	DefaultMaxFanout      = 64
	DefaultMaxDepth       = 8
	DefaultMaxNestedCalls = 64
)

func (l Limits) withDefaults() Limits {
	if l.Timeout <= 0 {
		l.Timeout = DefaultTimeout
	}
	if l.MaxFanout <= 0 {
		l.MaxFanout = DefaultMaxFanout
	}
	return l
}

// DecodeRequest decodes and validates a request body. An empty body or
// JSON null is a valid request with every field unset; unknown fields are
// ignored. Every failure is an *Error of kind ErrInput with a message
// naming the offending field. DecodeRequest never panics.
func DecodeRequest(body []byte, lim Limits) (*Request, error) {
	lim = lim.withDefaults()
	var req Request
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return &req, nil
	}
	if trimmed[0] != '{' && !bytes.Equal(trimmed, []byte("null")) {
		return nil, inputErr("request body must be a JSON object")
	}
	if err := json.Unmarshal(trimmed, &req); err != nil {
		return nil, inputErr(describeJSONError(err))
	}
	if err := req.Validate(lim); err != nil {
		return nil, err
	}
	return &req, nil
}

// Validate checks field values against lim (with defaults applied for
// zero fields). It returns an *Error of kind ErrInput.
func (r *Request) Validate(lim Limits) error {
	lim = lim.withDefaults()
	if r.StatusCode != nil && *r.StatusCode != 200 {
		return inputErr(fmt.Sprintf("StatusCode must be 200, got %d", *r.StatusCode))
	}
	timeoutS := lim.Timeout.Round(time.Millisecond).Seconds()
	for _, f := range []struct {
		name string
		v    float64
	}{{"sleep", r.Sleep}, {"throughput_time", r.ThroughputTime}} {
		switch {
		case math.IsNaN(f.v) || math.IsInf(f.v, 0):
			return inputErr(fmt.Sprintf("%s must be a finite number of seconds", f.name))
		case f.v < 0:
			return inputErr(fmt.Sprintf("%s must not be negative, got %g", f.name, f.v))
		case f.v >= timeoutS:
			return inputErr(fmt.Sprintf("%s of %gs is not shorter than the function timeout of %gs", f.name, f.v, timeoutS))
		}
	}
	if total := r.Sleep + r.ThroughputTime; total >= timeoutS {
		return inputErr(fmt.Sprintf("sleep + throughput_time of %gs is not shorter than the function timeout of %gs", total, timeoutS))
	}
	switch r.NestedMode {
	case "", NestedParallel, NestedSequential:
	default:
		return inputErr(fmt.Sprintf("nested_mode must be %q or %q, got %q", NestedParallel, NestedSequential, r.NestedMode))
	}
	if len(r.InvokeNested) > lim.MaxFanout {
		return inputErr(fmt.Sprintf("invoke_nested has %d entries, more than the maximum of %d", len(r.InvokeNested), lim.MaxFanout))
	}
	for i, c := range r.InvokeNested {
		if c.FunctionName == "" {
			return inputErr(fmt.Sprintf("invoke_nested[%d].function_name is missing", i))
		}
		p := bytes.TrimSpace(c.InvokePayload)
		if len(p) > 0 && p[0] != '{' && !bytes.Equal(p, []byte("null")) {
			return inputErr(fmt.Sprintf("invoke_nested[%d].invoke_payload must be a JSON object", i))
		}
	}
	switch {
	case r.Args < 0:
		return inputErr(fmt.Sprintf("args must not be negative, got %d", r.Args))
	case r.Depth < 0:
		return inputErr(fmt.Sprintf("depth must not be negative, got %d", r.Depth))
	case r.NestedBudget < 0:
		return inputErr(fmt.Sprintf("nested_budget must not be negative, got %d", r.NestedBudget))
	}
	return nil
}

func inputErr(msg string) *Error { return &Error{Kind: ErrInput, Message: msg} }

// describeJSONError turns encoding/json errors into messages naming the
// field and the expected type.
func describeJSONError(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		field := te.Field
		if field == "" {
			field = "request"
		}
		return fmt.Sprintf("field %q: expected %s, got JSON %s", field, jsonKind(te.Type), te.Value)
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("malformed JSON at byte %d: %v", se.Offset, err)
	}
	return "malformed JSON: " + err.Error()
}

// jsonKind names the JSON type a Go type decodes from.
func jsonKind(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Slice, reflect.Array:
		return "an array"
	default:
		return "an object"
	}
}
