// Package azure describes the Azure Functions platform: existing function
// URLs (--function NAME=URL) or a per-run stack (stack program "azure").
package azure

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/faas-benchmarker/faas-benchmarker/doctor"
	"github.com/faas-benchmarker/faas-benchmarker/platforms"
	"github.com/faas-benchmarker/faas-benchmarker/providers"
	azprov "github.com/faas-benchmarker/faas-benchmarker/providers/azure"
	"github.com/faas-benchmarker/faas-benchmarker/results"
	"github.com/faas-benchmarker/faas-benchmarker/stacks/stackcfg"
)

// Platform returns the descriptor.
func Platform() platforms.Platform {
	return platforms.Platform{
		Name:    azprov.PlatformName,
		Summary: "Azure Functions (Flex Consumption, or Linux Consumption with --stack-set plan=consumption): existing function URLs (--function NAME=URL), or a stack deployed for the run",
		Options: []platforms.Option{platforms.OptFunction},
		Check: func(t platforms.Target) error {
			for name, u := range t.Functions {
				if err := platforms.CheckURL(fmt.Sprintf("--function %s", name), u); err != nil {
					return err
				}
			}
			return nil
		},
		Direct: direct,
		Stack: &platforms.Stack{
			Program:     string(stackcfg.PlatformAzure),
			Settings:    true,
			FromOutputs: fromOutputs,
		},
		Pricing: providers.Pricing{Default: "azure-consumption"},
		// Azure mostly keeps an idle instance about 20 minutes. An HTTP
		// triggered function must answer within 230 s whatever its
		// timeout ("Function app timeout duration", learn.microsoft.com:
		// the Azure Load Balancer's idle timeout), so a release spread of
		// at most 3 minutes.
		IdleRange: providers.IdleRange{Min: 2 * time.Minute, Max: 32 * time.Minute, Spread: 3 * time.Minute},
		Preflight: preflight,
	}
}

// preflight: credentials; for a stack, Pulumi with the azure-native
// plugin, the settings and the function packages.
func preflight(managed bool, e doctor.Env) []doctor.Check {
	cs := []doctor.Check{doctor.AzureCredentials(e)}
	if managed {
		cs = append(cs, doctor.Pulumi(e)...)
		cs = append(cs, doctor.PulumiPlugins(e, "azure-native"), doctor.StackSettings(stackcfg.PlatformAzure, e.StackSets), doctor.Artifacts(stackcfg.PlatformAzure, e.StackSets))
	}
	return cs
}

// record is the stored platform config, the same keys from both paths:
// the location, the hosting plan (flex or consumption) with the Flex
// instance memory and instance limit, and the lab functions. What a path
// cannot know is "" (a run given URLs knows neither location nor plan).
// The plan is part of what identifies the platform: Flex and Linux
// Consumption numbers are not comparable.
func record(location, plan, memoryMB, maxInstances string, functions []string) map[string]any {
	return map[string]any{
		"location": location, results.ConfigPlan: plan, "instance_memory_mb": memoryMB, "max_instances": maxInstances,
		"functions": functions,
	}
}

func direct(_ context.Context, t platforms.Target) (*platforms.Setup, error) {
	cfg := azprov.NewDefaultConfig()
	if cfg.Functions == nil {
		cfg.Functions = map[string]azprov.Function{}
	}
	for k, v := range t.Functions {
		f := cfg.Functions[k]
		f.URL = v
		cfg.Functions[k] = f
	}
	p, err := azprov.New(cfg)
	if err != nil {
		return nil, err
	}
	return &platforms.Setup{Invoker: p, Config: record("", "", "", "", platforms.SortedKeys(t.Functions))}, nil
}

func fromOutputs(outs map[string]any, _ *slog.Logger) (*platforms.Setup, error) {
	urls, err := platforms.OutMap(outs, stackcfg.OutFunctionURLs)
	if err != nil {
		return nil, err
	}
	keys, err := platforms.OutMap(outs, stackcfg.OutFunctionKeys)
	if err != nil {
		return nil, err
	}
	cfg := azprov.NewDefaultConfig()
	cfg.Functions = map[string]azprov.Function{}
	for lab, u := range urls {
		cfg.Functions[lab] = azprov.Function{URL: u, Key: keys[lab]}
	}
	inv, err := azprov.New(cfg)
	if err != nil {
		return nil, err
	}
	location, _ := platforms.OutString(outs, stackcfg.OutRegion)
	// A stack without a plan output predates Flex: it ran on Linux
	// Consumption.
	plan, _ := platforms.OutString(outs, stackcfg.OutPlan)
	if plan == "" {
		plan = stackcfg.AzurePlanConsumption
	}
	mem, _ := platforms.OutString(outs, stackcfg.OutInstanceMemoryMB)
	limit, _ := platforms.OutString(outs, stackcfg.OutMaxInstances)
	return &platforms.Setup{Invoker: inv, Config: record(location, plan, mem, limit, platforms.SortedKeys(urls))}, nil
}
