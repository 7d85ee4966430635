// Package labruntime is the entry point shared by every lab function
// binary: it reads the environment, captures the instance identity once,
// builds the lab handlers and runs the Lambda or the HTTP adapter.
//
// It does not link the monolith workloads: binaries that serve the
// monolith pass them in Options (functions/cmd/monolith, cmd/fbrun-lab,
// `fbrun lab-runtime`), so function1/2/3 binaries stay small.
//
// Environment (all optional):
//
//	FB_FUNCTION_NAME            lab function name; else AWS_LAMBDA_FUNCTION_NAME; normalised with lab.NormalizeName
//	FB_PLATFORM                 platform name reported in responses (see lab.DetectPlatform)
//	FB_MEMORY_MB                memory limit to report (else platform env, cgroup, /proc/meminfo)
//	FB_FUNCTION_TIMEOUT         function timeout in seconds (default 900); requests must fit in it
//	FB_ALLOWED_FUNCTIONS        comma list of lab functions nested calls may target (default all four)
//	FB_MAX_DEPTH                maximum nesting depth (default 8)
//	FB_MAX_NESTED_CALLS         maximum nested calls per root request tree (default 64)
//	FB_NESTED_FUNCTION_TEMPLATE Lambda: deployed name of a nested callee, "{name}" = lab name
//	FB_NESTED_URL_TEMPLATE      HTTP: URL of a nested callee, "{name}" = lab name
//	FB_NESTED_KEY_<NAME>        HTTP: Azure function key of callee <NAME> (upper case), sent as x-functions-key
//	FB_NESTED_BASIC_AUTH_USER / FB_NESTED_BASIC_AUTH_PASSWORD  HTTP: basic auth for nested calls (OpenFaaS gateway)
//	FB_HTTP_ADDR                HTTP listen address (else FUNCTIONS_CUSTOMHANDLER_PORT, PORT, 127.0.0.1:8080)
package labruntime

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/faas-benchmarker/faas-benchmarker/functions/httpadapter"
	"github.com/faas-benchmarker/faas-benchmarker/functions/lab"
	"github.com/faas-benchmarker/faas-benchmarker/functions/lambdaadapter"
)

// Modes accepted as the first argument.
const (
	ModeAuto   = ""
	ModeLambda = "lambda"
	ModeHTTP   = "http"
)

// AzureDefaultTimeout is the function timeout assumed on Azure Functions
// when FB_FUNCTION_TIMEOUT is unset: the functionTimeout of the host.json
// that scripts/build-functions ships (the Consumption plan default).
const AzureDefaultTimeout = 5 * time.Minute

// Options configures Run.
type Options struct {
	// Workloads are the monolith workloads; nil for function1/2/3
	// binaries, which then do not serve "monolith".
	Workloads lab.Workloads
	// DefaultMode is used when no mode argument is given; ModeAuto picks
	// lambda when AWS_LAMBDA_RUNTIME_API is set, else http.
	DefaultMode string
	// Getenv reads the environment; nil means os.Getenv.
	Getenv func(string) string
	// Stderr receives logs; nil means os.Stderr.
	Stderr io.Writer
}

// Main runs Run with a context cancelled by SIGINT/SIGTERM and returns the
// process exit code: 0 after a clean shutdown, 1 on a runtime error, 2 on
// bad arguments or configuration.
func Main(args []string, opts Options) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := Run(ctx, args, opts)
	if err == nil {
		return 0
	}
	stderr := opts.Stderr
	if stderr == nil {
		stderr = os.Stderr
	}
	fmt.Fprintln(stderr, "lab runtime:", err)
	var ce *configError
	if errors.As(err, &ce) {
		return 2
	}
	return 1
}

// configError marks bad arguments or environment.
type configError struct{ err error }

func (e *configError) Error() string { return e.err.Error() }
func (e *configError) Unwrap() error { return e.err }

func badConfig(format string, a ...any) error {
	return &configError{fmt.Errorf(format, a...)}
}

