// Package localstack describes local-stack: the lab functions deployed to
// the local platform through a Pulumi stack, so the whole cloud lifecycle
// (up, run, store, ship, destroy) runs without a cloud account.
package localstack

import (
	"errors"
	"log/slog"
	"time"

	"github.com/faas-benchmarker/faas-benchmarker/localfaas"
	"github.com/faas-benchmarker/faas-benchmarker/platforms"
	"github.com/faas-benchmarker/faas-benchmarker/platforms/doctor"
	"github.com/faas-benchmarker/faas-benchmarker/providers"
	localprov "github.com/faas-benchmarker/faas-benchmarker/providers/local"
	"github.com/faas-benchmarker/faas-benchmarker/stacks/stackcfg"
)

// Name is the --platform value and the stack program's name.
const Name = "local-stack"

// ConfigEndpoint is the stack config key holding the local platform's URL.
const ConfigEndpoint = "endpoint"

// Platform returns the descriptor.
func Platform() platforms.Platform {
	return platforms.Platform{
		Name:     Name,
		Summary:  "the lab functions deployed to the local platform by a Pulumi stack: the cloud lifecycle without an account",
		Options:  []platforms.Option{platforms.OptLocalEndpoint},
		Embedded: true,
		Stack: &platforms.Stack{
			Program: Name,
			Config: func(t platforms.Target) (map[string]string, error) {
				if t.LocalEndpoint == "" {
					return nil, errors.New("local-stack needs the local platform's endpoint")
				}
				return map[string]string{ConfigEndpoint: t.LocalEndpoint}, nil
			},
			FromOutputs: fromOutputs,
		},
		Capabilities: []providers.Capability{providers.ForceColdStart, providers.SetMemory},
		// Priced as the local platform: Lambda x86.
		Pricing: providers.Pricing{Default: "aws-lambda-x86"},
		// An emulator of Lambda's API: the same starting range as aws
		// (LocalStack keeps an idle environment about 10 minutes); the
		// grid shrinks if it is configured shorter.
		// Its stack deploys every lab function with the embedded
		// platform's lab timeout (stacks/localstack), whatever
		// --local-timeout says.
		IdleRange: providers.IdleRange{Min: time.Minute, Max: 16 * time.Minute}.WithLimit(localfaas.LabTimeout),
		Preflight: func(_ bool, e doctor.Env) []doctor.Check {
			return append(doctor.Pulumi(e), doctor.PulumiPlugins(e, "fblocal"))
		},
	}
}

func fromOutputs(outs map[string]any, logger *slog.Logger) (*platforms.Setup, error) {
	names, err := platforms.OutMap(outs, stackcfg.OutFunctionNames)
	if err != nil {
		return nil, err
	}
	endpoint, err := platforms.OutString(outs, stackcfg.OutEndpoint)
	if err != nil {
		return nil, err
	}
	inv, err := localprov.New(localprov.Config{Endpoint: endpoint, Functions: names, Logger: logger})
	if err != nil {
		return nil, err
	}
	return &platforms.Setup{Invoker: inv, Config: map[string]any{"endpoint": endpoint, "functions": names}}, nil
}
