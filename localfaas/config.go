package localfaas

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/faas-benchmarker/faas-benchmarker/functions/lab"
)

// Runtime kinds a function can use.
const (
	// RuntimeLambda is a process that speaks the AWS Lambda Runtime API
	// (AWS_LAMBDA_RUNTIME_API), like a provided.al2023 bootstrap.
	RuntimeLambda = "lambda"
	// RuntimeHTTP is a process that serves HTTP on FB_HTTP_ADDR / PORT,
	// like an OpenFaaS of-watchdog function.
	RuntimeHTTP = "http"
)

// Limits modelled on AWS Lambda's published quotas.
const (
	// MaxPayloadBytes is the largest synchronous request or response
	// payload (6 MB on AWS Lambda).
	MaxPayloadBytes = 6 * 1024 * 1024
	// MaxAsyncPayloadBytes is the largest asynchronous (Event) payload
	// (256 KB on AWS Lambda).
	MaxAsyncPayloadBytes = 256 * 1024
	// MinMemoryMB and MaxMemoryMB bound a function's memory size.
	MinMemoryMB = 128
	// MaxMemoryMB is the largest memory size AWS Lambda accepts.
	MaxMemoryMB = 10240
	// MaxTimeout is the longest function timeout AWS Lambda accepts.
	MaxTimeout = 900 * time.Second
)

// FunctionSpec describes one deployed function: what to run and its
// Lambda-level settings.
type FunctionSpec struct {
	// Name is the function name (letters, digits, '-' and '_', at most 64).
	Name string
	// Runtime is RuntimeLambda or RuntimeHTTP.
	Runtime string
	// Command is the argv of the instance process; Command[0] is the
	// program path.
	Command []string
	// Env holds the function's environment variables (the Lambda
	// "Environment.Variables"); the platform adds its own on top.
	Env map[string]string
	// MemoryMB is the memory size reported in REPORT lines and
	// AWS_LAMBDA_FUNCTION_MEMORY_SIZE; 0 means Config.DefaultMemoryMB.
	MemoryMB int
	// Timeout is the function timeout; 0 means Config.DefaultTimeout.
	Timeout time.Duration
	// MaxInstances overrides Config.MaxInstances for this function (like
	// reserved concurrency); 0 means the global value.
	MaxInstances int
}

// Code is one entry of Config.CodeCatalog: a runtime that CreateFunction can
// reference, because the local platform cannot run uploaded zip files.
type Code struct {
	// Runtime is RuntimeLambda or RuntimeHTTP.
	Runtime string
	// Command is the argv of the instance process.
	Command []string
}

