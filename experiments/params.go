package experiments

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Kind is the type of a parameter's value. Every parameter declares one;
// its value is parsed once, by Resolve, into the matching Go type.
type Kind string

// The parameter kinds and the Go type each getter returns.
const (
	// KindString is free text (Params.String).
	KindString Kind = "string"
	// KindInt is a whole number (Params.Int).
	KindInt Kind = "int"
	// KindFloat is a decimal number (Params.Float).
	KindFloat Kind = "float"
	// KindDuration is a Go duration such as 500ms, 10s or 2m
	// (Params.Duration).
	KindDuration Kind = "duration"
	// KindBool is true or false (Params.Bool).
	KindBool Kind = "bool"
	// KindList is a comma-separated list of words (Params.List).
	KindList Kind = "list"
	// KindIntList is a comma-separated list of whole numbers (Params.Ints).
	KindIntList Kind = "int list"
)

// Bound is one end of a parameter's valid range. Durations compare in
// seconds; lists bound every item.
type Bound struct {
	// Value is the limit.
	Value float64
	// Open excludes Value itself (> instead of >=, < instead of <=).
	Open bool
}

// Param declares one experiment parameter: its name, type, unit, default,
// valid range and help. Build one with StringParam, IntParam, FloatParam,
// DurationParam, BoolParam, ListParam or IntListParam and refine it with the
// methods below; each returns the changed copy.
type Param struct {
	// Name is the --set key.
	Name string
	// Kind is the value's type.
	Kind Kind
	// Default is the value when --set does not give one, as the user would
	// write it (docs/experiments.md lists it verbatim).
	Default string
	// Help is a one-line description.
	Help string
	// Unit names the unit of a number ("requests/s", "MB"); durations
	// carry their unit in the value.
	Unit string
	// Min and Max bound the value (nil: unbounded).
	Min, Max *Bound
	// Choices, when not empty, are the only accepted values (of each item,
	// for a list).
	Choices []string
	// NonEmpty refuses an empty value (an empty list or string).
	NonEmpty bool
	// LegacySeconds also accepts a plain number of seconds for a duration
	// ("0.5" = 500ms): the spelling of parameters that used to be float
	// seconds, which stored runs may carry.
	LegacySeconds bool
	// Check, when set, validates the raw value further (e.g. a list of
	// name:size items); its error is shown as what is wanted.
	Check func(string) error
}

// StringParam declares a string parameter.
func StringParam(name, def, help string) Param {
	return Param{Name: name, Kind: KindString, Default: def, Help: help}
}

// IntParam declares an integer parameter.
func IntParam(name, def, help string) Param {
	return Param{Name: name, Kind: KindInt, Default: def, Help: help}
}

// FloatParam declares a decimal-number parameter.
func FloatParam(name, def, help string) Param {
	return Param{Name: name, Kind: KindFloat, Default: def, Help: help}
}

// DurationParam declares a duration parameter.
func DurationParam(name, def, help string) Param {
	return Param{Name: name, Kind: KindDuration, Default: def, Help: help}
}

// BoolParam declares a boolean parameter.
func BoolParam(name, def, help string) Param {
	return Param{Name: name, Kind: KindBool, Default: def, Help: help}
}

// ListParam declares a comma-separated list of words.
func ListParam(name, def, help string) Param {
	return Param{Name: name, Kind: KindList, Default: def, Help: help}
}

// IntListParam declares a comma-separated list of integers.
func IntListParam(name, def, help string) Param {
	return Param{Name: name, Kind: KindIntList, Default: def, Help: help}
}

// AtLeast requires the value to be >= v.
func (p Param) AtLeast(v float64) Param { p.Min = &Bound{Value: v}; return p }

// Above requires the value to be > v.
func (p Param) Above(v float64) Param { p.Min = &Bound{Value: v, Open: true}; return p }

// AtMost requires the value to be <= v.
func (p Param) AtMost(v float64) Param { p.Max = &Bound{Value: v}; return p }

// Below requires the value to be < v.
func (p Param) Below(v float64) Param { p.Max = &Bound{Value: v, Open: true}; return p }

// In requires lo <= value <= hi.
func (p Param) In(lo, hi float64) Param { return p.AtLeast(lo).AtMost(hi) }

// OneOf restricts the value (each item of a list) to choices.
func (p Param) OneOf(choices ...string) Param { p.Choices = choices; return p }

// Required refuses an empty value.
func (p Param) Required() Param { p.NonEmpty = true; return p }

// WithUnit sets the unit shown with the value.
func (p Param) WithUnit(u string) Param { p.Unit = u; return p }

// Seconds also accepts a plain number of seconds for a duration (see
// LegacySeconds).
func (p Param) Seconds() Param { p.LegacySeconds = true; return p }

// Checked adds a custom check of the raw value.
func (p Param) Checked(f func(string) error) Param { p.Check = f; return p }

