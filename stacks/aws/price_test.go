package aws

import (
	"context"
	"testing"

	"github.com/faas-benchmarker/faas-benchmarker/experiments"
	awsplatform "github.com/faas-benchmarker/faas-benchmarker/platforms/aws"
	"github.com/faas-benchmarker/faas-benchmarker/providers"
	"github.com/faas-benchmarker/faas-benchmarker/stacks/stackcfg"
)

// TestOutputsSelectLambdaPrice follows the architecture from the stack's
// settings to the price: the program's outputs (under Pulumi mocks) are
// read by the aws platform descriptor as the runner reads them after `up`,
// and the invoker they build must report the stack's architecture without
// asking Lambda, so that price=auto picks that architecture's rate (arm64
// is the default and costs 20 % less per GB-second than x86_64).
func TestOutputsSelectLambdaPrice(t *testing.T) {
	t.Setenv("AWS_CONFIG_FILE", t.TempDir()+"/none")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", t.TempDir()+"/none")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	for _, tt := range []struct{ arch, price string }{
		{"", "aws-lambda-arm"}, // the default
		{stackcfg.ArchARM64, "aws-lambda-arm"},
		{stackcfg.ArchX8664, "aws-lambda-x86"},
	} {
		t.Run(tt.price+"/"+tt.arch, func(t *testing.T) {
			cfg := stackcfg.DefaultAWS()
			if tt.arch != "" {
				cfg.Architecture = tt.arch
			}
			_, outs := run(t, cfg)
			// As the runner reads them: strings and maps of strings as
			// decoded from the stack's JSON outputs.
			plain := map[string]any{}
			for k, v := range outs {
				plain[k] = v.V
				if m, ok := v.V.(map[string]string); ok {
					am := map[string]any{}
					for mk, mv := range m {
						am[mk] = mv
					}
					plain[k] = am
				}
			}
			setup, err := awsplatform.Platform().Stack.FromOutputs(plain, nil)
			if err != nil {
				t.Fatal(err)
			}
			ar, ok := setup.Invoker.(providers.ArchitectureReader)
			if !ok {
				t.Fatalf("%T cannot report an architecture", setup.Invoker)
			}
			// A cancelled context: the architecture must come from the
			// outputs, not from a call to Lambda.
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			arch, err := ar.Architecture(ctx, stackcfg.Function1)
			if err != nil {
				t.Fatalf("architecture not taken from the stack's outputs: %v", err)
			}
			name := awsplatform.Platform().Pricing.ByArchitecture[arch]
			if _, err := experiments.PriceByName(name); err != nil || name != tt.price {
				t.Fatalf("architecture %q prices as %q (%v), want %q", arch, name, err, tt.price)
			}
			if setup.Config["architecture"] != arch {
				t.Errorf("stored platform config %v lacks the architecture", setup.Config)
			}
		})
	}
}
