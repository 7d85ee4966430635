// Package stacktest runs the stack programs against Pulumi's mock resource
// monitor and records what they register, so tests can assert resource
// types, counts and inputs, invoke calls and stack outputs (values and
// secretness) without a Pulumi CLI or cloud account.
package stacktest

import (
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/tokens"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

// Resource is one registered resource as the mock monitor saw it.
type Resource struct {
	// Type is the resource type token ("aws:lambda/function:Function").
	Type string
	// Name is the logical name.
	Name string
	// Inputs are the resolved inputs.
	Inputs resource.PropertyMap
	// Provider is the provider reference ("urn::id"), empty for the default.
	Provider string
	// ID is the import/get id for read resources (pulumi.Get*), else empty.
	ID string
	// Protect is whether the resource was registered with pulumi.Protect.
	Protect bool
	// DependsOn lists the URNs of the dependencies the SDK sent: the
	// explicit ones (pulumi.DependsOn) and those of every output used as
	// an input.
	DependsOn []string
	// URN is the resource's URN, as the mock monitor makes it.
	URN string
	// Parent is the parent's URN (the root stack's for a top-level
	// resource).
	Parent string
	// CustomTimeouts are the pulumi.Timeouts the resource was registered
	// with (nil: none).
	CustomTimeouts *pulumirpc.RegisterResourceRequest_CustomTimeouts
}

// Call is one invoke (function call) as the mock monitor saw it.
type Call struct {
	// Token is the function token ("aws:eks/getCluster:getCluster").
	Token string
	// Args are the resolved arguments.
	Args resource.PropertyMap
}

// Mocks implements pulumi.MockResourceMonitor and records every resource and
// call. It is safe for concurrent use by the Pulumi runtime.
type Mocks struct {
	// State returns extra output properties (merged over the inputs) for a
	// resource, e.g. an ARN; nil adds none.
	State func(r Resource) resource.PropertyMap
	// Result answers invokes; nil answers every invoke with an error.
	Result func(c Call) (resource.PropertyMap, error)

	mu        sync.Mutex
	resources []Resource
	calls     []Call
}

// NewResource implements pulumi.MockResourceMonitor.
func (m *Mocks) NewResource(args pulumi.MockResourceArgs) (string, resource.PropertyMap, error) {
	r := Resource{Type: args.TypeToken, Name: args.Name, Inputs: args.Inputs, Provider: args.Provider, ID: args.ID}
	if args.RegisterRPC != nil {
		r.Protect = args.RegisterRPC.GetProtect()
		r.DependsOn = args.RegisterRPC.GetDependencies()
		r.Parent = args.RegisterRPC.GetParent()
		r.CustomTimeouts = args.RegisterRPC.GetCustomTimeouts()
		r.URN = urn(r.Parent, r.Type, r.Name)
	}
	m.mu.Lock()
	m.resources = append(m.resources, r)
	m.mu.Unlock()
	state := args.Inputs.Copy()
	if m.State != nil {
		for k, v := range m.State(r) {
			state[k] = v
		}
	}
	id := args.ID
	if id == "" {
		id = args.Name + "-id"
	}
	return id, state, nil
}

// urn is the URN the mock monitor gives a resource (pulumi's mocks.go
// newURN) for project "fb", stack "test" (see Run).
func urn(parent, typ, name string) string {
	parentType := tokens.Type("")
	if p := resource.URN(parent); p != "" && p.QualifiedType() != resource.RootStackType {
		parentType = p.QualifiedType()
	}
	return string(resource.NewURN("test", "fb", parentType, tokens.Type(typ), name))
}

// DeletedBefore reports whether a destroy must delete a before b: whether
// b is reachable from a through the edges Pulumi's engine orders a
// destroy by — a resource's dependencies (explicit and from its inputs),
// its provider and its parent. Pulumi deletes in reverse dependency order,
// a resource only once everything that depends on it is gone ("The
// dependsOn option ensures that resource creation, update, and deletion
// operations are executed in the correct order", Pulumi docs, "Resource
// option: dependsOn",
// https://www.pulumi.com/docs/iac/concepts/resources/options/dependson/);
// without such a path the two are deleted in parallel, in either order.
func (m *Mocks) DeletedBefore(a, b Resource) bool {
	edges := map[string][]string{}
	for _, r := range m.Resources() {
		out := append([]string(nil), r.DependsOn...)
		if i := strings.LastIndex(r.Provider, "::"); i > 0 {
			out = append(out, r.Provider[:i]) // "urn::id"
		}
		if r.Parent != "" {
			out = append(out, r.Parent)
		}
		edges[r.URN] = out
	}
	seen := map[string]bool{}
	stack := []string{a.URN}
	for len(stack) > 0 {
		u := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, d := range edges[u] {
			if d == b.URN {
				return true
			}
			if !seen[d] {
				seen[d] = true
				stack = append(stack, d)
			}
		}
	}
	return false
}

// Call implements pulumi.MockResourceMonitor.
func (m *Mocks) Call(args pulumi.MockCallArgs) (resource.PropertyMap, error) {
	c := Call{Token: args.Token, Args: args.Args}
	m.mu.Lock()
	m.calls = append(m.calls, c)
	m.mu.Unlock()
	if m.Result == nil {
		return nil, fmt.Errorf("stacktest: unexpected invoke %s", args.Token)
	}
	return m.Result(c)
}

// Resources returns every recorded resource, sorted by type then name.
func (m *Mocks) Resources() []Resource {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := append([]Resource(nil), m.resources...)
	sort.Slice(out, func(i, j int) bool {
		if out[i].Type != out[j].Type {
			return out[i].Type < out[j].Type
		}
		return out[i].Name < out[j].Name
	})
	return out
}

// OfType returns the recorded resources of type typ, sorted by name.
func (m *Mocks) OfType(typ string) []Resource {
	var out []Resource
	for _, r := range m.Resources() {
		if r.Type == typ {
			out = append(out, r)
		}
	}
	return out
}

// Named returns the resource of type typ and logical name name.
func (m *Mocks) Named(t testing.TB, typ, name string) Resource {
	t.Helper()
	for _, r := range m.OfType(typ) {
		if r.Name == name {
			return r
		}
	}
	t.Fatalf("no %s named %q; have %v", typ, name, m.Counts())
	return Resource{}
}

// Counts maps each resource type to how many were registered.
func (m *Mocks) Counts() map[string]int {
	c := map[string]int{}
	for _, r := range m.Resources() {
		c[r.Type]++
	}
	return c
}

// Calls returns every recorded invoke with token tok.
func (m *Mocks) Calls(tok string) []Call {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []Call
	for _, c := range m.calls {
		if c.Token == tok {
			out = append(out, c)
		}
	}
	return out
}

// Value is a resolved stack output.
type Value struct {
	// V is the plain value (string, map[string]string, ...).
	V any
	// Secret is whether the output was marked secret.
	Secret bool
}

// Run runs deploy under the mocks as project "fb", stack "test", and
// returns its resolved outputs and the error of the run.
func Run(t testing.TB, m *Mocks, deploy func(ctx *pulumi.Context) (map[string]pulumi.Output, error)) (map[string]Value, error) {
	t.Helper()
	var (
		mu   sync.Mutex
		wg   sync.WaitGroup
		outs map[string]pulumi.Output
		vals = map[string]Value{}
	)
	err := pulumi.RunErr(func(ctx *pulumi.Context) error {
		o, err := deploy(ctx)
		if err != nil {
			return err
		}
		outs = o
		for k, out := range o {
			wg.Add(1)
			out.ApplyT(func(v any) (any, error) {
				defer wg.Done()
				mu.Lock()
				vals[k] = Value{V: v}
				mu.Unlock()
				return nil, nil
			})
		}
		return nil
	}, pulumi.WithMocks("fb", "test", m))
	if err != nil {
		return nil, err
	}
	wg.Wait()
	for k, o := range outs {
		v := vals[k]
		v.Secret = pulumi.IsSecret(o)
		vals[k] = v
	}
	return vals, nil
}

// Str returns the string input key of r, failing the test when it is
// missing or not a string (secrets are unwrapped).
func Str(t testing.TB, r Resource, key string) string {
	t.Helper()
	v, ok := r.Inputs[resource.PropertyKey(key)]
	if !ok {
		t.Fatalf("%s %s: no input %q (have %v)", r.Type, r.Name, key, r.Inputs.StableKeys())
	}
	if v.IsSecret() {
		v = v.SecretValue().Element
	}
	if !v.IsString() {
		t.Fatalf("%s %s: input %q is %v, not a string", r.Type, r.Name, key, v)
	}
	return v.StringValue()
}

// Num returns the number input key of r.
func Num(t testing.TB, r Resource, key string) float64 {
	t.Helper()
	v, ok := r.Inputs[resource.PropertyKey(key)]
	if !ok || !v.IsNumber() {
		t.Fatalf("%s %s: input %q is %v, not a number", r.Type, r.Name, key, v)
	}
	return v.NumberValue()
}

// Plain converts r's inputs to plain Go values (secrets unwrapped).
func Plain(r Resource) map[string]any {
	return r.Inputs.MapRepl(nil, func(v resource.PropertyValue) (any, bool) {
		if v.IsSecret() {
			return v.SecretValue().Element.MapRepl(nil, nil), true
		}
		return nil, false
	})
}

// StringMap converts a map[string]any output value to map[string]string.
func StringMap(t testing.TB, v any) map[string]string {
	t.Helper()
	m, ok := v.(map[string]any)
	if !ok {
		if sm, ok := v.(map[string]string); ok {
			return sm
		}
		t.Fatalf("output %v (%T) is not a map", v, v)
	}
	out := make(map[string]string, len(m))
	for k, x := range m {
		s, ok := x.(string)
		if !ok {
			t.Fatalf("map value %v (%T) is not a string", x, x)
		}
		out[k] = s
	}
	return out
}
