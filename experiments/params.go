package experiments

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Param documents one experiment parameter.
type Param struct {
	Name    string
	Default string
	Help    string
}

// Params are an experiment's parameter values: the defaults from Params()
// overridden by the user's --set key=value pairs. Typed getters parse on
// access; a value that does not parse panics with a *ParamError, which
// Resolve prevents by validating every value up front with Check.
type Params struct {
	values map[string]string
}

// ParamError reports a bad parameter value.
type ParamError struct {
	Name, Value, Want string
}

func (e *ParamError) Error() string {
	return fmt.Sprintf("parameter %s=%q: want %s", e.Name, e.Value, e.Want)
}

// Resolve applies overrides to e's defaults. Unknown names are an error
// listing the known ones; so is an override that does not parse as the
// type of its default (int, float, duration, bool or list).
func Resolve(e Experiment, overrides map[string]string) (Params, error) {
	vals := map[string]string{}
	for _, p := range e.Params() {
		vals[p.Name] = p.Default
	}
	var unknown []string
	for k, v := range overrides {
		if _, ok := vals[k]; !ok {
			unknown = append(unknown, k)
			continue
		}
		vals[k] = v
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		var known []string
		for _, p := range e.Params() {
			known = append(known, p.Name)
		}
		return Params{}, fmt.Errorf("experiment %s has no parameter %s (known: %s)", e.Name(),
			strings.Join(unknown, ", "), strings.Join(known, ", "))
	}
	for _, p := range e.Params() {
		if err := checkLike(p.Name, p.Default, vals[p.Name]); err != nil {
			return Params{}, fmt.Errorf("experiment %s: %w", e.Name(), err)
		}
	}
	params := Params{values: vals}
	if v, ok := e.(Validator); ok {
		if err := v.Validate(params); err != nil {
			return Params{}, err
		}
	}
	return params, nil
}

// checkLike checks that v parses as the kind of value def is.
func checkLike(name, def, v string) error {
	switch {
	case def == "true" || def == "false":
		if _, err := strconv.ParseBool(v); err != nil {
			return &ParamError{name, v, "true or false"}
		}
	case isInt(def):
		if !isInt(v) {
			return &ParamError{name, v, "an integer"}
		}
	case isFloat(def):
		if !isFloat(v) {
			return &ParamError{name, v, "a number"}
		}
	case isDuration(def):
		if !isDuration(v) {
			return &ParamError{name, v, "a duration such as 500ms, 10s or 2m"}
		}
	}
	return nil
}

func isInt(s string) bool      { _, err := strconv.Atoi(s); return err == nil }
func isFloat(s string) bool    { _, err := strconv.ParseFloat(s, 64); return err == nil }
func isDuration(s string) bool { _, err := time.ParseDuration(s); return err == nil }

// NewParams builds Params directly from values (for tests and callers that
// validated elsewhere).
func NewParams(values map[string]string) Params { return Params{values: values} }

// Map returns a copy of all values (stored with the run).
func (p Params) Map() map[string]string {
	out := make(map[string]string, len(p.values))
	for k, v := range p.values {
		out[k] = v
	}
	return out
}

// String returns the raw value of name.
func (p Params) String(name string) string { return p.values[name] }

// Int returns name as an int.
func (p Params) Int(name string) int {
	v, err := strconv.Atoi(p.values[name])
	if err != nil {
		panic(&ParamError{name, p.values[name], "an integer"})
	}
	return v
}

// Float returns name as a float64.
func (p Params) Float(name string) float64 {
	v, err := strconv.ParseFloat(p.values[name], 64)
	if err != nil {
		panic(&ParamError{name, p.values[name], "a number"})
	}
	return v
}

// Duration returns name as a time.Duration.
func (p Params) Duration(name string) time.Duration {
	v, err := time.ParseDuration(p.values[name])
	if err != nil {
		panic(&ParamError{name, p.values[name], "a duration"})
	}
	return v
}

// Bool returns name as a bool.
func (p Params) Bool(name string) bool {
	v, err := strconv.ParseBool(p.values[name])
	if err != nil {
		panic(&ParamError{name, p.values[name], "true or false"})
	}
	return v
}

// List returns name split at commas, spaces trimmed, empty items dropped.
func (p Params) List(name string) []string {
	var out []string
	for _, s := range strings.Split(p.values[name], ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// Ints returns name as a comma-separated list of ints.
func (p Params) Ints(name string) ([]int, error) {
	var out []int
	for _, s := range p.List(name) {
		v, err := strconv.Atoi(s)
		if err != nil {
			return nil, &ParamError{name, p.values[name], "a comma-separated list of integers"}
		}
		out = append(out, v)
	}
	return out, nil
}
