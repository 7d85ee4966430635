package study

import (
	"time"

	"github.com/faas-benchmarker/faas-benchmarker/engine"
	"github.com/faas-benchmarker/faas-benchmarker/experiments"
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
	v.IdleRange = func(pl Platform, e experiments.Experiment) (providers.IdleRange, error) { return idleRange(reg, pl, e) }
	return v
}

// idleRange is the idle range a cell of experiment e in column pl resolves
// its parameters on, as `fbrun experiment` with the column's flags would:
// a study's platform deploys or starts its own (the empty target), with
// e's stack defaults under the column's stack settings; an embedded
// platform without a stack of its own times its functions out as its
// local knobs say; and the cell's client waits the default --timeout
// (engine.DefaultTimeoutFor the deployment).
func idleRange(reg *platforms.Registry, pl Platform, e experiments.Experiment) (providers.IdleRange, error) {
	p, err := reg.Lookup(pl.Platform)
	if err != nil {
		return providers.IdleRange{}, err
	}
	sets := pl.StackSets()
	if program, ok := p.SettingsProgram(platforms.Target{}); ok {
		sets = experiments.StackSetsFor(e, program, sets)
	}
	var local time.Duration
	if p.Embedded {
		cfg, err := localConfig(pl.Local)
		if err != nil {
			return providers.IdleRange{}, err
		}
		local = cfg.ShortestTimeout()
	}
	r, err := p.DeploymentRange(platforms.Target{}, sets, local)
	if err != nil || r.IsZero() {
		return r, err
	}
	return r.Within(engine.DefaultTimeoutFor(r.Limit)), nil
}

// checkLocalKnobs validates a study platform's knobs as `fbrun experiment`
// would its --local-* flags: parsed by the knob table, the resulting
// configuration validated.
func checkLocalKnobs(knobs map[string]string) error {
	_, err := localConfig(knobs)
	return err
}

// localConfig is the embedded platform's configuration under knobs.
func localConfig(knobs map[string]string) (localfaas.Config, error) {
	cfg := localfaas.DefaultConfig()
	cfg.Functions = localfaas.DefaultFunctions([]string{"lab"})
	return cfg, cfg.SetKnobs(knobs)
}
