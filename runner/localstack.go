package runner

import "github.com/pulumi/pulumi/sdk/v3/go/auto"

// plainOutputs turns the stack's outputs into the plain values the
// platform descriptors read (platforms.Stack.FromOutputs).
func plainOutputs(outs auto.OutputMap) map[string]any {
	m := make(map[string]any, len(outs))
	for k, v := range outs {
		m[k] = v.Value
	}
	return m
}