// Run serves lab invocations until ctx is cancelled (HTTP) or forever
// (Lambda). args is "[lambda|http] [-addr host:port]".
func Run(ctx context.Context, args []string, opts Options) error {
	getenv := opts.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	stderr := opts.Stderr
	if stderr == nil {
		stderr = os.Stderr
	}
	logger := slog.New(slog.NewJSONHandler(stderr, nil))
	mode, addr, err := parseArgs(args, opts.DefaultMode, getenv, stderr)
	if err != nil {
		return err
	}
	env, err := readEnv(getenv)
	if err != nil {
		return err
	}
	sandbox := lab.NewSandbox(lab.SandboxConfig{Getenv: getenv})
	if env.timeout == 0 && sandbox.Platform() == lab.PlatformAzureFunctions {
		env.timeout = AzureDefaultTimeout
	}
	r := labServer{env: env, sandbox: sandbox, getenv: getenv, workloads: opts.Workloads, logger: logger}
	if mode == ModeLambda {
		return r.lambda(ctx)
	}
	return r.http(ctx, addr)
}

// parseArgs returns the mode ("lambda" or "http"; auto picks lambda under
// the Lambda Runtime API) and the -addr flag of args.
func parseArgs(args []string, mode string, getenv func(string) string, stderr io.Writer) (string, string, error) {
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		mode, args = args[0], args[1:]
	}
	fs := flag.NewFlagSet("lab-runtime", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "", "HTTP listen address (overrides FB_HTTP_ADDR)")
	if err := fs.Parse(args); err != nil {
		return "", "", badConfig("%w", err)
	}
	if mode == ModeAuto {
		mode = ModeHTTP
		if getenv(lambdaadapter.RuntimeAPIEnv) != "" {
			mode = ModeLambda
		}
	}
	if mode != ModeLambda && mode != ModeHTTP {
		return "", "", badConfig("unknown mode %q (want lambda or http)", mode)
	}
	return mode, *addr, nil
}

// labServer is what both modes serve with.
type labServer struct {
	env       *env
	sandbox   *lab.Sandbox
	getenv    func(string) string
	workloads lab.Workloads
	logger    *slog.Logger
}

// lambda serves the one function under the Lambda Runtime API; nested
// calls go through the Lambda Invoke API.
func (r labServer) lambda(ctx context.Context) error {
	inv, err := lambdaadapter.NewInvoker(ctx, lambdaadapter.InvokerConfig{
		NameTemplate: r.getenv(lambdaadapter.NameTemplateEnv),
		OwnName:      r.env.deployedName,
	})
	if err != nil {
		return err
	}
	h, err := r.env.handler(r.env.function, r.sandbox, inv, r.workloads, r.logger)
	if err != nil {
		return err
	}
	return lambdaadapter.Run(ctx, lambdaadapter.Config{Handler: h, Logger: r.logger, Getenv: r.getenv})
}

// http serves every lab function this binary has over HTTP at addr (or
// the environment's listen address); nested calls go to
// FB_NESTED_URL_TEMPLATE.
func (r labServer) http(ctx context.Context, addr string) error {
	inv, err := r.nestedInvoker()
	if err != nil {
		return err
	}
	names := []string{lab.Function1, lab.Function2, lab.Function3}
	if r.workloads != nil {
		names = append(names, lab.Monolith)
	}
	var handlers []*lab.Handler
	for _, n := range names {
		h, err := r.env.handler(n, r.sandbox, inv, r.workloads, r.logger)
		if err != nil {
			return err
		}
		handlers = append(handlers, h)
	}
	def := ""
	if r.env.function != "" {
		if contains(names, r.env.function) {
			def = r.env.function
		} else {
			r.logger.Warn("function not served by this binary: \"/\" serves function1", "function", r.env.function, "served", names)
		}
	}
	srv, err := httpadapter.NewServer(httpadapter.Config{
		Handlers:      handlers,
		Default:       def,
		AzureEnvelope: r.getenv("FUNCTIONS_CUSTOMHANDLER_PORT") != "",
		Timeout:       r.env.timeout,
		Logger:        r.logger,
	})
	if err != nil {
		return err
	}
	if addr == "" {
		addr = listenAddr(r.getenv)
	}
	return httpadapter.Run(ctx, httpadapter.RunConfig{Addr: addr, Handler: srv, Logger: r.logger})
}

