// Package experiments holds the named experiments of faas-benchmarker. Each
// experiment answers one question about a FaaS platform with a documented
// method, written against the engine's Benchmarker so that it runs the same
// way on every platform. Catalog lists them; the CLI looks them up by name.
package experiments

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/faas-benchmarker/faas-benchmarker/engine"
)

// Experiment is one named experiment.
type Experiment interface {
	// Name is the CLI name (e.g. "cold-start").
	Name() string
	// Summary is a one-line description: the question it answers.
	Summary() string
	// Params lists the parameters with defaults and help.
	Params() []Param
	// Run runs the experiment and returns its estimates under stable keys
	// (documented in docs/experiments.md). Everything measured is stored by
	// the Benchmarker as it happens, so an error or cancellation loses
	// nothing that was measured.
	Run(ctx context.Context, b *engine.Benchmarker, p Params) (Estimates, error)
}

// Validator is implemented by experiments whose parameters have ranges or
// relations beyond their types. Resolve calls it, so a bad value is refused
// before any platform starts or any run row is written.
type Validator interface {
	Validate(p Params) error
}

// Estimates are an experiment's answers, keyed by stable names such as
// "idle_timeout_s" or "cold_p50_ms".
type Estimates map[string]float64

// Lookup returns the experiment called name from the catalog.
func Lookup(name string) (Experiment, error) {
	var names []string
	for _, e := range Catalog() {
		if e.Name() == name {
			return e, nil
		}
		names = append(names, e.Name())
	}
	sort.Strings(names)
	return nil, fmt.Errorf("unknown experiment %q (known: %s)", name, strings.Join(names, ", "))
}
