package runner

import (
	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/config"

	"github.com/faas-benchmarker/faas-benchmarker/localstack/fblocal"
	"github.com/faas-benchmarker/faas-benchmarker/platforms/localstack"
	"github.com/faas-benchmarker/faas-benchmarker/stacks/stackcfg"
)

// plainOutputs turns the stack's outputs into the plain values the
// platform descriptors read (platforms.Stack.FromOutputs).
func plainOutputs(outs auto.OutputMap) map[string]any {
	m := make(map[string]any, len(outs))
	for k, v := range outs {
		m[k] = v.Value
	}
	return m
}

// localStackProgram deploys the four lab functions to the local platform
// named by the stack config localstack.ConfigEndpoint, as fblocal
// Functions, exporting lab name → deployed name as functionNames and the
// endpoint.
func localStackProgram(stackName string) pulumi.RunFunc {
	return func(ctx *pulumi.Context) error {
		endpoint := config.Require(ctx, localstack.ConfigEndpoint)
		names := pulumi.StringMap{}
		for _, lab := range stackcfg.LabFunctions() {
			f, err := fblocal.NewFunction(ctx, lab, &fblocal.FunctionArgs{
				Endpoint:     pulumi.String(endpoint),
				FunctionName: pulumi.String(stackName + "-" + lab),
				Handler:      pulumi.StringPtr("bootstrap"),
				MemorySize:   pulumi.IntPtr(128),
				Timeout:      pulumi.IntPtr(30),
			})
			if err != nil {
				return err
			}
			names[lab] = f.FunctionName
		}
		ctx.Export(stackcfg.OutFunctionNames, names)
		ctx.Export(stackcfg.OutEndpoint, pulumi.String(endpoint))
		return nil
	}
}
