package fbcli

import (
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/faas-benchmarker/faas-benchmarker/engine"
	"github.com/faas-benchmarker/faas-benchmarker/experiments"
	"github.com/faas-benchmarker/faas-benchmarker/localfaas"
	"github.com/faas-benchmarker/faas-benchmarker/platforms"
	"github.com/faas-benchmarker/faas-benchmarker/providers"
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
	// stackSets are the settings of the stack deployed for the run
	// (withExperiment): the experiment's defaults, then --stack-set.
	stackSets []string
}

// managed reports whether the run deploys a stack of its own.
func (p *platformPlan) managed() bool { return p.platform.Managed(p.target) }

// withExperiment sets the run's stack settings for experiment exp: on a
// stack deployed for the run (one that takes settings), exp's defaults
// under the user's --stack-set (experiments.StackSetsFor); otherwise the
// user's, which CheckStackSets refused if there were any.
func (p *platformPlan) withExperiment(exp experiments.Experiment, user []string) {
	p.stackSets = user
	if program, ok := p.platform.SettingsProgram(p.target); ok {
		p.stackSets = experiments.StackSetsFor(exp, program, user)
	}
}

// deploymentRange is the idle range of the run's deployment
// (Platform.DeploymentRange under the run's stack settings and, when it
// starts the embedded platform, --local-timeout).
func (p *platformPlan) deploymentRange() (providers.IdleRange, error) {
	var local time.Duration
	if p.local != nil {
		local = p.local.ShortestTimeout()
	}
	return p.platform.DeploymentRange(p.target, p.stackSets, local)
}

// clientTimeout is the run's client timeout (clientTimeoutFor --timeout).
func clientTimeout(c *cli.Context, deployment providers.IdleRange) time.Duration {
	return clientTimeoutFor(deployment, c.Duration(flagTimeout), c.IsSet(flagTimeout))
}

// clientTimeoutFor is the client timeout given flag when it was set, else
// one the deployment's invocations fit (engine.DefaultTimeoutFor).
func clientTimeoutFor(deployment providers.IdleRange, flag time.Duration, set bool) time.Duration {
	if set {
		return flag
	}
	return engine.DefaultTimeoutFor(deployment.Limit)
}

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
	if err := p.CheckStackSets(t, c.StringSlice(flagStackSet)); err != nil {
		return nil, usageError("%v", err)
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

// openPlatform builds the invoker of an existing deployment (starting the
// embedded local platform when the plan says so) and prints, unless
// --json, which local platform the run uses.
func openPlatform(c *cli.Context, plan *platformPlan, logger *slog.Logger) (*platforms.Opened, error) {
	t := plan.target
	t.Logger = logger
	o, err := plan.platform.Open(c.Context, t, plan.local)
	if err != nil {
		return nil, cli.Exit(err.Error(), 1)
	}
	if l := o.Local; l != nil && !c.Bool(flagJSON) {
		fmt.Fprint(c.App.ErrWriter, "embedded local platform at "+l.URL+"\n"+l.Config.Describe()+"\n")
	}
	return o, nil
}

// closePlatform undoes what the run changed on the user's deployment,
// also after Ctrl-C, and stops the embedded platform; an error is printed.
func closePlatform(c *cli.Context, o *platforms.Opened) {
	if err := o.Close(c.Context); err != nil {
		fmt.Fprintln(c.App.ErrWriter, "fbrun: "+err.Error())
	}
}
