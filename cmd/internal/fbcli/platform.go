package fbcli

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/faas-benchmarker/faas-benchmarker/localfaas"
	"github.com/faas-benchmarker/faas-benchmarker/platforms"
	"github.com/faas-benchmarker/faas-benchmarker/providers"
	"github.com/faas-benchmarker/faas-benchmarker/stacks/stackcfg"
)

// Flags that point at an existing deployment (no stack is managed); the
// platform descriptors say which ones each platform reads.
const (
	flagLocalEndpoint = string(platforms.OptLocalEndpoint)
	flagFunction      = string(platforms.OptFunction)
	flagEndpoint      = string(platforms.OptEndpoint)
	flagRegion        = string(platforms.OptRegion)
)

func platformFlags() []cli.Flag {
	cat := "platform"
	return []cli.Flag{
		&cli.StringFlag{Name: flagLocalEndpoint, Usage: "use a running `fbrun local serve` at `URL` instead of embedding one", Category: cat},
		&cli.StringSliceFlag{Name: flagFunction, Usage: "map a lab function to a deployment: `NAME=TARGET` (aws/openfaas: deployed name or ARN; azure/http: URL)", Category: cat},
		&cli.StringFlag{Name: flagEndpoint, Usage: "aws: Lambda endpoint override; openfaas: gateway `URL`; http: URL template with {name}", Category: cat},
		&cli.StringFlag{Name: flagRegion, Usage: "aws: region (default: the AWS SDK's default chain)", Category: cat},
	}
}

// platformPlan is a checked --platform with its flags: everything the run
// needs to know about the platform before anything starts.
type platformPlan struct {
	platform platforms.Platform
	target   platforms.Target
	// local is the embedded local platform's configuration when the run
	// starts one, else nil.
	local *localfaas.Config
}

// managed reports whether the run deploys a stack of its own.
func (p *platformPlan) managed() bool { return p.platform.Managed(p.target) }

// planPlatform looks --platform up and checks its flags and, when the run
// embeds the local platform, its knobs. It starts and contacts nothing; a
// mistake is a usage error (exit 2).
func planPlatform(c *cli.Context) (*platformPlan, error) {
	reg, err := platformsOf(c)
	if err != nil {
		return nil, cli.Exit(err.Error(), 1)
	}
	p, err := reg.Lookup(c.String(flagPlatform))
	if err != nil {
		return nil, usageError("%v", err)
	}
	fmap, err := parseSets(c.StringSlice(flagFunction))
	if err != nil {
		return nil, usageError("%v", strings.Replace(err.Error(), "--set", "--function", 1))
	}
	t := platforms.Target{Functions: fmap, Endpoint: c.String(flagEndpoint), Region: c.String(flagRegion), LocalEndpoint: c.String(flagLocalEndpoint)}
	if len(fmap) == 0 {
		t.Functions = nil
	}
	if err := p.Validate(t); err != nil {
		return nil, usageError("%v", err)
	}
	plan := &platformPlan{platform: p, target: t}
	if err := checkStackSets(plan, c.StringSlice(FlagStackSet)); err != nil {
		return nil, err
	}
	if p.Embedded && t.LocalEndpoint == "" {
		cfg, err := localConfig(c)
		if err != nil {
			return nil, err
		}
		plan.local = &cfg
		return plan, nil
	}
	for _, f := range localFlags() {
		if name := f.Names()[0]; c.IsSet(name) {
			return nil, usageError("--%s sets a knob of the embedded local platform, which this run does not start (--platform local or local-stack without --local-endpoint)", name)
		}
	}
	return plan, nil
}

// checkStackSets refuses --stack-set on a run that deploys no stack or
// whose stack takes no settings, and settings its stack would refuse
// (parsed and validated against the stack's defaults; the cloud runner
// validates them again with the run's ids).
func checkStackSets(plan *platformPlan, sets []string) error {
	if len(sets) == 0 {
		return nil
	}
	st := plan.platform.Stack
	switch {
	case !plan.managed():
		return usageError("--stack-set applies to a stack deployed for the run; --platform %s with these flags deploys none", plan.platform.Name)
	case !st.Settings:
		return usageError("--platform %s takes no stack settings (got --stack-set %s)", plan.platform.Name, sets[0])
	}
	s, err := stackcfg.New(stackcfg.Platform(st.Program))
	if err != nil {
		return cli.Exit(err.Error(), 1)
	}
	if err := stackcfg.ApplyOverrides(s, sets); err != nil {
		return usageError("%v", err)
	}
	return nil
}

// platformSetup is a ready platform: an invoker and how to release it.
type platformSetup struct {
	name    string
	invoker providers.Invoker
	config  map[string]any
	banner  string
	close   func()
}

// openPlatform builds the invoker of an existing deployment, first
// starting the embedded local platform when the plan says so.
func openPlatform(c *cli.Context, plan *platformPlan, logger *slog.Logger) (*platformSetup, error) {
	if plan.platform.Direct == nil {
		return nil, cli.Exit(fmt.Sprintf("platform %s always deploys its own stack", plan.platform.Name), 1)
	}
	t := plan.target
	t.Logger = logger
	closePlat, banner := func() {}, ""
	var knobs map[string]any
	if plan.local != nil {
		lp, err := startLocal(c, *plan.local, logger)
		if err != nil {
			return nil, err
		}
		t.LocalEndpoint, closePlat = lp.url, lp.close
		banner = "embedded local platform at " + lp.url + "\n" + lp.cfg.Describe() + "\n"
		knobs = lp.cfg.Stored()
	}
	s, err := plan.platform.Direct(c.Context, t)
	if err != nil {
		closePlat()
		return nil, cli.Exit(err.Error(), 1)
	}
	if s.Close != nil {
		// Undo what the run changed on the user's deployment, also after
		// Ctrl-C: the run's context is cancelled by then.
		release, stopLocal := s.Close, closePlat
		closePlat = func() {
			if err := release(context.WithoutCancel(c.Context)); err != nil {
				fmt.Fprintln(c.App.ErrWriter, "fbrun: "+err.Error())
			}
			stopLocal()
		}
	}
	cfg := s.Config
	if cfg == nil {
		cfg = map[string]any{}
	}
	for k, v := range knobs {
		cfg[k] = v
	}
	return &platformSetup{name: plan.platform.Name, invoker: s.Invoker, config: cfg, banner: banner, close: closePlat}, nil
}

// localPlatform is a started embedded platform.
type localPlatform struct {
	plat  *localfaas.Platform
	cfg   localfaas.Config
	url   string
	close func()
}

// startLocal starts the embedded platform with cfg (from localConfig).
func startLocal(c *cli.Context, cfg localfaas.Config, logger *slog.Logger) (*localPlatform, error) {
	cfg.Logger = logger
	plat, err := localfaas.New(cfg)
	if err != nil {
		return nil, cli.Exit(fmt.Sprintf("local platform: %v", err), 1)
	}
	if err := plat.Start(c.Context); err != nil {
		return nil, cli.Exit(fmt.Sprintf("local platform: %v", err), 1)
	}
	closePlat := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := plat.Close(ctx); err != nil {
			logger.Error("closing the local platform", "err", err)
		}
	}
	return &localPlatform{plat: plat, cfg: cfg, url: plat.URL(), close: closePlat}, nil
}
