// Package openfaas describes the OpenFaaS platform: an existing gateway
// (--endpoint) or a per-run EKS Fargate stack (stack program "openfaas").
package openfaas

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/faas-benchmarker/faas-benchmarker/platforms"
	"github.com/faas-benchmarker/faas-benchmarker/platforms/doctor"
	"github.com/faas-benchmarker/faas-benchmarker/providers"
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
			FromOutputs: fromOutputs,
		},
		Capabilities: []providers.Capability{providers.ForceColdStart},
		// Billed by the cluster, not per invocation: no Pricing.
		// Scale to zero is the idler's (OpenFaaS Pro; minutes of
		// inactivity); without it instances are never evicted, which the
		// grid reports as a lower bound. The release spread fits the
		// stack's default function timeout (180 s); a stack deployed for
		// the run sets it from its own (Platform.IdleRangeOn).
		IdleRange: providers.IdleRange{Min: time.Minute, Max: 16 * time.Minute,
			Spread: providers.SpreadWithin(time.Duration(stackcfg.DefaultOpenFaaS().FunctionTimeoutSeconds) * time.Second)},
		Preflight: preflight,
	}
}

// preflight: nothing for an existing gateway; for a stack, AWS
// credentials in its region, Pulumi with the aws, eks and kubernetes
// plugins, the settings, and the kubectl and aws tools the EKS cluster's
// set-up runs.
func preflight(managed bool, e doctor.Env) []doctor.Check {
	if !managed {
		return nil
	}
	r := e.Region(managed, stackcfg.DefaultOpenFaaS().Region)
	cs := []doctor.Check{doctor.AWSCredentials(e, r)}
	cs = append(cs, doctor.Pulumi(e)...)
	return append(cs, doctor.PulumiPlugins(e, "aws", "eks", "kubernetes"), doctor.StackSettings(stackcfg.PlatformOpenFaaS, e.StackSets),
		doctor.OnPath("kubectl", "pulumi-eks patches CoreDNS with it", "install kubectl (https://kubernetes.io/docs/tasks/tools/)"),
		doctor.OnPath("aws", "the cluster's kubeconfig runs aws eks get-token", "install the AWS CLI v2"))
}

// record is the stored platform config, the same keys from both paths
// (region is "" when the run was given a gateway). The edition is not
// among them: the provider reads it from the running gateway and the
// session stores it with the run (providers.Describer).
func record(gateway, region string, clientTimeout time.Duration) map[string]any {
	return map[string]any{"gateway": gateway, "region": region, "client_timeout_s": clientTimeout.Seconds()}
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
	return &platforms.Setup{Invoker: p, Config: record(cfg.GatewayURL, "", cfg.HTTPTimeout)}, nil
}

// ConfigFromOutputs builds the openfaas provider configuration from the
// outputs of the managed OpenFaaS stack (plain values), with the platform
// description stored with the run. The gateway is plain HTTP behind a load
// balancer that admits only the stack's gatewayCidrs; the provider accepts
// that only with AllowPlainHTTP, which is set when the stack says so
// (gatewayTransport) and no CIDR is open to everyone. Invocations carry no
// credentials (OpenFaaS does not require them on /function/), so only the
// /system/ calls of cold starts carry the run's throw-away password. The
// kubeconfig output lets cold starts scale Deployments to zero on CE. The
// client timeout is the one stackcfg.Timeouts derives from the stack's
// function timeout: above the gateway's, within the NLB's idle timeout.
func ConfigFromOutputs(outs map[string]any) (ofprov.Config, map[string]any, error) {
	cfg := ofprov.NewDefaultConfig()
	gw, err := platforms.OutString(outs, stackcfg.OutGatewayURL)
	if err != nil {
		return cfg, nil, err
	}
	user, _ := platforms.OutString(outs, stackcfg.OutGatewayUser)
	pass, err := platforms.OutString(outs, stackcfg.OutGatewayPassword)
	if err != nil {
		return cfg, nil, err
	}
	cfg.GatewayURL, cfg.Username, cfg.Password = gw, user, pass
	cfg.NoInvokeAuth = true
	if names, err := platforms.OutMap(outs, stackcfg.OutFunctionNames); err == nil {
		cfg.Functions = names
	}
	kube, err := platforms.OutString(outs, stackcfg.OutKubeconfig)
	if err != nil {
		return cfg, nil, err
	}
	cfg.Kubeconfig = []byte(kube)
	secs, err := platforms.OutString(outs, stackcfg.OutFunctionTimeout)
	if err != nil {
		return cfg, nil, err
	}
	n, err := strconv.Atoi(secs)
	if err != nil || n < 1 {
		return cfg, nil, fmt.Errorf("openfaas: the stack's %s output %q is not a number of seconds", stackcfg.OutFunctionTimeout, secs)
	}
	to := stackcfg.OpenFaaS{FunctionTimeoutSeconds: n}.GatewayTimeouts()
	if err := to.Check(); err != nil {
		return cfg, nil, fmt.Errorf("openfaas: the stack's function timeout %d s: %w", n, err)
	}
	cfg.HTTPTimeout = to.Client
	transport, _ := platforms.OutString(outs, stackcfg.OutGatewayTransport)
	cidrs, _ := outs[stackcfg.OutGatewayCIDRs].([]any)
	if transport == stackcfg.GatewayTransportRestrictedHTTP {
		if len(cidrs) == 0 {
			return cfg, nil, fmt.Errorf("openfaas: the stack's gateway is plain HTTP but it has no %q output", stackcfg.OutGatewayCIDRs)
		}
		for _, c := range cidrs {
			if s, _ := c.(string); s == "" || strings.HasSuffix(s, "/0") {
				return cfg, nil, fmt.Errorf("openfaas: the stack's plain-HTTP gateway admits %v: refusing to send its password there", c)
			}
		}
		cfg.AllowPlainHTTP = true
	}
	region, _ := platforms.OutString(outs, stackcfg.OutRegion)
	return cfg, record(gw, region, cfg.HTTPTimeout), nil
}

func fromOutputs(outs map[string]any, _ *slog.Logger) (*platforms.Setup, error) {
	cfg, rec, err := ConfigFromOutputs(outs)
	if err != nil {
		return nil, err
	}
	inv, err := ofprov.New(cfg)
	if err != nil {
		return nil, err
	}
	return &platforms.Setup{Invoker: inv, Config: rec}, nil
}
