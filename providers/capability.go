package providers

import (
	"slices"
	"time"
)

// Capability is an optional ability of a platform that experiments ask
// for. A platform declares its capabilities (platforms.Platform), the
// engine consults that declaration, and the platform's invoker implements
// the matching interface (a test of platforms/builtin checks both agree).
type Capability string

// The capabilities experiments ask for.
const (
	// ForceColdStart: the invoker implements ColdStarter.
	ForceColdStart Capability = "force-cold-start"
	// SetMemory: the invoker implements MemorySetter.
	SetMemory Capability = "set-memory"
	// AccountConcurrency: the platform's functions share an account-wide
	// pool of concurrent executions with every other function of the
	// account, and the invoker reads its limits (ConcurrencyLimiter).
	AccountConcurrency Capability = "account-concurrency"
)

// Capabilities lists every capability, in a stable order.
func Capabilities() []Capability {
	return []Capability{ForceColdStart, SetMemory, AccountConcurrency}
}

// Implements reports whether inv has the methods capability c needs.
func Implements(inv Invoker, c Capability) bool {
	switch c {
	case ForceColdStart:
		_, ok := inv.(ColdStarter)
		return ok
	case SetMemory:
		_, ok := inv.(MemorySetter)
		return ok
	case AccountConcurrency:
		_, ok := inv.(ConcurrencyLimiter)
		return ok
	}
	return false
}

// CapabilitiesOf derives the capabilities of a bare invoker from its
// methods: for an engine built without a platform declaration (tests,
// library use). AccountConcurrency is never derived: an invoker that can
// read limits (the local platform speaks Lambda's API) does not make its
// platform share an account.
func CapabilitiesOf(inv Invoker) []Capability {
	var out []Capability
	for _, c := range []Capability{ForceColdStart, SetMemory} {
		if Implements(inv, c) {
			out = append(out, c)
		}
	}
	return out
}

// Has reports whether caps holds c.
func Has(caps []Capability, c Capability) bool { return slices.Contains(caps, c) }

// Pricing says how a platform's invocations are priced by price=auto:
// the entries of the price table (experiments.Prices) by name. The zero
// value prices nothing (a platform billed by the cluster, not per
// invocation).
type Pricing struct {
	// Default is the entry for every function ("": none).
	Default string
	// ByArchitecture maps the architecture the platform reports for a
	// function (ArchitectureReader) to its entry; when set it takes
	// precedence over Default, and a function whose architecture cannot
	// be read or is not listed is an error.
	ByArchitecture map[string]string
}

// IdleRange is what a platform declares about how long it keeps an idle
// instance, so that idle-timeout's defaults fit its scale (seconds on the
// local platform, minutes on the clouds). The zero value declares nothing.
// It is a starting range, not a claim: idle-timeout's grid grows beyond
// Max while fewer than half the instances went cold and shrinks below Min
// while nearly all did, so a platform configured otherwise (or an emulator
// behind a cloud's API) is still measured.
type IdleRange struct {
	// Min and Max bound the grid of idle gaps probed first.
	Min, Max time.Duration
	// Spread is the longest handler sleep a probe may add to spread its
	// release time (against a periodic sweeper): it must fit Limit.
	Spread time.Duration
	// Limit is the longest one invocation may take on the run — the
	// deployment's function timeout, what the platform lets one
	// synchronous call take, or the client's timeout, the shortest — and
	// 0 where none is known (an existing deployment's timeout is not).
	Limit time.Duration
	// Lanes are the functions deployed alike that idle-timeout probes in
	// parallel, where the deployment says (nil: the experiment's own
	// default, function1..3).
	Lanes []string
}

// IsZero reports whether r declares nothing.
func (r IdleRange) IsZero() bool {
	return r.Min == 0 && r.Max == 0 && r.Spread == 0 && r.Limit == 0 && len(r.Lanes) == 0
}

// SpreadWithin is the release spread that fits invocations of at most
// limit: three quarters of it (the rest for the probe's own sleep, the
// runtime and the round trip).
func SpreadWithin(limit time.Duration) time.Duration { return limit * 3 / 4 }

// WithLimit returns r for a deployment whose invocations may take at most
// limit, with the release spread that fits it (SpreadWithin).
func (r IdleRange) WithLimit(limit time.Duration) IdleRange {
	r.Limit, r.Spread = limit, SpreadWithin(limit)
	return r
}

// Within returns r where invocations are also cut at limit (0: no such
// cut, r unchanged): Limit becomes limit where that is shorter, and the
// release spread is cut to fit it where it was longer.
func (r IdleRange) Within(limit time.Duration) IdleRange {
	if limit <= 0 {
		return r
	}
	if r.Limit == 0 || limit < r.Limit {
		r.Limit = limit
	}
	r.Spread = min(r.Spread, SpreadWithin(r.Limit))
	return r
}
