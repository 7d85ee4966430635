package localfaas

import (
	"fmt"
	"os"
	"strconv"
	"time"
)

// KnobKind is the type of a knob's value.
type KnobKind int

// Knob kinds: the Go type of Knob.Get's value.
const (
	KnobDuration KnobKind = iota // time.Duration
	KnobFloat                    // float64
	KnobInt                      // int
	KnobUint                     // uint64
	KnobString                   // string
	KnobBool                     // bool
)

// Knob is one setting of the platform a user may change. Its one row in
// Knobs gives every spelling of it: Name is the study key and the Describe
// row, "local-"+Name the fbrun flag, Stored the key its value is recorded
// under with a run (Config.Stored).
type Knob struct {
	Name string
	// Stored is the run's platform-config key ("" when not recorded);
	// durations are stored in seconds.
	Stored string
	// Usage says what the knob does (flag help and Describe).
	Usage string
	Kind  KnobKind
	get   func(Config) any
	set   func(*Config, any)
}

// LabTimeout and LabMemoryMB are the lab functions' timeout and memory
// size when the knobs timeout and memory are not set.
const (
	LabTimeout  = 30 * time.Second
	LabMemoryMB = 128
)

// Knobs returns the platform's knobs, in the order they are shown. Adding
// a knob is one row here (and its Config field).
func Knobs() []Knob {
	return []Knob{
		{Name: "addr", Usage: "listen address of the embedded platform (loopback only)", Kind: KnobString,
			get: func(c Config) any { return c.Addr }, set: func(c *Config, v any) { c.Addr = v.(string) }},
		durationKnob("idle-timeout", "idle_timeout_s", "evict instances idle longer than this (0: never)",
			func(c *Config) *time.Duration { return &c.IdleTimeout }),
		durationKnob("idle-jitter", "idle_jitter_s", "random extra idle time per idle period, uniform in [0, this)",
			func(c *Config) *time.Duration { return &c.IdleJitter }),
		durationKnob("idle-sweep", "idle_sweep_s", "reclaim idle instances only by a sweep this often: evicted at the first sweep at or after the deadline (0: at the deadline)",
			func(c *Config) *time.Duration { return &c.IdleSweep }),
		durationKnob("idle-sweep-phase", "idle_sweep_phase_s", "phase of the idle sweeps: at start + phase + k·sweep, in [0, sweep)",
			func(c *Config) *time.Duration { return &c.IdleSweepPhase }),
		{Name: "idle-persistent", Stored: "idle_persistent", Usage: "draw the idle jitter once per instance: each instance keeps its own fixed timeout, uniform in [timeout, timeout + jitter)", Kind: KnobBool,
			get: func(c Config) any { return c.IdlePersistent }, set: func(c *Config, v any) { c.IdlePersistent = v.(bool) }},
		floatKnob("evict-fraction", "idle_evict_fraction", "probability an idle-expired instance is evicted (partial eviction)",
			func(c *Config) *float64 { return &c.IdleEvictFraction }),
		durationKnob("max-lifetime", "max_lifetime_s", "retire instances older than this once idle (0: never)",
			func(c *Config) *time.Duration { return &c.MaxLifetime }),
		durationKnob("max-lifetime-jitter", "max_lifetime_jitter_s", "random extra lifetime per instance, uniform in [0, this)",
			func(c *Config) *time.Duration { return &c.MaxLifetimeJitter }),
		intKnob("max-instances", "max_instances", "maximum instances per function; beyond it requests get 429",
			func(c *Config) *int { return &c.MaxInstances }),
		intKnob("scale-burst", "scale_burst", "instances a function may create at once (token bucket size)",
			func(c *Config) *int { return &c.ScaleBurst }),
		floatKnob("scale-rate", "scale_rate_per_s", "new instances per second after the burst",
			func(c *Config) *float64 { return &c.ScaleRate }),
		durationKnob("init-delay", "extra_init_delay_s", "extra initialisation delay per instance (heavier runtimes; counts in Init Duration)",
			func(c *Config) *time.Duration { return &c.ExtraInitDelay }),
		{Name: "timeout", Usage: "function timeout of the lab functions", Kind: KnobDuration,
			get: func(c Config) any {
				return labValue(c, LabTimeout, func(f FunctionSpec) time.Duration { return f.Timeout })
			},
			set: func(c *Config, v any) { eachFunction(c, func(f *FunctionSpec) { f.Timeout = v.(time.Duration) }) }},
		{Name: "memory", Usage: "memory size (MB) of the lab functions", Kind: KnobInt,
			get: func(c Config) any { return labValue(c, LabMemoryMB, func(f FunctionSpec) int { return f.MemoryMB }) },
			set: func(c *Config, v any) { eachFunction(c, func(f *FunctionSpec) { f.MemoryMB = v.(int) }) }},
		{Name: "seed", Stored: "seed", Usage: "seed of jitter and partial eviction", Kind: KnobUint,
			get: func(c Config) any { return c.Seed }, set: func(c *Config, v any) { c.Seed = v.(uint64) }},
		{Name: "function-logs", Usage: "copy the function instances' output to stderr", Kind: KnobBool,
			get: func(c Config) any { return c.FunctionOutput != nil },
			set: func(c *Config, v any) {
				if v.(bool) {
					c.FunctionOutput = os.Stderr
				}
			}},
	}
}

