// Package aws describes the AWS Lambda platform: an existing deployment
// (--function, --region, --endpoint) or a per-run stack (stack program
// "aws").
package aws

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/faas-benchmarker/faas-benchmarker/platforms"
	"github.com/faas-benchmarker/faas-benchmarker/platforms/doctor"
	"github.com/faas-benchmarker/faas-benchmarker/providers"
	awsprov "github.com/faas-benchmarker/faas-benchmarker/providers/aws"
	"github.com/faas-benchmarker/faas-benchmarker/stacks/stackcfg"
)

// Platform returns the descriptor.
func Platform() platforms.Platform {
	return platforms.Platform{
		Name:    awsprov.PlatformName,
		Summary: "AWS Lambda: an existing deployment (--function), or a stack deployed for the run",
		Options: []platforms.Option{platforms.OptFunction, platforms.OptEndpoint, platforms.OptRegion},
		Check: func(t platforms.Target) error {
			if t.Endpoint != "" {
				return platforms.CheckURL("--endpoint", t.Endpoint)
			}
			return nil
		},
		Direct: direct,
		Stack: &platforms.Stack{
			Program:     string(stackcfg.PlatformAWS),
			Settings:    true,
			FromOutputs: fromOutputs,
		},
		// Its functions share the account's pool of concurrent executions.
		Capabilities: []providers.Capability{providers.ForceColdStart, providers.SetMemory, providers.AccountConcurrency},
		// Lambda bills a GB-second on arm64 (Graviton) 20 % below x86_64:
		// each function is priced by the architecture Lambda reports.
		Pricing:   providers.Pricing{ByArchitecture: map[string]string{"arm64": "aws-lambda-arm", "x86_64": "aws-lambda-x86"}},
		Preflight: preflight,
		IdleRange: idleRange(),
	}
}

// idleRange: Lambda's idle timeout has been about 10 minutes since 2019
// (25–60 min before; docs/experiments.md, idle-timeout), so the grid
// starts at 1–16 min and grows or shrinks from there. A release spread
// is handler sleep that must fit the Lambda timeout: what the stack's
// default (60 s) allows; a stack deployed for the run sets Limit and the
// spread from its own (Platform.IdleRangeOn), while an existing
// deployment's timeout is not known (no Limit).
func idleRange() providers.IdleRange {
	timeout := time.Duration(stackcfg.DefaultAWS().TimeoutSeconds) * time.Second
	return providers.IdleRange{Min: time.Minute, Max: 16 * time.Minute, Spread: providers.SpreadWithin(timeout)}
}

// preflight: credentials, permissions and the account's limits in the
// run's region; for a stack, Pulumi with the aws plugin, the settings and
// the function packages.
func preflight(managed bool, e doctor.Env) []doctor.Check {
	r := e.Region(managed, stackcfg.DefaultAWS().Region)
	cs := []doctor.Check{doctor.AWSCredentials(e, r), doctor.AWSPermissionsCheck(e, r, managed, e.StackSets), doctor.LambdaAccount(e, r)}
	if managed {
		cs = append(cs, doctor.Pulumi(e)...)
		cs = append(cs, doctor.PulumiPlugins(e, "aws"), doctor.StackSettings(stackcfg.PlatformAWS, e.StackSets), doctor.Artifacts(stackcfg.PlatformAWS, e.StackSets))
	}
	return cs
}

// record is the stored platform config, the same from both paths
// (architecture is empty where the path does not know it).
func record(region, architecture string, functions map[string]string) map[string]any {
	return map[string]any{"region": region, "architecture": architecture, "functions": functions}
}

func direct(ctx context.Context, t platforms.Target) (*platforms.Setup, error) {
	cfg := awsprov.NewDefaultConfig()
	cfg.Functions, cfg.Logger = t.Functions, t.Logger
	if t.Region != "" {
		cfg.Region = t.Region
	}
	if t.Endpoint != "" {
		cfg.Endpoint = t.Endpoint
	}
	p, err := awsprov.New(cfg)
	if err != nil {
		return nil, err
	}
	if err := CheckCredentials(ctx, p); err != nil {
		return nil, err
	}
	// The user's own functions: what a forced cold start or a memory sweep
	// changes on them is put back when the run ends (Provider.Restore).
	return &platforms.Setup{Invoker: p, Config: record(cfg.Region, "", t.Functions), Close: p.Restore}, nil
}

func fromOutputs(outs map[string]any, logger *slog.Logger) (*platforms.Setup, error) {
	names, err := platforms.OutMap(outs, stackcfg.OutFunctionNames)
	if err != nil {
		return nil, err
	}
	region, err := platforms.OutString(outs, stackcfg.OutRegion)
	if err != nil {
		return nil, err
	}
	// The architecture prices the run (Lambda bills arm64 about 20 %
	// below x86_64); a stack that does not export it leaves the provider
	// to read it from each function.
	arch, _ := outs[stackcfg.OutArchitecture].(string)
	cfg := awsprov.NewDefaultConfig()
	cfg.Region, cfg.Functions, cfg.Logger, cfg.Architecture = region, names, logger, arch
	inv, err := awsprov.New(cfg)
	if err != nil {
		return nil, err
	}
	return &platforms.Setup{Invoker: inv, Config: record(region, arch, names)}, nil
}

// ErrNoCredentials is returned (wrapped) when the AWS default chain yields
// no usable credentials.
var ErrNoCredentials = errors.New("aws: no usable credentials")

// CheckCredentials fails fast, before a run is created, when p's
// credential chain yields no credentials: otherwise every invocation of
// the run would fail the same way.
func CheckCredentials(ctx context.Context, p *awsprov.Provider) error {
	creds := p.Client().Options().Credentials
	if creds == nil {
		return fmt.Errorf("%w: set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY", ErrNoCredentials)
	}
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if _, err := creds.Retrieve(ctx); err != nil {
		return fmt.Errorf("%w (set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or run aws configure): %v", ErrNoCredentials, err)
	}
	return nil
}
