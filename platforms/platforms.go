// Package platforms describes each platform an experiment can run on once:
// its name, the platform flags it reads, how its invoker is built for an
// existing deployment and from a per-run stack's outputs, the stack
// program it deploys (by name) and whether that takes stack settings, its
// preflight checks, how its invocations are priced, and its capabilities.
// A Registry holds the descriptors; platforms/builtin lists the built-in
// ones, one line each, and every consumer (the CLI, the cloud runner, the
// engine through the capabilities and pricing the run hands it) reads a
// platform's descriptor instead of switching on its name. Adding a
// platform is its descriptor package, one line in platforms/builtin, and
// — when it deploys a stack — its stack program (stacks/X, its settings in
// stacks/stackcfg, and one line in stacks/program's table).
//
// The import rule. A descriptor holds values and functions, so the
// packages it points into never import it: platforms and platforms/*
// may import providers (invokers, capabilities, pricing), stacks/stackcfg
// (settings and output keys, no Pulumi), doctor (checks), results and
// localfaas; none of those may import platforms. No package under
// platforms/ imports a Pulumi SDK or stacks/program, so the light fbrun
// binary links none (a test of platforms/builtin checks): the stack
// program is referenced by name and built by stacks/program in
// fbrun-cloud. High-level packages (the CLI, runner, session, study)
// import platforms; the engine and experiments do not — they see what a
// platform declares through engine.Config (Capabilities, Pricing).
package platforms

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/faas-benchmarker/faas-benchmarker/platforms/doctor"
	"github.com/faas-benchmarker/faas-benchmarker/providers"
	"github.com/faas-benchmarker/faas-benchmarker/stacks/stackcfg"
)

// Option names a platform flag of `fbrun experiment` that points at an
// existing deployment.
type Option string

// The platform flags. A platform lists the ones it reads; giving another
// one is refused before anything starts.
const (
	// OptFunction is --function NAME=TARGET (repeatable).
	OptFunction Option = "function"
	// OptEndpoint is --endpoint URL.
	OptEndpoint Option = "endpoint"
	// OptRegion is --region.
	OptRegion Option = "region"
	// OptLocalEndpoint is --local-endpoint URL: a running local platform.
	OptLocalEndpoint Option = "local-endpoint"
)

// Options lists every platform flag, in a stable order.
func Options() []Option { return []Option{OptFunction, OptEndpoint, OptRegion, OptLocalEndpoint} }

// Target is what the platform flags say about the deployment to use.
type Target struct {
	// Functions maps lab names to deployments (--function NAME=TARGET).
	Functions map[string]string
	// Endpoint is --endpoint.
	Endpoint string
	// Region is --region.
	Region string
	// LocalEndpoint is --local-endpoint, or the URL of the embedded local
	// platform the CLI started.
	LocalEndpoint string
	// Logger receives the provider's logs (nil: discard).
	Logger *slog.Logger
}

// Setup is a platform's invoker and the description stored with the run
// (runs.platform_config). A platform stores the same keys whichever path
// built it (flags or stack outputs); what a path cannot know is empty.
type Setup struct {
	Invoker providers.Invoker
	Config  map[string]any
	// Close, when set, undoes what the invoker changed on an existing
	// deployment (the aws direct path restores its functions'
	// configuration). The CLI calls it once the run has ended, also after
	// an interrupt, with a context that is not cancelled with the run's.
	Close func(ctx context.Context) error
	// Pricing, when it names an entry, prices this deployment instead of
	// the platform's Pricing: what the deployment runs on decides the
	// price (Azure bills Flex Consumption and Linux Consumption
	// differently, and only the stack's outputs say which plan ran).
	Pricing providers.Pricing
}

// PricingFor is how price=auto prices the invocations of deployment s:
// s's own Pricing when it names an entry, else p's.
func (p Platform) PricingFor(s *Setup) providers.Pricing {
	if s != nil && (s.Pricing.Default != "" || len(s.Pricing.ByArchitecture) > 0) {
		return s.Pricing
	}
	return p.Pricing
}