// Config holds every knob of the platform. Build one with DefaultConfig and
// override fields; Validate reports inconsistent values.
type Config struct {
	// Addr is the listen address of the platform's API; the default
	// 127.0.0.1:0 picks a free loopback port.
	Addr string
	// AllowNonLoopback must be set to listen on anything but a loopback
	// address: the platform runs arbitrary commands and has no real auth.
	AllowNonLoopback bool

	// IdleTimeout evicts an instance idle longer than this (AWS: varies,
	// observed 5-60 min; scaled down). 0 disables idle eviction.
	IdleTimeout time.Duration
	// IdleJitter adds a uniform random [0, IdleJitter) to IdleTimeout,
	// drawn afresh for every idle period.
	IdleJitter time.Duration
	// IdleSweep, when > 0, reclaims idle instances only by a sweep every
	// IdleSweep (from the platform's start), like the OpenFaaS idler: an
	// instance is evicted at the first sweep at or after its deadline.
	IdleSweep time.Duration
	// IdleSweepPhase shifts the sweeps: they run at the platform's start
	// + IdleSweepPhase + k·IdleSweep, in [0, IdleSweep).
	IdleSweepPhase time.Duration
	// IdlePersistent draws IdleJitter once per instance instead of per
	// idle period: every instance has its own fixed idle timeout,
	// IdleTimeout + J with J uniform in [0, IdleJitter), for life.
	IdlePersistent bool
	// IdleEvictFraction is the probability that an instance past its idle
	// deadline is evicted; otherwise it survives another IdleTimeout
	// (partial eviction). 1 evicts every expired instance. See Eviction
	// for how the knobs combine.
	IdleEvictFraction float64
	// MaxLifetime retires an instance older than this once it is idle
	// (AWS recycles environments after a few hours). 0 disables.
	MaxLifetime time.Duration
	// MaxLifetimeJitter adds a per-instance uniform random [0,
	// MaxLifetimeJitter) to MaxLifetime, drawn at creation.
	MaxLifetimeJitter time.Duration
	// MaxInstances is the largest number of instances per function
	// (concurrency limit); an invocation beyond it is throttled (429).
	MaxInstances int
	// ScaleBurst is the number of instances a function can create at once
	// (token bucket size).
	ScaleBurst int
	// ScaleRate is the number of new instances per second once the burst is
	// used (token bucket refill rate).
	ScaleRate float64
	// ExtraInitDelay is added to every instance's initialisation, to
	// emulate heavier runtimes; it counts in Init Duration.
	ExtraInitDelay time.Duration
	// InitTimeout bounds an instance's initialisation (AWS: 10 s).
	InitTimeout time.Duration
	// DefaultTimeout is the timeout of functions that set none (AWS: 3 s).
	DefaultTimeout time.Duration
	// DefaultMemoryMB is the memory size of functions that set none
	// (AWS: 128).
	DefaultMemoryMB int
	// AsyncRetryFor bounds how long a throttled asynchronous (Event)
	// invocation is retried (AWS: up to 6 hours).
	AsyncRetryFor time.Duration
	// Seed seeds the random jitter and partial eviction, for reproducible
	// runs.
	Seed uint64

	// Functions are deployed at New.
	Functions []FunctionSpec
	// CodeCatalog maps names to runtimes that CreateFunction can use (see
	// docs/local-platform.md for how a request selects one).
	CodeCatalog map[string]Code

	// GatewayUser and GatewayPassword, when set, require HTTP basic auth
	// on the OpenFaaS-style gateway route POST /function/{name}.
	GatewayUser     string
	GatewayPassword string

	// Logger receives the platform's own logs; nil discards them.
	Logger *slog.Logger
	// FunctionOutput, when non-nil, receives a copy of every instance's
	// stdout and stderr, each line prefixed with the function name.
	FunctionOutput io.Writer
}

// DefaultConfig returns AWS-Lambda-like defaults scaled down so experiments
// finish in seconds (idle timeout 10 s instead of minutes, 100 instances per
// function instead of 1000 per account, ...). It deploys no function: set
// Functions, e.g. to DefaultFunctions(command).
func DefaultConfig() Config {
	return Config{
		Addr:              "127.0.0.1:0",
		IdleTimeout:       10 * time.Second,
		IdleEvictFraction: 1,
		MaxLifetime:       2 * time.Minute,
		MaxInstances:      100,
		ScaleBurst:        100,
		ScaleRate:         10,
		InitTimeout:       10 * time.Second,
		DefaultTimeout:    3 * time.Second,
		DefaultMemoryMB:   128,
		AsyncRetryFor:     time.Minute,
		Seed:              1,
	}
}

// DefaultFunctions returns the lab functions function1, function2, function3
// and monolith, all Lambda-runtime processes running command (for fbrun:
// [os.Executable(), "lab-runtime", "lambda"]), with a 30 s timeout and
// 128 MB.
func DefaultFunctions(command []string) []FunctionSpec {
	names := lab.Names()
	out := make([]FunctionSpec, 0, len(names))
	for _, n := range names {
		out = append(out, FunctionSpec{
			Name:     n,
			Runtime:  RuntimeLambda,
			Command:  slices.Clone(command),
			MemoryMB: LabMemoryMB,
			Timeout:  LabTimeout,
		})
	}
	return out
}

