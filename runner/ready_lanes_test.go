package runner

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/faas-benchmarker/faas-benchmarker/functions/lab"
	"github.com/faas-benchmarker/faas-benchmarker/providers"
	"github.com/faas-benchmarker/faas-benchmarker/stacks/stackcfg"
)

// laneStack answers as the aws stack's functions do: each key runs with
// the environment stacks/aws gives it (a lane copy: function1's,
// FB_FUNCTION_NAME=function1), and honours the allowlist of nested calls.
type laneStack struct{ cfg stackcfg.AWS }

func (laneStack) Platform() string { return "aws" }

func (s laneStack) Invoke(_ context.Context, fn string, payload []byte) (*providers.Reply, error) {
	labName := fn
	if strings.HasPrefix(fn, "lane") {
		labName = stackcfg.Function1 // stacks/aws: newFunction(name=laneN, lab=function1)
	}
	env := s.cfg.LambdaEnv(labName)
	var req lab.Request
	if err := json.Unmarshal(payload, &req); err != nil {
		return nil, err
	}
	resp := lab.Response{SchemaVersion: 1, Function: env[stackcfg.EnvFunctionName]}
	allowed := strings.Split(env[stackcfg.EnvAllowedFunctions], ",")
	for _, n := range req.InvokeNested {
		nr := lab.NestedResult{FunctionName: n.FunctionName, Response: &lab.Response{Function: n.FunctionName}}
		ok := false
		for _, a := range allowed {
			ok = ok || a == n.FunctionName
		}
		if !ok {
			nr = lab.NestedResult{FunctionName: n.FunctionName, Error: &lab.Error{Kind: "guard", Message: "not in the allowlist"}}
		}
		resp.Nested = append(resp.Nested, nr)
	}
	b, _ := json.Marshal(resp)
	return &providers.Reply{StatusCode: 200, Body: b}, nil
}

// TestWaitReadyLanes: a stack deployed with fb:lanes becomes ready — the
// runner probes every key of the function-name output, and a lane copy
// answers as function1, whose environment it runs with.
func TestWaitReadyLanes(t *testing.T) {
	for _, lanes := range []int{3, 5} {
		cfg := stackcfg.DefaultAWS()
		cfg.Lanes = lanes
		fns := append(append([]string{}, cfg.Functions...), cfg.LaneCopies()...)
		// A generous timeout: a correct deployment answers at once, a wrong
		// one fails after it.
		err := WaitReady(context.Background(), laneStack{cfg}, fns, Readiness{Timeout: 10 * time.Second, Interval: 10 * time.Millisecond})
		if err != nil {
			t.Errorf("lanes=%d %v: %v", lanes, fns, err)
		}
	}
}

// TestSiblingSkipsLanes: a nested-call probe goes to a lab function only —
// a lane copy is in no function's allowlist (FB_ALLOWED_FUNCTIONS).
func TestSiblingSkipsLanes(t *testing.T) {
	for _, tc := range []struct {
		f, want string
		fns     []string
	}{
		{"function1", "", []string{"function1", "lane4", "monolith"}},
		{"lane4", "function1", []string{"function1", "lane4", "lane5"}},
		{"function2", "function1", []string{"function1", "function2", "lane4"}},
	} {
		if got := sibling(tc.f, tc.fns); got != tc.want {
			t.Errorf("sibling(%s, %v) = %q, want %q", tc.f, tc.fns, got, tc.want)
		}
	}
}