// Want describes the accepted values in words, e.g. "an integer >= 1" or
// "a duration > 0s (e.g. 500ms, 10s, 2m)": the text of a refusal and of
// `fbrun experiments --params`.
func (p Param) Want() string {
	var b strings.Builder
	switch p.Kind {
	case KindString:
		if len(p.Choices) > 0 {
			b.WriteString("one of " + strings.Join(p.Choices, ", "))
		} else {
			b.WriteString("text")
		}
	case KindInt:
		b.WriteString("an integer")
	case KindFloat:
		b.WriteString("a number")
	case KindDuration:
		b.WriteString("a duration")
	case KindBool:
		b.WriteString("true or false")
	case KindList:
		b.WriteString("a comma-separated list")
		if len(p.Choices) > 0 {
			b.WriteString(" of " + strings.Join(p.Choices, ", "))
		}
	case KindIntList:
		b.WriteString("a comma-separated list of integers")
	default:
		b.WriteString("a value")
	}
	if r := p.rangeText(); r != "" {
		if p.Kind == KindIntList || p.Kind == KindList {
			b.WriteString(", each")
		}
		b.WriteString(" " + r)
	}
	if p.Unit != "" {
		b.WriteString(" (" + p.Unit + ")")
	}
	if p.Kind == KindDuration {
		b.WriteString(" (e.g. 500ms, 10s, 2m")
		if p.LegacySeconds {
			b.WriteString(", or plain seconds")
		}
		b.WriteString(")")
	}
	if p.NonEmpty && p.Kind != KindInt && p.Kind != KindFloat && p.Kind != KindDuration && p.Kind != KindBool {
		b.WriteString(", not empty")
	}
	return b.String()
}

// rangeText is "in 1..10", ">= 1", "> 0s" or "".
func (p Param) rangeText() string {
	f := func(v float64) string {
		if p.Kind == KindDuration {
			return time.Duration(v * float64(time.Second)).String()
		}
		return strconv.FormatFloat(v, 'g', -1, 64)
	}
	switch {
	case p.Min != nil && p.Max != nil && !p.Min.Open && !p.Max.Open:
		return "in " + f(p.Min.Value) + ".." + f(p.Max.Value)
	case p.Min != nil && p.Max != nil:
		return fmt.Sprintf("%s %s and %s %s", lowOp(p.Min), f(p.Min.Value), highOp(p.Max), f(p.Max.Value))
	case p.Min != nil:
		return lowOp(p.Min) + " " + f(p.Min.Value)
	case p.Max != nil:
		return highOp(p.Max) + " " + f(p.Max.Value)
	}
	return ""
}

func lowOp(b *Bound) string {
	if b.Open {
		return ">"
	}
	return ">="
}

func highOp(b *Bound) string {
	if b.Open {
		return "<"
	}
	return "<="
}

// inRange reports whether x satisfies the bounds.
func (p Param) inRange(x float64) bool {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return false
	}
	if b := p.Min; b != nil && (x < b.Value || b.Open && x == b.Value) {
		return false
	}
	if b := p.Max; b != nil && (x > b.Value || b.Open && x == b.Value) {
		return false
	}
	return true
}

// Parse parses raw as the parameter's kind and checks its range, choices
// and custom check. The result is string, int, float64, time.Duration,
// bool, []string or []int by Kind.
func (p Param) Parse(raw string) (any, error) {
	bad := func() error { return &ParamError{Name: p.Name, Value: raw, Want: p.Want()} }
	s := strings.TrimSpace(raw)
	if p.NonEmpty && s == "" {
		return nil, bad()
	}
	var v any
	switch p.Kind {
	case KindString:
		if len(p.Choices) > 0 && !slices.Contains(p.Choices, s) {
			return nil, bad()
		}
		v = s
	case KindInt:
		n, err := strconv.Atoi(s)
		if err != nil || !p.inRange(float64(n)) {
			return nil, bad()
		}
		v = n
	case KindFloat:
		x, err := strconv.ParseFloat(s, 64)
		if err != nil || !p.inRange(x) {
			return nil, bad()
		}
		v = x
	case KindDuration:
		d, err := time.ParseDuration(s)
		if err != nil && p.LegacySeconds {
			var x float64
			if x, err = strconv.ParseFloat(s, 64); err == nil {
				if math.IsNaN(x) || math.IsInf(x, 0) || math.Abs(x) > math.MaxInt64/float64(time.Second) {
					return nil, bad()
				}
				d = time.Duration(x * float64(time.Second))
			}
		}
		if err != nil || !p.inRange(d.Seconds()) {
			return nil, bad()
		}
		v = d
	case KindBool:
		x, err := strconv.ParseBool(s)
		if err != nil {
			return nil, bad()
		}
		v = x
	case KindList:
		items := splitList(s)
		for _, it := range items {
			if len(p.Choices) > 0 && !slices.Contains(p.Choices, it) {
				return nil, bad()
			}
		}
		v = items
	case KindIntList:
		var ns []int
		for _, it := range splitList(s) {
			n, err := strconv.Atoi(it)
			if err != nil || !p.inRange(float64(n)) {
				return nil, bad()
			}
			ns = append(ns, n)
		}
		v = ns
	default:
		return nil, fmt.Errorf("parameter %s declares no known type (%q)", p.Name, p.Kind)
	}
	if p.Check != nil {
		if err := p.Check(s); err != nil {
			return nil, &ParamError{Name: p.Name, Value: raw, Want: err.Error()}
		}
	}
	return v, nil
}