// Stack describes the per-run stack a platform can deploy.
type Stack struct {
	// Program names the stack program (stacks/program builds the ones
	// named after a stackcfg.Platform; the cloud runner builds local-stack).
	Program string
	// Settings is true when the program takes fb: stack settings
	// (--stack-set); false refuses them.
	Settings bool
	// Config returns the stack's Pulumi config for a target (nil: none).
	Config func(Target) (map[string]string, error)
	// FromOutputs builds the invoker from the stack's outputs (plain
	// values: strings and maps of strings).
	FromOutputs func(outputs map[string]any, logger *slog.Logger) (*Setup, error)
	// Deploy, when set, publishes what the stack program does not deploy
	// itself (the code of Azure Flex Consumption apps, with One Deploy)
	// once the stack is up and before its functions are probed. It gets
	// the run's context and must return soon after it is cancelled: the
	// teardown never waits on a deployment.
	Deploy func(ctx context.Context, outputs map[string]any, logger *slog.Logger) error
}

// Platform describes one platform. Fill it in one package per platform
// and add that package's descriptor to platforms/builtin.
type Platform struct {
	// Name is the --platform value.
	Name string
	// Summary is a one-line description.
	Summary string
	// Options are the platform flags the platform reads.
	Options []Option
	// Embedded is true when, without --local-endpoint, the CLI starts the
	// embedded local platform and passes its URL as Target.LocalEndpoint.
	Embedded bool
	// Check validates a target without contacting anything: a refusal is
	// a usage error. Nil: nothing beyond the option list to check.
	Check func(Target) error
	// Direct builds the invoker for an existing deployment (nil: the
	// platform always deploys its own stack).
	Direct func(ctx context.Context, t Target) (*Setup, error)
	// Stack is the per-run stack (nil: none).
	Stack *Stack
	// Capabilities the platform has; its invoker implements each
	// (providers.Implements). The engine offers exactly these.
	Capabilities []providers.Capability
	// Pricing is how price=auto prices its invocations (zero: not per
	// invocation).
	Pricing providers.Pricing
	// IdleRange is the plausible range of its idle timeouts and the
	// release spread its default deployment allows: idle-timeout's
	// defaults on it (zero: the experiment's own, local-scale ones).
	IdleRange providers.IdleRange
	// Preflight returns the platform's `fbrun doctor` checks for a run
	// that deploys a stack (managed) or uses an existing deployment; nil:
	// none beyond the results directory (see Checks).
	Preflight func(managed bool, e doctor.Env) []doctor.Check
}

// Has reports whether p has capability c.
func (p Platform) Has(c providers.Capability) bool { return slices.Contains(p.Capabilities, c) }

// Caps returns p's capabilities, never nil: an engine given nil would
// derive them from the invoker instead of taking the declaration.
func (p Platform) Caps() []providers.Capability {
	return append([]providers.Capability{}, p.Capabilities...)
}

// Checks returns the preflight of a run on p: the results directory
// (dataDir) every run writes to, then p's own checks.
func (p Platform) Checks(managed bool, dataDir string, e doctor.Env) []doctor.Check {
	cs := []doctor.Check{doctor.ResultsDir(dataDir)}
	if p.Preflight != nil {
		cs = append(cs, p.Preflight(managed, e)...)
	}
	return cs
}

// Reads reports whether p reads option o.
func (p Platform) Reads(o Option) bool { return slices.Contains(p.Options, o) }

// Managed reports whether a run on p with target t deploys a stack for
// the run: always when p has no direct path; otherwise when p has a stack
// and neither --function nor --endpoint points at an existing deployment.
func (p Platform) Managed(t Target) bool {
	if p.Stack == nil {
		return false
	}
	if p.Direct == nil {
		return true
	}
	return len(t.Functions) == 0 && t.Endpoint == ""
}