// nestedInvoker is the HTTP invoker of nested calls, nil without
// FB_NESTED_URL_TEMPLATE.
func (r labServer) nestedInvoker() (lab.Invoker, error) {
	tmpl := r.getenv("FB_NESTED_URL_TEMPLATE")
	if tmpl == "" {
		return nil, nil
	}
	hi, err := httpadapter.NewInvoker(httpadapter.InvokerConfig{
		URLTemplate:   tmpl,
		Keys:          nestedKeys(r.getenv),
		BasicUser:     r.getenv("FB_NESTED_BASIC_AUTH_USER"),
		BasicPassword: r.getenv("FB_NESTED_BASIC_AUTH_PASSWORD"),
	})
	if err != nil {
		return nil, badConfig("%w", err)
	}
	return hi, nil
}

// env is the configuration read from the environment.
type env struct {
	deployedName string
	function     string
	timeout      time.Duration
	guards       lab.Guards
}

func readEnv(getenv func(string) string) (*env, error) {
	e := &env{}
	e.deployedName = getenv("FB_FUNCTION_NAME")
	if e.deployedName == "" {
		e.deployedName = getenv("AWS_LAMBDA_FUNCTION_NAME")
	}
	e.function = lab.NormalizeName(e.deployedName)
	var err error
	if e.guards.MaxDepth, err = intEnv(getenv, "FB_MAX_DEPTH"); err != nil {
		return nil, err
	}
	if e.guards.MaxNestedCalls, err = intEnv(getenv, "FB_MAX_NESTED_CALLS"); err != nil {
		return nil, err
	}
	if v := strings.TrimSpace(getenv("FB_ALLOWED_FUNCTIONS")); v != "" {
		for _, n := range strings.Split(v, ",") {
			if n = strings.TrimSpace(n); n != "" {
				e.guards.Allowed = append(e.guards.Allowed, n)
			}
		}
		if len(e.guards.Allowed) == 0 {
			return nil, badConfig("FB_ALLOWED_FUNCTIONS=%q names no function", v)
		}
	}
	if v := strings.TrimSpace(getenv("FB_FUNCTION_TIMEOUT")); v != "" {
		s, err := strconv.ParseFloat(v, 64)
		if err != nil || s <= 0 || s > 86400 {
			return nil, badConfig("FB_FUNCTION_TIMEOUT=%q is not a number of seconds in (0, 86400]", v)
		}
		e.timeout = time.Duration(s * float64(time.Second))
	}
	return e, nil
}

func (e *env) handler(name string, sb *lab.Sandbox, inv lab.Invoker, wl lab.Workloads, logger *slog.Logger) (*lab.Handler, error) {
	if name == "" {
		name = lab.Function1
		logger.Warn("no FB_FUNCTION_NAME or AWS_LAMBDA_FUNCTION_NAME: serving as function1")
	}
	if name != lab.Monolith {
		wl = nil // function1/2/3 behave identically whatever the binary links
	}
	return lab.New(lab.Config{
		Function:  name,
		Sandbox:   sb,
		Invoker:   inv,
		Workloads: wl,
		Guards:    e.guards,
		Limits:    lab.Limits{Timeout: e.timeout},
		Logger:    logger,
	})
}

func intEnv(getenv func(string) string, k string) (int, error) {
	v := strings.TrimSpace(getenv(k))
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > 10000 {
		return 0, badConfig("%s=%q is not an integer in [1, 10000]", k, v)
	}
	return n, nil
}

func nestedKeys(getenv func(string) string) map[string]string {
	keys := map[string]string{}
	for _, n := range lab.Names() {
		if k := getenv("FB_NESTED_KEY_" + strings.ToUpper(n)); k != "" {
			keys[n] = k
		}
	}
	return keys
}

// listenAddr picks the HTTP listen address: FB_HTTP_ADDR, the Azure
// custom-handler port (loopback: the host is local), PORT (Cloud Run,
// Knative: all interfaces), else 127.0.0.1:8080.
func listenAddr(getenv func(string) string) string {
	if a := getenv("FB_HTTP_ADDR"); a != "" {
		return a
	}
	if p := getenv("FUNCTIONS_CUSTOMHANDLER_PORT"); p != "" {
		return "127.0.0.1:" + p
	}
	if p := getenv("PORT"); p != "" {
		return ":" + p
	}
	return "127.0.0.1:8080"
}

func contains(xs []string, x string) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}
