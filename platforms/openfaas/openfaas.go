// Package openfaas describes the OpenFaaS platform: an existing gateway
// (--endpoint) or a per-run EKS Fargate stack (stack program "openfaas").
package openfaas

import (
	"context"
	"log/slog"

	"github.com/faas-benchmarker/faas-benchmarker/platforms"
	"github.com/faas-benchmarker/faas-benchmarker/platforms/aws"
	ofprov "github.com/faas-benchmarker/faas-benchmarker/providers/openfaas"
	"github.com/faas-benchmarker/faas-benchmarker/stacks/stackcfg"
)

// Platform returns the descriptor.
func Platform() platforms.Platform {
	return platforms.Platform{
		Name:    ofprov.PlatformName,
		Summary: "OpenFaaS: an existing gateway (--endpoint URL), or an EKS Fargate stack deployed for the run",
		Options: []platforms.Option{platforms.OptFunction, platforms.OptEndpoint},
		Check: func(t platforms.Target) error {
			if t.Endpoint != "" {
				return platforms.CheckURL("--endpoint", t.Endpoint)
			}
			return nil
		},
		Direct: direct,
		Stack: &platforms.Stack{
			Program:  string(stackcfg.PlatformOpenFaaS),
			Settings: true,
			// The cluster is EKS: no AWS credentials, no stack.
			Preflight:   aws.CheckDefaultCredentials,
			FromOutputs: fromOutputs,
		},
		Capabilities: []platforms.Capability{platforms.ForceColdStart},
	}
}

// record is the stored platform config, the same from both paths (region
// is "" when the run was given a gateway).
func record(gateway, region string) map[string]any {
	return map[string]any{"gateway": gateway, "region": region}
}

func direct(_ context.Context, t platforms.Target) (*platforms.Setup, error) {
	cfg := ofprov.NewDefaultConfig()
	if t.Endpoint != "" {
		cfg.GatewayURL = t.Endpoint
	}
	cfg.Functions = t.Functions
	p, err := ofprov.New(cfg)
	if err != nil {
		return nil, err
	}
	return &platforms.Setup{Invoker: p, Config: record(cfg.GatewayURL, "")}, nil
}

func fromOutputs(outs map[string]any, _ *slog.Logger) (*platforms.Setup, error) {
	gw, err := platforms.OutString(outs, stackcfg.OutGatewayURL)
	if err != nil {
		return nil, err
	}
	user, _ := platforms.OutString(outs, stackcfg.OutGatewayUser)
	pass, err := platforms.OutString(outs, stackcfg.OutGatewayPassword)
	if err != nil {
		return nil, err
	}
	cfg := ofprov.NewDefaultConfig()
	cfg.GatewayURL, cfg.Username, cfg.Password = gw, user, pass
	if names, err := platforms.OutMap(outs, stackcfg.OutFunctionNames); err == nil {
		cfg.Functions = names
	}
	inv, err := ofprov.New(cfg)
	if err != nil {
		return nil, err
	}
	region, _ := platforms.OutString(outs, stackcfg.OutRegion)
	return &platforms.Setup{Invoker: inv, Config: record(gw, region)}, nil
}
