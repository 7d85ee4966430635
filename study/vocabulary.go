package study

import (
	"github.com/faas-benchmarker/faas-benchmarker/localfaas"
	"github.com/faas-benchmarker/faas-benchmarker/platforms"
	"github.com/faas-benchmarker/faas-benchmarker/providers"
)

// VocabularyOf is what a study file may name with the platforms of reg:
// the --platform values of `fbrun experiment` that need no existing
// deployment (a study takes no --function or --endpoint: the platform
// starts or deploys its own), and the knobs of the embedded local
// platform (localfaas.Knobs), whose values are checked as the --local-*
// flags would be.
func VocabularyOf(reg *platforms.Registry) Vocabulary {
	v := Vocabulary{CheckLocal: checkLocalKnobs}
	for _, p := range reg.All() {
		if p.Embedded {
			v.LocalPlatforms = append(v.LocalPlatforms, p.Name)
		}
		if p.Embedded || p.Stack != nil {
			v.Platforms = append(v.Platforms, p.Name)
		}
	}
	for _, k := range localfaas.Knobs() {
		v.LocalKnobs = append(v.LocalKnobs, k.Name)
	}
	v.IdleRange = func(name string, stack []string) (providers.IdleRange, error) {
		p, err := reg.Lookup(name)
		if err != nil {
			return providers.IdleRange{}, err
		}
		// A study's platform deploys or starts its own (no --function,
		// no --endpoint): the empty target.
		return p.IdleRangeOn(platforms.Target{}, stack)
	}
	return v
}

// checkLocalKnobs validates a study platform's knobs as `fbrun experiment`
// would its --local-* flags: parsed by the knob table, the resulting
// configuration validated.
func checkLocalKnobs(knobs map[string]string) error {
	cfg := localfaas.DefaultConfig()
	cfg.Functions = localfaas.DefaultFunctions([]string{"lab"})
	return cfg.SetKnobs(knobs)
}
