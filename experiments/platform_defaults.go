package experiments

import (
	"maps"

	"github.com/faas-benchmarker/faas-benchmarker/providers"
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

// ResolveOn is Resolve on a platform that declares idle: the experiment's
// platform defaults (PlatformDefaulter) replace its declared defaults, the
// user's overrides apply on top, and Params.Map holds the values the run
// uses (stored with it). A platform that declares nothing, or an
// experiment without platform defaults, resolves as Resolve.
func ResolveOn(e Experiment, overrides map[string]string, idle providers.IdleRange) (Params, error) {
	d, ok := e.(PlatformDefaulter)
	if !ok || idle == (providers.IdleRange{}) {
		return Resolve(e, overrides)
	}
	merged := d.PlatformDefaults(idle)
	maps.Copy(merged, overrides)
	return Resolve(e, merged)
}
