// Package azure describes the Azure Functions platform: existing function
// URLs (--function NAME=URL) or a per-run stack (stack program "azure").
// On Flex Consumption the stack deploys no code: once it is up, Deploy
// publishes each app's package with One Deploy (providers/azure/onedeploy).
// Invocations are priced by the plan the stack reports (PriceFlex,
// PriceConsumption); a run on existing URLs does not know the plan and is
// priced only with an explicit price=.
package azure

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/faas-benchmarker/faas-benchmarker/platforms"
	"github.com/faas-benchmarker/faas-benchmarker/platforms/doctor"
	"github.com/faas-benchmarker/faas-benchmarker/providers"
	azprov "github.com/faas-benchmarker/faas-benchmarker/providers/azure"
	"github.com/faas-benchmarker/faas-benchmarker/providers/azure/onedeploy"
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
			Deploy:      deployPackages,
		},
		// No platform-wide price: the plan decides it (fromOutputs), and
		// the plan of existing URLs is unknown.
		//
		// Azure mostly keeps an idle instance about 20 minutes. An HTTP
		// triggered function must answer within 230 s whatever its
		// timeout ("Function app timeout duration", learn.microsoft.com:
		// the Azure Load Balancer's idle timeout), so a release spread of
		// at most 3 minutes.
		IdleRange: providers.IdleRange{Min: 2 * time.Minute, Max: 32 * time.Minute, Spread: 3 * time.Minute, Limit: 230 * time.Second},
		Preflight: preflight,
	}
}

// The price table entries (experiments.Prices) of the two plans: Flex
// Consumption on-demand instances (FC1) and Linux Consumption (Y1) are
// billed differently.
const (
	PriceFlex        = "azure-flex"
	PriceConsumption = "azure-consumption"
)

// pricingOf is how price=auto prices a stack on plan.
func pricingOf(plan string) providers.Pricing {
	if plan == stackcfg.AzurePlanFlex {
		return providers.Pricing{Default: PriceFlex}
	}
	return providers.Pricing{Default: PriceConsumption}
}

// deployPackages publishes each Flex app's package with One Deploy, all
// apps at once, and waits until every deployment succeeded (each bounded
// by onedeploy.DefaultTimeout). A Linux Consumption stack has nothing to
// publish: its apps run their package from WEBSITE_RUN_FROM_PACKAGE,
// set by the stack.
func deployPackages(ctx context.Context, outs map[string]any, logger *slog.Logger) error {
	if plan, _ := platforms.OutString(outs, stackcfg.OutPlan); plan != stackcfg.AzurePlanFlex {
		return nil
	}
	cred, err := onedeploy.NewCredential(os.Getenv)
	if err != nil {
		return err
	}
	d, err := onedeploy.New(onedeploy.Config{Credential: cred, Logger: logger})
	if err != nil {
		return err
	}
	return publish(ctx, d, outs)
}

// publish deploys every app the outputs name, in parallel, and joins the
// failures in lab order. A lab without an SCM host or package in the
// outputs is an error before anything is sent.
func publish(ctx context.Context, d *onedeploy.Deployer, outs map[string]any) error {
	names, err := platforms.OutMap(outs, stackcfg.OutFunctionNames)
	if err != nil {
		return err
	}
	hosts, err := platforms.OutMap(outs, stackcfg.OutSCMHosts)
	if err != nil {
		return err
	}
	pkgs, err := platforms.OutMap(outs, stackcfg.OutFunctionPackages)
	if err != nil {
		return err
	}
	labs := platforms.SortedKeys(names)
	targets := make([]onedeploy.Target, len(labs))
	for i, lab := range labs {
		if hosts[lab] == "" || pkgs[lab] == "" {
			return fmt.Errorf("azure: the stack outputs name no SCM host or package for %s: cannot publish it", lab)
		}
		targets[i] = onedeploy.Target{App: names[lab], SCMURL: "https://" + hosts[lab], Package: pkgs[lab]}
	}
	errs := make([]error, len(targets))
	done := make(chan struct{})
	for i := range targets {
		go func() {
			defer func() { done <- struct{}{} }()
			errs[i] = d.Deploy(ctx, targets[i])
		}()
	}
	for range targets {
		<-done
	}
	return errors.Join(errs...)
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
	return &platforms.Setup{Invoker: inv, Config: record(location, plan, mem, limit, platforms.SortedKeys(urls)), Pricing: pricingOf(plan)}, nil
}
