package cloudrun

import (
	"fmt"
	"sort"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/config"

	"github.com/faas-benchmarker/faas-benchmarker/providers"
	"github.com/faas-benchmarker/faas-benchmarker/providers/aws"
	"github.com/faas-benchmarker/faas-benchmarker/providers/azure"
	"github.com/faas-benchmarker/faas-benchmarker/providers/local"
	"github.com/faas-benchmarker/faas-benchmarker/providers/openfaas"
	"github.com/faas-benchmarker/faas-benchmarker/localstack/fblocal"
	"github.com/faas-benchmarker/faas-benchmarker/stacks/stackcfg"
)

// outString reads a string output.
func outString(outs auto.OutputMap, key string) (string, error) {
	v, ok := outs[key].Value.(string)
	if !ok || v == "" {
		return "", fmt.Errorf("cloudrun: the stack has no %q output", key)
	}
	return v, nil
}

// outMap reads a map[string]string output (lab name → value).
func outMap(outs auto.OutputMap, key string) (map[string]string, error) {
	raw, ok := outs[key].Value.(map[string]any)
	if !ok || len(raw) == 0 {
		return nil, fmt.Errorf("cloudrun: the stack has no %q output", key)
	}
	m := make(map[string]string, len(raw))
	for k, v := range raw {
		s, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("cloudrun: output %q[%q] is not a string", key, k)
		}
		m[k] = s
	}
	return m, nil
}

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// cloudInvoker returns the factory that turns a per-experiment stack's
// outputs into the platform's invoker.
func cloudInvoker(p stackcfg.Platform) invokerFactory {
	return func(outs auto.OutputMap) (providers.Invoker, map[string]any, error) {
		switch p {
		case stackcfg.PlatformAWS:
			names, err := outMap(outs, stackcfg.OutFunctionNames)
			if err != nil {
				return nil, nil, err
			}
			region, err := outString(outs, stackcfg.OutRegion)
			if err != nil {
				return nil, nil, err
			}
			cfg := aws.NewDefaultConfig()
			cfg.Region, cfg.Functions = region, names
			inv, err := aws.New(cfg)
			return inv, map[string]any{"region": region, "functions": names}, err
		case stackcfg.PlatformAzure:
			urls, err := outMap(outs, stackcfg.OutFunctionURLs)
			if err != nil {
				return nil, nil, err
			}
			keys, err := outMap(outs, stackcfg.OutFunctionKeys)
			if err != nil {
				return nil, nil, err
			}
			cfg := azure.NewDefaultConfig()
			cfg.Functions = map[string]azure.Function{}
			for lab, u := range urls {
				cfg.Functions[lab] = azure.Function{URL: u, Key: keys[lab]}
			}
			inv, err := azure.New(cfg)
			region, _ := outString(outs, stackcfg.OutRegion)
			return inv, map[string]any{"location": region, "functions": sortedKeys(urls)}, err
		case stackcfg.PlatformOpenFaaS:
			cfg, desc, err := OpenFaaSConfig(outs)
			if err != nil {
				return nil, nil, err
			}
			inv, err := openfaas.New(cfg)
			return inv, desc, err
		}
		return nil, nil, fmt.Errorf("cloudrun: no invoker for platform %q", p)
	}
}

// OpenFaaSConfig builds the openfaas provider configuration from the
// outputs of the managed OpenFaaS stack, with the platform description
// stored with the run. The gateway is plain HTTP behind a load balancer
// that admits only the stack's gatewayCidrs; the provider accepts that
// only with AllowPlainHTTP, which is set when the stack says so
// (gatewayTransport) and no CIDR is open to everyone. Invocations carry no
// credentials (OpenFaaS does not require them on /function/), so only the
// /system/ calls of cold starts carry the run's throw-away password. The
// kubeconfig output lets cold starts scale Deployments to zero on CE.
func OpenFaaSConfig(outs auto.OutputMap) (openfaas.Config, map[string]any, error) {
	cfg := openfaas.NewDefaultConfig()
	gw, err := outString(outs, stackcfg.OutGatewayURL)
	if err != nil {
		return cfg, nil, err
	}
	user, _ := outString(outs, stackcfg.OutGatewayUser)
	pass, err := outString(outs, stackcfg.OutGatewayPassword)
	if err != nil {
		return cfg, nil, err
	}
	cfg.GatewayURL, cfg.Username, cfg.Password = gw, user, pass
	cfg.NoInvokeAuth = true
	if names, err := outMap(outs, stackcfg.OutFunctionNames); err == nil {
		cfg.Functions = names
	}
	kube, err := outString(outs, stackcfg.OutKubeconfig)
	if err != nil {
		return cfg, nil, err
	}
	cfg.Kubeconfig = []byte(kube)
	cfg.Edition, _ = outString(outs, stackcfg.OutEdition)
	transport, _ := outString(outs, stackcfg.OutGatewayTransport)
	cidrs, _ := outs[stackcfg.OutGatewayCIDRs].Value.([]any)
	if transport == stackcfg.GatewayTransportRestrictedHTTP {
		if len(cidrs) == 0 {
			return cfg, nil, fmt.Errorf("cloudrun: the stack's gateway is plain HTTP but it has no %q output", stackcfg.OutGatewayCIDRs)
		}
		for _, c := range cidrs {
			if s, _ := c.(string); s == "" || strings.HasSuffix(s, "/0") {
				return cfg, nil, fmt.Errorf("cloudrun: the stack's plain-HTTP gateway admits %v: refusing to send its password there", c)
			}
		}
		cfg.AllowPlainHTTP = true
	}
	region, _ := outString(outs, stackcfg.OutRegion)
	return cfg, map[string]any{"gateway": gw, "region": region, "edition": cfg.Edition}, nil
}

// localStackProgram deploys the four lab functions to the local platform
// named by the stack config "endpoint", as fblocal Functions, exporting
// lab name → deployed name as functionNames.
func localStackProgram(stackName string) pulumi.RunFunc {
	return func(ctx *pulumi.Context) error {
		endpoint := config.Require(ctx, "endpoint")
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
		ctx.Export("endpoint", pulumi.String(endpoint))
		return nil
	}
}

// localStackInvoker invokes the functions a local-stack deployed.
func localStackInvoker(outs auto.OutputMap) (providers.Invoker, map[string]any, error) {
	names, err := outMap(outs, stackcfg.OutFunctionNames)
	if err != nil {
		return nil, nil, err
	}
	endpoint, err := outString(outs, "endpoint")
	if err != nil {
		return nil, nil, err
	}
	inv, err := local.New(local.Config{Endpoint: endpoint, Functions: names})
	return inv, map[string]any{"endpoint": endpoint, "functions": names}, err
}
