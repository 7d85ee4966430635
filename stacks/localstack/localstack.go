// Package localstack is the stack program of platform local-stack: the
// four lab functions deployed to the local platform as fblocal Functions,
// so the whole cloud lifecycle runs without a cloud account.
package localstack

import (
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/config"

	"github.com/faas-benchmarker/faas-benchmarker/localfaas"
	"github.com/faas-benchmarker/faas-benchmarker/platforms/localstack"
	"github.com/faas-benchmarker/faas-benchmarker/stacks/fblocal"
	"github.com/faas-benchmarker/faas-benchmarker/stacks/stackcfg"
)

// Program deploys the lab functions to the local platform named by the
// stack config localstack.ConfigEndpoint, each named <stack>-<lab>, and
// exports lab name → deployed name as functionNames and the endpoint.
func Program() pulumi.RunFunc {
	return func(ctx *pulumi.Context) error {
		endpoint := config.Require(ctx, localstack.ConfigEndpoint)
		names := pulumi.StringMap{}
		for _, lab := range stackcfg.LabFunctions() {
			f, err := fblocal.NewFunction(ctx, lab, &fblocal.FunctionArgs{
				Endpoint:     pulumi.String(endpoint),
				FunctionName: pulumi.String(ctx.Stack() + "-" + lab),
				Handler:      pulumi.StringPtr("bootstrap"),
				MemorySize:   pulumi.IntPtr(localfaas.LabMemoryMB),
				// The local-stack descriptor's idle range fits this.
				Timeout: pulumi.IntPtr(int(localfaas.LabTimeout / time.Second)),
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