// DefaultCodeCatalog returns the catalog an fbrun binary offers to
// CreateFunction: "bootstrap" and "lambda" run lambdaCmd with the Lambda
// runtime, "http" runs httpCmd as an HTTP function (skipped when nil).
func DefaultCodeCatalog(lambdaCmd, httpCmd []string) map[string]Code {
	c := map[string]Code{}
	if lambdaCmd != nil {
		c["bootstrap"] = Code{Runtime: RuntimeLambda, Command: slices.Clone(lambdaCmd)}
		c["lambda"] = Code{Runtime: RuntimeLambda, Command: slices.Clone(lambdaCmd)}
	}
	if httpCmd != nil {
		c["http"] = Code{Runtime: RuntimeHTTP, Command: slices.Clone(httpCmd)}
	}
	return c
}

// functionNameRE is a Lambda function name's characters; its length (1 to
// 64) is checked apart, since a counted repetition compiles into that many
// instructions at every start of the binary.
var functionNameRE = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// ShortestTimeout is the shortest function timeout of c's functions (a
// function without one has DefaultTimeout; 0 when there are none): how
// long any invocation may surely take.
func (c Config) ShortestTimeout() time.Duration {
	var d time.Duration
	for _, f := range c.Functions {
		t := f.Timeout
		if t <= 0 {
			t = c.DefaultTimeout
		}
		if t > 0 && (d == 0 || t < d) {
			d = t
		}
	}
	return d
}

// Validate reports every inconsistent value of c in one error.
func (c Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if err := checkAddr(c.Addr, c.AllowNonLoopback); err != nil {
		errs = append(errs, err)
	}
	if c.IdleTimeout < 0 {
		bad("IdleTimeout %v must be >= 0 (0 disables idle eviction)", c.IdleTimeout)
	}
	if c.IdleJitter < 0 {
		bad("IdleJitter %v must be >= 0", c.IdleJitter)
	}
	if c.IdleSweep < 0 {
		bad("IdleSweep %v must be >= 0 (0: no sweep, evict at the deadline)", c.IdleSweep)
	}
	if c.IdleSweepPhase < 0 || (c.IdleSweepPhase > 0 && c.IdleSweepPhase >= c.IdleSweep) {
		bad("IdleSweepPhase %v must be in [0, IdleSweep) (IdleSweep %v)", c.IdleSweepPhase, c.IdleSweep)
	}
	if c.MaxLifetimeJitter < 0 {
		bad("MaxLifetimeJitter %v must be >= 0", c.MaxLifetimeJitter)
	}
	if c.IdleEvictFraction <= 0 || c.IdleEvictFraction > 1 {
		bad("IdleEvictFraction %v must be in (0, 1]", c.IdleEvictFraction)
	}
	if c.MaxLifetime < 0 {
		bad("MaxLifetime %v must be >= 0 (0 disables)", c.MaxLifetime)
	}
	if c.MaxInstances < 1 {
		bad("MaxInstances %d must be >= 1", c.MaxInstances)
	}
	if c.ScaleBurst < 1 {
		bad("ScaleBurst %d must be >= 1", c.ScaleBurst)
	}
	if c.ScaleRate < 0 {
		bad("ScaleRate %v must be >= 0", c.ScaleRate)
	}
	if c.ExtraInitDelay < 0 {
		bad("ExtraInitDelay %v must be >= 0", c.ExtraInitDelay)
	}
	if c.InitTimeout <= 0 {
		bad("InitTimeout %v must be > 0", c.InitTimeout)
	}
	if c.DefaultTimeout <= 0 || c.DefaultTimeout > MaxTimeout {
		bad("DefaultTimeout %v must be in (0, %v]", c.DefaultTimeout, MaxTimeout)
	}
	if c.DefaultMemoryMB < MinMemoryMB || c.DefaultMemoryMB > MaxMemoryMB {
		bad("DefaultMemoryMB %d must be in [%d, %d]", c.DefaultMemoryMB, MinMemoryMB, MaxMemoryMB)
	}
	if c.AsyncRetryFor < 0 {
		bad("AsyncRetryFor %v must be >= 0", c.AsyncRetryFor)
	}
	if (c.GatewayUser == "") != (c.GatewayPassword == "") {
		bad("GatewayUser and GatewayPassword must be set together")
	}
	seen := map[string]bool{}
	for i, f := range c.Functions {
		if err := f.validate(); err != nil {
			bad("Functions[%d]: %w", i, err)
		}
		if seen[f.Name] {
			bad("Functions[%d]: duplicate function name %q", i, f.Name)
		}
		seen[f.Name] = true
	}
	for name, code := range c.CodeCatalog {
		if err := checkRuntime(code.Runtime, code.Command); err != nil {
			bad("CodeCatalog[%q]: %w", name, err)
		}
	}
	return errors.Join(errs...)
}

