// Package experiments holds the named experiments of faas-benchmarker. Each
// experiment answers one question about a FaaS platform with a documented
// method, written against the engine's Benchmarker so that it runs the same
// way on every platform. Catalog lists them; the CLI looks them up by name.
package experiments

import (
	"context"
	"errors"
	"fmt"
	"math"
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

// Estimates are an experiment's answers, keyed by stable names such as
// "idle_timeout_s" or "cold_p50_ms". Store them with Set, which refuses
// what JSON (and a reader) cannot take; an estimate that could not be made
// is absent, never a made-up number.
type Estimates map[string]float64

// EstimateError is a refused estimate: its key and why.
type EstimateError struct {
	Key    string
	Value  float64
	Reason string
}

func (e *EstimateError) Error() string {
	return fmt.Sprintf("estimate %q = %v: %s", e.Key, e.Value, e.Reason)
}

// Set stores v under key: the one way an estimate is stored. An empty key
// or a NaN or infinite value is refused with an *EstimateError and leaves
// e unchanged.
func (e Estimates) Set(key string, v float64) error {
	switch {
	case key == "":
		return &EstimateError{Key: key, Value: v, Reason: "no key"}
	case math.IsNaN(v):
		return &EstimateError{Key: key, Value: v, Reason: "not a number"}
	case math.IsInf(v, 0):
		return &EstimateError{Key: key, Value: v, Reason: "infinite"}
	}
	e[key] = v
	return nil
}

// Validate reports every stored value Set would have refused (written to
// the map directly), sorted by key; nil when there is none.
func (e Estimates) Validate() error {
	keys := make([]string, 0, len(e))
	for k := range e {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var errs []error
	for _, k := range keys {
		if err := (Estimates{}).Set(k, e[k]); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

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