// splitList splits at commas, trims spaces and drops empty items.
func splitList(s string) []string {
	var out []string
	for _, it := range strings.Split(s, ",") {
		if it = strings.TrimSpace(it); it != "" {
			out = append(out, it)
		}
	}
	return out
}

// ParamError reports a bad parameter value and what is accepted.
type ParamError struct {
	Name, Value, Want string
}

func (e *ParamError) Error() string {
	return fmt.Sprintf("parameter %s=%q: want %s", e.Name, e.Value, e.Want)
}

// Validator is implemented by experiments whose parameters constrain each
// other (idle-timeout: min_gap <= max_gap). Resolve calls it after every
// value parsed, so a refusal happens before anything starts.
type Validator interface {
	ValidateParams(Params) error
}

// Params are an experiment's parameter values, parsed once: the defaults
// from Params() overridden by the user's --set key=value pairs. The typed
// getters return the parsed values and never fail on user input (Resolve
// refused bad values); a getter for an undeclared parameter or of the wrong
// kind is a bug in the experiment, which returns the zero value and is
// reported by Err.
type Params struct {
	raw    map[string]string
	values map[string]any
	misuse *[]string
}

// Resolve applies overrides to e's defaults and parses every value. Unknown
// names are an error listing the known ones; so is a value that does not
// parse as its parameter's type or lies outside its range (the error says
// what is wanted), and a combination the experiment refuses (Validator).
func Resolve(e Experiment, overrides map[string]string) (Params, error) {
	decl := e.Params()
	raw := map[string]string{}
	for _, p := range decl {
		raw[p.Name] = p.Default
	}
	var unknown []string
	for k, v := range overrides {
		if _, ok := raw[k]; !ok {
			unknown = append(unknown, k)
			continue
		}
		raw[k] = v
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		var known []string
		for _, p := range decl {
			known = append(known, p.Name)
		}
		return Params{}, fmt.Errorf("experiment %s has no parameter %s (known: %s)", e.Name(),
			strings.Join(unknown, ", "), strings.Join(known, ", "))
	}
	ps := Params{raw: raw, values: map[string]any{}, misuse: new([]string)}
	for _, p := range decl {
		v, err := p.Parse(raw[p.Name])
		if err != nil {
			return Params{}, fmt.Errorf("experiment %s: %w", e.Name(), err)
		}
		ps.values[p.Name] = v
	}
	if v, ok := e.(Validator); ok {
		if err := v.ValidateParams(ps); err != nil {
			return Params{}, fmt.Errorf("experiment %s: %w", e.Name(), err)
		}
	}
	return ps, nil
}

// Map returns a copy of the raw values (stored with the run, as given).
func (p Params) Map() map[string]string {
	out := make(map[string]string, len(p.raw))
	for k, v := range p.raw {
		out[k] = v
	}
	return out
}

// Raw returns the value of name as given (or its default).
func (p Params) Raw(name string) string { return p.raw[name] }

// Err reports getter calls that did not match a declared parameter (a bug
// in the experiment), or nil. A misspelled name is caught before that, at
// test time, by TestParamNamesDeclared; Err still catches a getter of the
// wrong kind.
func (p Params) Err() error {
	if p.misuse == nil || len(*p.misuse) == 0 {
		return nil
	}
	return fmt.Errorf("experiment read undeclared or mistyped parameters: %s", strings.Join(*p.misuse, "; "))
}

// get returns the parsed value of name when it has type T.
func get[T any](p Params, name string, kind Kind) T {
	v, ok := p.values[name].(T)
	if !ok && p.misuse != nil {
		*p.misuse = append(*p.misuse, fmt.Sprintf("%s as %s", name, kind))
	}
	return v
}

// String returns a string parameter.
func (p Params) String(name string) string { return get[string](p, name, KindString) }

// Int returns an integer parameter.
func (p Params) Int(name string) int { return get[int](p, name, KindInt) }

// Float returns a decimal-number parameter.
func (p Params) Float(name string) float64 { return get[float64](p, name, KindFloat) }

// Duration returns a duration parameter.
func (p Params) Duration(name string) time.Duration {
	return get[time.Duration](p, name, KindDuration)
}

// Bool returns a boolean parameter.
func (p Params) Bool(name string) bool { return get[bool](p, name, KindBool) }

// List returns a list parameter, items trimmed, empty items dropped.
func (p Params) List(name string) []string { return get[[]string](p, name, KindList) }

// Ints returns an integer-list parameter.
func (p Params) Ints(name string) []int { return get[[]int](p, name, KindIntList) }