func (f FunctionSpec) validate() error {
	if len(f.Name) > 64 || !functionNameRE.MatchString(f.Name) {
		return fmt.Errorf("function name %q must be 1 to 64 letters, digits, '-' or '_'", f.Name)
	}
	if err := checkRuntime(f.Runtime, f.Command); err != nil {
		return fmt.Errorf("function %s: %w", f.Name, err)
	}
	if f.MemoryMB != 0 && (f.MemoryMB < MinMemoryMB || f.MemoryMB > MaxMemoryMB) {
		return fmt.Errorf("function %s: MemoryMB %d must be 0 or in [%d, %d]", f.Name, f.MemoryMB, MinMemoryMB, MaxMemoryMB)
	}
	if f.Timeout < 0 || f.Timeout > MaxTimeout {
		return fmt.Errorf("function %s: Timeout %v must be in [0, %v]", f.Name, f.Timeout, MaxTimeout)
	}
	if f.MaxInstances < 0 {
		return fmt.Errorf("function %s: MaxInstances %d must be >= 0", f.Name, f.MaxInstances)
	}
	for k := range f.Env {
		if k == "" || strings.ContainsAny(k, "=\x00") {
			return fmt.Errorf("function %s: invalid environment variable name %q", f.Name, k)
		}
	}
	return nil
}

func checkRuntime(runtime string, command []string) error {
	if runtime != RuntimeLambda && runtime != RuntimeHTTP {
		return fmt.Errorf("runtime %q must be %q or %q", runtime, RuntimeLambda, RuntimeHTTP)
	}
	if len(command) == 0 || command[0] == "" {
		return errors.New("command must name a program")
	}
	return nil
}

func checkAddr(addr string, allowNonLoopback bool) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("listen address (Addr) %q: %w", addr, err)
	}
	if allowNonLoopback {
		return nil
	}
	if host == "localhost" {
		return nil
	}
	ip, err := netip.ParseAddr(host)
	if err != nil || !ip.IsLoopback() {
		return fmt.Errorf("listen address %q (Addr) is not a loopback address; set AllowNonLoopback to listen on it", addr)
	}
	return nil
}

// Describe lists every knob (Knobs) and the fixed settings with their
// values, one "name = value  # meaning" line each, and the functions, for
// the CLI to print at start.
func (c Config) Describe() string {
	var b strings.Builder
	row := func(name string, value any, meaning string) {
		fmt.Fprintf(&b, "%-20s = %-14v # %s\n", name, value, meaning)
	}
	for _, k := range Knobs() {
		row(k.Name, k.Get(c), k.Usage)
	}
	// Settings that are not knobs: fixed, or set per function.
	row("init-timeout", c.InitTimeout, "an instance that is not ready by then is killed")
	row("default-timeout", c.DefaultTimeout, "function timeout when a function sets none")
	row("default-memory-mb", c.DefaultMemoryMB, "memory size when a function sets none")
	row("async-retry-for", c.AsyncRetryFor, "how long throttled Event invocations are retried")
	row("concurrency", 1, "requests per instance (fixed, the Lambda model)")
	for _, f := range c.Functions {
		fmt.Fprintf(&b, "function %-11s runtime=%s memory=%dMB timeout=%v command=%q\n",
			f.Name, f.Runtime, f.MemoryMB, f.Timeout, f.Command)
	}
	return b.String()
}
