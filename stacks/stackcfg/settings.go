package stackcfg

import (
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Settings is the typed configuration of one stack program. Every
// configuration type in this package implements it with a pointer receiver.
type Settings interface {
	// Platform names the stack program the settings are for.
	Platform() Platform
	// Keys lists the config keys (without the "fb:" namespace) Set accepts,
	// with a one-line description each, sorted by key.
	Keys() []KeyDoc
	// Set parses value into the field named by key.
	Set(key, value string) error
	// Validate reports every invalid field, or nil.
	Validate() error
}

// KeyDoc describes one config key.
type KeyDoc struct {
	// Key is the config key without namespace ("memory").
	Key string
	// Help is a one-line description including the default.
	Help string
}

// programs lists the stack programs with their default settings, one
// line each: a new stack program is one line here (and its program in
// stacks/program's table; a test there checks both lists agree).
var programs = []struct {
	platform Platform
	defaults func() Settings
}{
	{PlatformPermanent, func() Settings { c := DefaultPermanent(); return &c }},
	{PlatformAWS, func() Settings { c := DefaultAWS(); return &c }},
	{PlatformAzure, func() Settings { c := DefaultAzure(); return &c }},
	{PlatformOpenFaaS, func() Settings { c := DefaultOpenFaaS(); return &c }},
}

// Platforms returns every stack program name, in a stable order.
func Platforms() []Platform {
	out := make([]Platform, len(programs))
	for i, p := range programs {
		out[i] = p.platform
	}
	return out
}

// New returns the default settings of stack program p.
func New(p Platform) (Settings, error) {
	for _, e := range programs {
		if e.platform == p {
			return e.defaults(), nil
		}
	}
	return nil, fmt.Errorf("stackcfg: unknown platform %q (want one of %s)", p, platformList())
}

func platformList() string {
	names := make([]string, 0, len(programs))
	for _, p := range Platforms() {
		names = append(names, string(p))
	}
	return strings.Join(names, ", ")
}

// InvocationLimiter is implemented by the settings of a stack that fix how
// long one invocation of a deployed lab function may take (its function
// timeout): idle-timeout's release spread must fit it.
type InvocationLimiter interface {
	// InvocationLimit is the longest one invocation may take.
	InvocationLimit() time.Duration
}

// IdleLaner is implemented by the settings of a stack that deploys
// functions alike for idle-timeout to probe in parallel (its lanes).
type IdleLaner interface {
	// IdleLanes names them, as the stack's function-name output does.
	IdleLanes() []string
}

// RunSecrets is implemented by the settings holding a secret that, when
// not given, is made new for each run (the OpenFaaS gateway password: the
// stack is thrown away after the run).
type RunSecrets interface {
	// FillRunSecrets sets every such secret still empty to newSecret().
	FillRunSecrets(newSecret func() (string, error)) error
}

// ParseOverride splits a command-line override "key=value" (the key may
// carry the "fb:" namespace).
func ParseOverride(s string) (key, value string, err error) {
	k, v, ok := strings.Cut(s, "=")
	k = strings.TrimPrefix(strings.TrimSpace(k), Namespace+":")
	if !ok || k == "" {
		return "", "", fmt.Errorf("stackcfg: override %q is not key=value", s)
	}
	return k, v, nil
}

// ApplyOverrides applies "key=value" overrides in order, then validates.
func ApplyOverrides(s Settings, overrides []string) error {
	for _, o := range overrides {
		k, v, err := ParseOverride(o)
		if err != nil {
			return err
		}
		if err := s.Set(k, v); err != nil {
			return err
		}
	}
	return s.Validate()
}

// field binds one config key to a struct field.
type field struct {
	key  string
	help string
	set  func(string) error
}

func setField(platform Platform, fields []field, key, value string) error {
	for _, f := range fields {
		if f.key == key {
			if err := f.set(strings.TrimSpace(value)); err != nil {
				return fmt.Errorf("stackcfg: %s:%s (%s stack): %w", Namespace, key, platform, err)
			}
			return nil
		}
	}
	known := make([]string, 0, len(fields))
	for _, f := range fields {
		known = append(known, f.key)
	}
	sort.Strings(known)
	return fmt.Errorf("stackcfg: unknown key %s:%s for the %s stack (known: %s)",
		Namespace, key, platform, strings.Join(known, ", "))
}

func keyDocs(fields []field) []KeyDoc {
	docs := make([]KeyDoc, 0, len(fields))
	for _, f := range fields {
		docs = append(docs, KeyDoc{Key: f.key, Help: f.help})
	}
	sort.Slice(docs, func(i, j int) bool { return docs[i].Key < docs[j].Key })
	return docs
}

func str(p *string) func(string) error {
	return func(v string) error { *p = v; return nil }
}

func integer(p *int) func(string) error {
	return func(v string) error {
		n, err := strconv.Atoi(v)
		if err != nil {
			return fmt.Errorf("%q is not an integer", v)
		}
		*p = n
		return nil
	}
}

func boolean(p *bool) func(string) error {
	return func(v string) error {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return fmt.Errorf("%q is not a boolean", v)
		}
		*p = b
		return nil
	}
}

// list parses "a,b,c" (spaces trimmed, empty items dropped).
func list(p *[]string) func(string) error {
	return func(v string) error {
		*p = splitList(v)
		return nil
	}
}

func splitList(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// kvmap parses "K1=v1,K2=v2".
func kvmap(p *map[string]string) func(string) error {
	return func(v string) error {
		m := map[string]string{}
		for _, item := range splitList(v) {
			k, val, ok := strings.Cut(item, "=")
			if !ok || strings.TrimSpace(k) == "" {
				return fmt.Errorf("%q is not KEY=value", item)
			}
			m[strings.TrimSpace(k)] = val
		}
		*p = m
		return nil
	}
}

// problems collects validation errors, each prefixed with its key.
type problems []error

func (p *problems) addf(key, format string, args ...any) {
	*p = append(*p, fmt.Errorf("%s:%s: %s", Namespace, key, fmt.Sprintf(format, args...)))
}

func (p problems) err(platform Platform) error {
	if len(p) == 0 {
		return nil
	}
	return fmt.Errorf("stackcfg: invalid %s stack config: %w", platform, errors.Join(p...))
}

// PathResolver is implemented by the settings that name local files (the
// function packages of the aws and azure stacks).
type PathResolver interface {
	// ResolvePaths makes every relative path absolute against base.
	ResolvePaths(base string)
}

// resolve joins every non-empty relative path in ps to base.
func resolve(base string, ps ...*string) {
	for _, p := range ps {
		if *p != "" && !filepath.IsAbs(*p) {
			*p = filepath.Join(base, *p)
		}
	}
}