// CheckStackSets refuses stack settings ("key=value") on a target that
// deploys no stack or whose stack takes no settings, and settings the
// stack would refuse (parsed and validated against the stack's defaults;
// the cloud runner validates them again with the run's ids). It contacts
// nothing.
func (p Platform) CheckStackSets(t Target, sets []string) error {
	if len(sets) == 0 {
		return nil
	}
	switch {
	case !p.Managed(t):
		return fmt.Errorf("--stack-set applies to a stack deployed for the run; --platform %s with these flags deploys none", p.Name)
	case !p.Stack.Settings:
		return fmt.Errorf("--platform %s takes no stack settings (got --stack-set %s)", p.Name, sets[0])
	}
	s, err := stackcfg.New(stackcfg.Platform(p.Stack.Program))
	if err != nil {
		return err
	}
	return stackcfg.ApplyOverrides(s, sets)
}

// SettingsProgram returns the stack program a run on target t deploys and
// configures with stack settings, and false when it deploys none or one
// that takes no settings.
func (p Platform) SettingsProgram(t Target) (stackcfg.Platform, bool) {
	if !p.Managed(t) || !p.Stack.Settings {
		return "", false
	}
	return stackcfg.Platform(p.Stack.Program), true
}

// DeploymentRange is the idle range of a run's deployment on target t:
// IdleRangeOn under the run's stack settings sets, limited by local, the
// shortest function timeout of the embedded platform the run starts where
// p deploys no stack of its own (--local-timeout; 0: none).
func (p Platform) DeploymentRange(t Target, sets []string, local time.Duration) (providers.IdleRange, error) {
	r, err := p.IdleRangeOn(t, sets)
	if err != nil || r.IsZero() || p.Stack != nil {
		return r, err
	}
	return r.Within(local), nil
}

// IdleRangeOn returns p's IdleRange for target t deployed with the stack
// settings sets (checked by CheckStackSets): where the run deploys a
// stack whose settings fix how long an invocation may take
// (stackcfg.InvocationLimiter, e.g. --stack-set timeout=800 on aws), the
// range's Limit and release spread follow them (IdleRange.WithLimit), and
// its lanes are the functions it deploys alike (stackcfg.IdleLaner: aws
// fb:lanes); an existing deployment keeps the declared range, whose
// spread assumes the stack's defaults and whose Limit is only what the
// platform imposes on every deployment. Settings the run leaves unset (or
// fills for the run, as OpenFaaS's password) do not matter here and are
// not validated.
func (p Platform) IdleRangeOn(t Target, sets []string) (providers.IdleRange, error) {
	r := p.IdleRange
	program, ok := p.SettingsProgram(t)
	if r.IsZero() || !ok {
		return r, nil
	}
	s, err := stackcfg.New(program)
	if err != nil {
		return r, err
	}
	for _, o := range sets {
		k, v, err := stackcfg.ParseOverride(o)
		if err != nil {
			return r, err
		}
		if err := s.Set(k, v); err != nil {
			return r, err
		}
	}
	if l, ok := s.(stackcfg.InvocationLimiter); ok {
		r = r.WithLimit(l.InvocationLimit())
	}
	if l, ok := s.(stackcfg.IdleLaner); ok {
		r.Lanes = l.IdleLanes()
	}
	return r, nil
}

// Validate refuses a target that sets an option p does not read, then
// runs p's own Check. It contacts nothing.
func (p Platform) Validate(t Target) error {
	set := map[Option]bool{
		OptFunction: len(t.Functions) > 0, OptEndpoint: t.Endpoint != "",
		OptRegion: t.Region != "", OptLocalEndpoint: t.LocalEndpoint != "",
	}
	for _, o := range Options() {
		if set[o] && !p.Reads(o) {
			return fmt.Errorf("--%s does not apply to platform %s (it reads: %s)", o, p.Name, optionList(p.Options))
		}
	}
	if t.LocalEndpoint != "" {
		if err := CheckURL("--local-endpoint", t.LocalEndpoint); err != nil {
			return err
		}
	}
	if p.Check != nil {
		return p.Check(t)
	}
	return nil
}