func durationKnob(name, stored, usage string, field func(*Config) *time.Duration) Knob {
	return Knob{Name: name, Stored: stored, Usage: usage, Kind: KnobDuration,
		get: func(c Config) any { return *field(&c) }, set: func(c *Config, v any) { *field(c) = v.(time.Duration) }}
}

func floatKnob(name, stored, usage string, field func(*Config) *float64) Knob {
	return Knob{Name: name, Stored: stored, Usage: usage, Kind: KnobFloat,
		get: func(c Config) any { return *field(&c) }, set: func(c *Config, v any) { *field(c) = v.(float64) }}
}

func intKnob(name, stored, usage string, field func(*Config) *int) Knob {
	return Knob{Name: name, Stored: stored, Usage: usage, Kind: KnobInt,
		get: func(c Config) any { return *field(&c) }, set: func(c *Config, v any) { *field(c) = v.(int) }}
}

// labValue is the lab functions' setting (the first function's), or def
// without functions.
func labValue[T any](c Config, def T, get func(FunctionSpec) T) T {
	if len(c.Functions) == 0 {
		return def
	}
	return get(c.Functions[0])
}

func eachFunction(c *Config, f func(*FunctionSpec)) {
	for i := range c.Functions {
		f(&c.Functions[i])
	}
}

// Get returns the knob's value in c (its KnobKind's Go type).
func (k Knob) Get(c Config) any { return k.get(c) }

// Set sets the knob in c to v, which must be of its KnobKind's Go type
// (Parse returns one).
func (k Knob) Set(c *Config, v any) error {
	if !k.Kind.holds(v) {
		return fmt.Errorf("knob %s: value %v is a %T, not a %s", k.Name, v, v, k.Kind)
	}
	k.set(c, v)
	return nil
}

// holds reports whether v is of the kind's Go type.
func (kind KnobKind) holds(v any) bool {
	var ok bool
	switch kind {
	case KnobDuration:
		_, ok = v.(time.Duration)
	case KnobFloat:
		_, ok = v.(float64)
	case KnobInt:
		_, ok = v.(int)
	case KnobUint:
		_, ok = v.(uint64)
	case KnobBool:
		_, ok = v.(bool)
	case KnobString:
		_, ok = v.(string)
	}
	return ok
}

// String names the kind's Go type.
func (kind KnobKind) String() string {
	return [...]string{"time.Duration", "float64", "int", "uint64", "string", "bool"}[kind]
}

// Parse reads a value written as on the command line ("2s", "0.5", "3").
func (k Knob) Parse(s string) (any, error) {
	var v any
	var err error
	switch k.Kind {
	case KnobDuration:
		v, err = time.ParseDuration(s)
	case KnobFloat:
		v, err = strconv.ParseFloat(s, 64)
	case KnobInt:
		v, err = strconv.Atoi(s)
	case KnobUint:
		v, err = strconv.ParseUint(s, 10, 64)
	case KnobBool:
		v, err = strconv.ParseBool(s)
	default:
		v = s
	}
	if err != nil {
		return nil, fmt.Errorf("knob %s: bad value %q", k.Name, s)
	}
	return v, nil
}

// LookupKnob returns the knob called name.
func LookupKnob(name string) (Knob, bool) {
	for _, k := range Knobs() {
		if k.Name == name {
			return k, true
		}
	}
	return Knob{}, false
}

// SetKnobs sets the named knobs in c from their command-line text and
// validates the result: how a study checks its knobs before it runs.
func (c *Config) SetKnobs(values map[string]string) error {
	for _, k := range Knobs() {
		s, ok := values[k.Name]
		if !ok {
			continue
		}
		v, err := k.Parse(s)
		if err != nil {
			return err
		}
		if err := k.Set(c, v); err != nil {
			return err
		}
	}
	for name := range values {
		if _, ok := LookupKnob(name); !ok {
			return fmt.Errorf("unknown knob %q", name)
		}
	}
	return c.Validate()
}

// Stored returns the knob values recorded with a run: the ground truth an
// experiment's estimates are checked against (durations in seconds).
func (c Config) Stored() map[string]any {
	out := map[string]any{}
	for _, k := range Knobs() {
		if k.Stored == "" {
			continue
		}
		v := k.Get(c)
		if d, ok := v.(time.Duration); ok {
			v = d.Seconds()
		}
		out[k.Stored] = v
	}
	return out
}
