package runner

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/faas-benchmarker/faas-benchmarker/functions/lab"
	"github.com/faas-benchmarker/faas-benchmarker/providers"
)

// settling is a stand-in deployment that is not ready at first, the ways
// a fresh cloud deployment is not (each documented by its platform):
// the gateway's load balancer does not resolve yet (transport error), a
// Lambda nested invoke is denied until the new role's policy propagates
// (AccessDeniedException inside the nested result), an Azure host
// answers 401 until its keys are served.
type settling struct {
	mu       sync.Mutex
	calls    map[string]int
	notReady map[string]int // calls that fail before the function answers
	nested   []string       // nested callees seen
}

func (s *settling) Platform() string { return "settling" }

func (s *settling) Invoke(_ context.Context, fn string, payload []byte) (*providers.Reply, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls[fn]++
	var req lab.Request
	if err := json.Unmarshal(payload, &req); err != nil {
		return nil, err
	}
	resp := lab.Response{SchemaVersion: 1, Function: fn}
	for _, n := range req.InvokeNested {
		s.nested = append(s.nested, fn+"->"+n.FunctionName)
	}
	if s.calls[fn] <= s.notReady[fn] {
		switch fn {
		case "function1":
			return nil, &providers.Error{Platform: "settling", Kind: providers.KindTransport, Message: "dial tcp: lookup k8s-openfaas-gw.elb.amazonaws.com: no such host"}
		case "function2":
			resp.Nested = []lab.NestedResult{{FunctionName: "function3", Error: &lab.Error{Kind: "nested", Message: "AccessDeniedException: not authorized to perform lambda:InvokeFunction"}}}
		default:
			return nil, &providers.Error{Platform: "settling", Kind: providers.KindAuth, StatusCode: 401, Message: "Unauthorized"}
		}
	} else {
		for _, n := range req.InvokeNested {
			resp.Nested = append(resp.Nested, lab.NestedResult{FunctionName: n.FunctionName, Response: &lab.Response{Function: n.FunctionName}})
		}
	}
	b, _ := json.Marshal(resp)
	return &providers.Reply{StatusCode: 200, Body: b}, nil
}

func TestWaitReady(t *testing.T) {
	fns := []string{"function1", "function2", "function3", "monolith"}
	t.Run("settles", func(t *testing.T) {
		inv := &settling{calls: map[string]int{}, notReady: map[string]int{"function1": 2, "function2": 3, "monolith": 1}}
		var out strings.Builder
		err := WaitReady(context.Background(), inv, fns, Readiness{Timeout: time.Minute, Interval: time.Millisecond, Out: &out})
		if err != nil {
			t.Fatal(err)
		}
		// Each function is probed until it answers, then no more.
		want := map[string]int{"function1": 3, "function2": 4, "function3": 1, "monolith": 2}
		for f, n := range want {
			if inv.calls[f] != n {
				t.Errorf("%s probed %d times, want %d", f, inv.calls[f], n)
			}
		}
		if lines := strings.Count(out.String(), "==> readiness:"); lines != 4 || !strings.Contains(out.String(), "4/4 functions answer") {
			t.Errorf("progress:\n%s", out.String())
		}
		for _, n := range inv.nested {
			if strings.HasPrefix(n, "monolith") || strings.HasSuffix(n, "monolith") {
				t.Errorf("nested probe through the monolith: %s", n)
			}
		}
		if len(inv.nested) == 0 {
			t.Error("no nested probe: nested-call permissions are not checked")
		}
	})
	t.Run("never ready", func(t *testing.T) {
		inv := &settling{calls: map[string]int{}, notReady: map[string]int{"function2": 1 << 30}}
		err := WaitReady(context.Background(), inv, fns, Readiness{Timeout: 50 * time.Millisecond, Interval: time.Millisecond})
		if err == nil || !strings.Contains(err.Error(), "never became ready: 1 of 4 functions") ||
			!strings.Contains(err.Error(), "function2: nested call of function1: nested: AccessDeniedException") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("wrong function answers", func(t *testing.T) {
		if err := probe(context.Background(), misrouted{}, "function1", ""); err == nil || !strings.Contains(err.Error(), `answered as "function3"`) {
			t.Fatalf("err = %v", err)
		}
	})
}

// misrouted answers every call as function3 (a mapping gone wrong).
type misrouted struct{}

func (misrouted) Platform() string { return "x" }
func (misrouted) Invoke(context.Context, string, []byte) (*providers.Reply, error) {
	return &providers.Reply{StatusCode: 200, Body: []byte(`{"schema_version":1,"function":"function3"}`)}, nil
}