func optionList(os []Option) string {
	if len(os) == 0 {
		return "no platform flags"
	}
	s := make([]string, len(os))
	for i, o := range os {
		s[i] = "--" + string(o)
	}
	return strings.Join(s, ", ")
}

// CheckURL refuses anything but an absolute http or https URL.
func CheckURL(what, raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%s %q: want an http:// or https:// URL", what, raw)
	}
	return nil
}

// Registry is a set of platform descriptors, looked up by name.
type Registry struct {
	list []Platform
}

// NewRegistry checks every descriptor and returns the registry. A
// half-registered platform — no name, no summary, neither a direct path
// nor a stack, a stack without a program or an outputs reader, an
// embedded platform that does not read --local-endpoint, an unknown
// option or capability, a name given twice — is an error.
func NewRegistry(ps ...Platform) (*Registry, error) {
	var errs []error
	seen := map[string]bool{}
	for _, p := range ps {
		bad := func(format string, a ...any) {
			errs = append(errs, fmt.Errorf("platform %q: %s", p.Name, fmt.Sprintf(format, a...)))
		}
		switch {
		case p.Name == "":
			bad("no name")
		case seen[p.Name]:
			bad("registered twice")
		}
		seen[p.Name] = true
		if strings.TrimSpace(p.Summary) == "" {
			bad("no summary")
		}
		if p.Direct == nil && p.Stack == nil {
			bad("neither a direct path nor a stack")
		}
		if s := p.Stack; s != nil && (s.Program == "" || s.FromOutputs == nil) {
			bad("a stack needs a program name and FromOutputs")
		}
		if p.Embedded && !p.Reads(OptLocalEndpoint) {
			bad("embedded, but does not read --local-endpoint")
		}
		for _, o := range p.Options {
			if !slices.Contains(Options(), o) {
				bad("unknown option %q", o)
			}
		}
		for _, c := range p.Capabilities {
			if !slices.Contains(providers.Capabilities(), c) {
				bad("unknown capability %q", c)
			}
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return &Registry{list: slices.Clone(ps)}, nil
}

// All returns the descriptors in registration order.
func (r *Registry) All() []Platform { return slices.Clone(r.list) }

// Names returns the platform names in registration order.
func (r *Registry) Names() []string {
	out := make([]string, len(r.list))
	for i, p := range r.list {
		out[i] = p.Name
	}
	return out
}

// Lookup returns the platform called name, or an error listing the known
// ones.
func (r *Registry) Lookup(name string) (Platform, error) {
	for _, p := range r.list {
		if p.Name == name {
			return p, nil
		}
	}
	names := r.Names()
	sort.Strings(names)
	return Platform{}, fmt.Errorf("unknown platform %q (known: %s)", name, strings.Join(names, ", "))
}

// SortedKeys returns m's keys sorted: the stored form of a function map
// whose values are secret or long (URLs).
func SortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// OutString reads a non-empty string output.
func OutString(outs map[string]any, key string) (string, error) {
	v, ok := outs[key].(string)
	if !ok || v == "" {
		return "", fmt.Errorf("the stack has no %q output", key)
	}
	return v, nil
}

// OutMap reads a non-empty map-of-strings output (lab name → value).
func OutMap(outs map[string]any, key string) (map[string]string, error) {
	raw, ok := outs[key].(map[string]any)
	if !ok || len(raw) == 0 {
		return nil, fmt.Errorf("the stack has no %q output", key)
	}
	m := make(map[string]string, len(raw))
	for k, v := range raw {
		s, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("output %q[%q] is not a string", key, k)
		}
		m[k] = s
	}
	return m, nil
}
