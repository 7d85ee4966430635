package experiments

import (
	"maps"

	"github.com/faas-benchmarker/faas-benchmarker/providers"
	"github.com/faas-benchmarker/faas-benchmarker/stacks/stackcfg"
)

// PlatformDefaulter is implemented by experiments whose parameter defaults
// depend on the time scale a platform declares (platforms.Platform's
// IdleRange): idle-timeout probes gaps of seconds on the local platform
// and of minutes on a cloud.
type PlatformDefaulter interface {
	// PlatformDefaults returns the defaults on a platform that declares
	// idle; they replace the declared ones (Params), under the user's
	// values.
	PlatformDefaults(idle providers.IdleRange) map[string]string
}

// StackDefaulter is implemented by experiments that want the stack deployed
// for their run set up otherwise than the stack's defaults: idle-timeout
// on aws wants a longer Lambda timeout, for its release spread, and more
// lanes. The user's --stack-set settings apply on top (StackSetsFor).
type StackDefaulter interface {
	// StackDefaults returns "key=value" settings for the stack program,
	// given the user's (which apply after them).
	StackDefaults(program stackcfg.Platform, user []string) []string
}

// StackSetsFor returns the stack settings of a run of e on a stack deployed
// by program: e's defaults (StackDefaulter), then the user's, which win.
func StackSetsFor(e Experiment, program stackcfg.Platform, user []string) []string {
	d, ok := e.(StackDefaulter)
	if !ok {
		return user
	}
	return append(d.StackDefaults(program, user), user...)
}

// PlatformChecker is implemented by experiments whose parameters must fit
// a limit of the deployment (IdleRange.Limit): idle-timeout's probes sleep
// up to probe_sleep + max_stagger, which a function timeout would cut.
type PlatformChecker interface {
	// CheckOn refuses resolved parameters the deployment cannot run.
	CheckOn(p Params, idle providers.IdleRange) error
}

// ResolveOn is Resolve on a platform that declares idle: the experiment's
// platform defaults (PlatformDefaulter) replace its declared defaults, the
// user's overrides apply on top, and Params.Map holds the values the run
// uses (stored with it); then the experiment checks them against the
// deployment's limits (PlatformChecker). A platform that declares nothing,
// or an experiment without platform defaults, resolves as Resolve.
func ResolveOn(e Experiment, overrides map[string]string, idle providers.IdleRange) (Params, error) {
	if idle.IsZero() {
		return Resolve(e, overrides)
	}
	merged := maps.Clone(overrides)
	if d, ok := e.(PlatformDefaulter); ok {
		merged = d.PlatformDefaults(idle)
		maps.Copy(merged, overrides)
	}
	p, err := Resolve(e, merged)
	if err != nil {
		return p, err
	}
	if c, ok := e.(PlatformChecker); ok {
		return p, c.CheckOn(p, idle)
	}
	return p, nil
}
