package runner

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/faas-benchmarker/faas-benchmarker/internal/hostdirs"
)

// DefaultProject is the Pulumi project of all faas-benchmarker stacks.
const DefaultProject = "faas-benchmarker"

// DefaultDestroyTimeout bounds a teardown. Destroying a Lambda function or
// an Azure function app takes minutes; an EKS stack deletes the gateway's
// load balancer (up to 10 min), the controller, the Fargate profile, the
// cluster (often 10-15 min) and then the NAT gateway and the VPC, one after
// another: a bound that cuts that short leaves the rest billing.
const DefaultDestroyTimeout = 60 * time.Minute

// Shipper uploads a finished run's results file (a standalone SQLite file)
// to blob storage. blobstore.Store implements it.
type Shipper interface {
	// Ship uploads the file at path under key and returns where it went.
	Ship(ctx context.Context, key, path string) (location string, err error)
}

// Config configures a Runner. Every field is optional.
type Config struct {
	// PulumiPath is the Pulumi CLI; empty means hostdirs.FindPulumi("").
	PulumiPath string
	// BackendURL is the state backend: file://<dir> or s3://<bucket>?...;
	// empty means DefaultBackendURL().
	BackendURL string
	// LogDir receives one log file per stack operation run
	// (<stack>.log); empty means <DataDir>/logs.
	LogDir string
	// PulumiHome overrides PULUMI_HOME (plugins, credentials); empty keeps
	// the CLI's default (~/.pulumi).
	PulumiHome string
	// Env adds environment variables for the Pulumi CLI (cloud credentials,
	// PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION, ...). The process
	// environment is inherited as well.
	Env map[string]string
	// Stdout receives the progress of stack operations; nil means os.Stdout.
	Stdout io.Writer
	// Stderr receives warnings and loud teardown failures; nil means os.Stderr.
	Stderr io.Writer
	// Logger receives structured logs; nil discards them.
	Logger *slog.Logger
	// DestroyTimeout bounds each teardown; 0 means DefaultDestroyTimeout.
	DestroyTimeout time.Duration
	// InterruptLimit bounds how long an interrupted Pulumi CLI may take to
	// finish its in-flight operations before it is killed; 0 means
	// DefaultInterruptLimit.
	InterruptLimit time.Duration
	// Shipper uploads each run's results file; nil disables shipping.
	Shipper Shipper
	// PluginBinaries maps a resource plugin name to an executable that
	// serves that plugin when it is run as pulumi-resource-<name>:
	// fbrun-cloud serves fblocal itself (--platform local-stack), so a user
	// needs nothing but `go install ./cmd/...`. The runner links each one
	// as <LogDir>/plugins/pulumi-resource-<name> and puts that directory
	// first on the Pulumi CLI's PATH, where the CLI looks for plugins that
	// are not installed.
	PluginBinaries map[string]string
	// HandleSignals makes RunStack, Up, Down and Cleanup take over
	// SIGINT, SIGTERM and SIGHUP while they run: the first signal cancels
	// the run or the up (an interrupted up finishes its in-flight
	// operations, see InterruptLimit; an experiment stack is then torn
	// down), later ones are acknowledged on Stderr and stop neither that
	// wait nor a destroy. A CLI sets it; a library user
	// that handles signals itself leaves it off and cancels ctx.
	HandleSignals bool
}

// Runner runs stack lifecycles. It is safe for concurrent use: every
// operation uses its own workspace.
type Runner struct {
	cfg        Config
	pulumiPath string
	cmd        auto.PulumiCommand
	env        map[string]string
	stdout     io.Writer
	stderr     io.Writer
	log        *slog.Logger
}

// New checks the configuration (the Pulumi CLI is present and recent
// enough, the passphrase is set, the backend URL is supported) and returns
// a Runner. For a file backend it creates the state directory.
func New(cfg Config) (*Runner, error) {
	r := &Runner{cfg: cfg, stdout: cfg.Stdout, stderr: cfg.Stderr, log: cfg.Logger}
	if r.stdout == nil {
		r.stdout = os.Stdout
	}
	if r.stderr == nil {
		r.stderr = os.Stderr
	}
	if r.log == nil {
		r.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if r.cfg.DestroyTimeout <= 0 {
		r.cfg.DestroyTimeout = DefaultDestroyTimeout
	}
	if r.cfg.InterruptLimit <= 0 {
		r.cfg.InterruptLimit = DefaultInterruptLimit
	}
	if r.cfg.BackendURL == "" {
		u, err := DefaultBackendURL()
		if err != nil {
			return nil, err
		}
		r.cfg.BackendURL = u
	}
	if err := checkBackendURL(r.cfg.BackendURL); err != nil {
		return nil, err
	}
	if r.cfg.LogDir == "" {
		d, err := hostdirs.DataDir()
		if err != nil {
			return nil, err
		}
		r.cfg.LogDir = filepath.Join(d, "logs")
	}
	getenv := func(k string) string {
		if v, ok := cfg.Env[k]; ok {
			return v
		}
		return os.Getenv(k)
	}
	pk, pv, err := passphraseFromEnv(getenv)
	if err != nil {
		return nil, err
	}
	path, err := hostdirs.FindPulumi(cfg.PulumiPath)
	if err != nil {
		return nil, fmt.Errorf("runner: %w", err)
	}
	r.pulumiPath = path
	gc, err := pulumiCommand(path, r.cfg.LogDir, r.cfg.InterruptLimit, bestEffort{r.stderr})
	if err != nil {
		return nil, err
	}
	if backendProfile(r.cfg.BackendURL) != "" && (getenv(EnvSpacesAccessKey) == "") != (getenv(EnvSpacesSecretKey) == "") {
		return nil, fmt.Errorf("runner: set both %s and %s (the Spaces key pair of the state backend), or neither",
			EnvSpacesAccessKey, EnvSpacesSecretKey)
	}
	gc.backendURL, gc.credDir = r.cfg.BackendURL, filepath.Join(r.cfg.LogDir, ".credentials")
	if len(cfg.PluginBinaries) > 0 {
		dir, err := linkPlugins(filepath.Join(r.cfg.LogDir, "plugins"), cfg.PluginBinaries)
		if err != nil {
			return nil, err
		}
		gc.pluginDir = dir
	}
	r.cmd = gc
	if dir := fileBackendDir(r.cfg.BackendURL); dir != "" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("runner: state directory: %w", err)
		}
	}
	if err := os.MkdirAll(r.cfg.LogDir, 0o700); err != nil {
		return nil, fmt.Errorf("runner: log directory: %w", err)
	}
	r.env = map[string]string{
		"PULUMI_BACKEND_URL":       r.cfg.BackendURL,
		"PULUMI_SKIP_UPDATE_CHECK": "true",
		pk:                         pv,
	}
	for k, v := range cfg.Env {
		r.env[k] = v
	}
	return r, nil
}

// pulumiCommand wraps the CLI at path for the Automation API, which wants
// a root directory holding bin/pulumi. A CLI elsewhere is linked into
// <scratch>/pulumi-cli/bin/pulumi.
func pulumiCommand(path, scratch string, limit time.Duration, progress io.Writer) (groupCommand, error) {
	root := filepath.Dir(filepath.Dir(path))
	if filepath.Base(filepath.Dir(path)) != "bin" || filepath.Base(path) != "pulumi" {
		root = filepath.Join(scratch, "pulumi-cli")
		link := filepath.Join(root, "bin", "pulumi")
		if err := os.MkdirAll(filepath.Dir(link), 0o700); err != nil {
			return groupCommand{}, fmt.Errorf("runner: %w", err)
		}
		_ = os.Remove(link)
		if err := os.Symlink(path, link); err != nil {
			return groupCommand{}, fmt.Errorf("runner: link Pulumi CLI: %w", err)
		}
	}
	// NewPulumiCommand checks that the CLI is present and recent enough;
	// the runner then runs it through groupCommand (its own process group).
	cmd, err := auto.NewPulumiCommand(&auto.PulumiCommandOptions{Root: root})
	if err != nil {
		return groupCommand{}, fmt.Errorf("runner: Pulumi CLI %s: %w", path, err)
	}
	return groupCommand{path: filepath.Join(root, "bin", "pulumi"), version: cmd.Version(),
		limit: limit, progress: progress, tick: interruptProgressEvery}, nil
}

// linkPlugins links each plugin's serving executable into dir as
// pulumi-resource-<name> (replacing an older link atomically, so that
// concurrent runs never see a missing one) and returns dir.
func linkPlugins(dir string, plugins map[string]string) (string, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("runner: plugin directory: %w", err)
	}
	for name, bin := range plugins {
		abs, err := filepath.Abs(bin)
		if err != nil {
			return "", fmt.Errorf("runner: plugin %s: %w", name, err)
		}
		link := filepath.Join(dir, "pulumi-resource-"+name)
		tmp := fmt.Sprintf("%s.%d.tmp", link, os.Getpid())
		_ = os.Remove(tmp)
		if err := os.Symlink(abs, tmp); err != nil {
			return "", fmt.Errorf("runner: link plugin %s: %w", name, err)
		}
		if err := os.Rename(tmp, link); err != nil {
			return "", fmt.Errorf("runner: link plugin %s: %w", name, err)
		}
	}
	return dir, nil
}

// BackendURL returns the state backend in use.
func (r *Runner) BackendURL() string { return r.cfg.BackendURL }

// PulumiPath returns the Pulumi CLI in use.
func (r *Runner) PulumiPath() string { return r.pulumiPath }

// PulumiVersion returns the version of the Pulumi CLI in use.
func (r *Runner) PulumiVersion() string { return r.cmd.Version().String() }

// LogPath returns the log file of the named stack's operations.
func (r *Runner) LogPath(stack string) string {
	return filepath.Join(r.cfg.LogDir, stack+".log")
}

// StackSpec identifies a stack and the program that defines it.
type StackSpec struct {
	// Project is the Pulumi project; empty means DefaultProject.
	Project string
	// StackName is the stack's name within the project.
	StackName string
	// Program is the inline Pulumi program. Destroy and Cleanup do not
	// run it and accept nil.
	Program pulumi.RunFunc
	// Config is the stack configuration, "key" or "namespace:key" → value.
	Config map[string]string
	// SecretConfig is configuration stored encrypted (credentials, tokens).
	SecretConfig map[string]string
	// Plugins are resource plugins to install before the operation, e.g.
	// {Name: "aws", Version: "v6.83.4"}. Without them the CLI acquires
	// missing plugins itself unless that is disabled.
	Plugins []Plugin
}

// Plugin names a resource provider plugin.
type Plugin struct {
	// Name is the provider name, e.g. "aws".
	Name string
	// Version is the plugin version, e.g. "v6.83.4".
	Version string
}

func (s StackSpec) project() string {
	if s.Project == "" {
		return DefaultProject
	}
	return s.Project
}

func (s StackSpec) validate() error {
	if s.StackName == "" {
		return errors.New("runner: stack name is empty")
	}
	if !nameRE.MatchString(s.StackName) {
		return fmt.Errorf("runner: stack name %q: want lower-case letters, digits, '-', '_' or '.'", s.StackName)
	}
	return nil
}

func noProgram(*pulumi.Context) error { return nil }

// workspaceOpts are the options of every workspace the runner creates.
func (r *Runner) workspaceOpts() []auto.LocalWorkspaceOption {
	opts := []auto.LocalWorkspaceOption{auto.Pulumi(r.cmd), auto.EnvVars(r.env)}
	if r.cfg.PulumiHome != "" {
		opts = append(opts, auto.PulumiHome(r.cfg.PulumiHome))
	}
	return opts
}

// upsert creates or selects the stack, installs plugins and sets config.
func (r *Runner) upsert(ctx context.Context, s StackSpec) (auto.Stack, error) {
	prog := s.Program
	if prog == nil {
		prog = noProgram
	}
	st, err := auto.UpsertStackInlineSource(ctx, s.StackName, s.project(), prog, r.workspaceOpts()...)
	if err != nil {
		return auto.Stack{}, r.explain(fmt.Errorf("runner: create or select stack %s: %w", s.StackName, err), s.StackName)
	}
	for _, p := range s.Plugins {
		if err := st.Workspace().InstallPlugin(ctx, p.Name, p.Version); err != nil {
			return st, fmt.Errorf("runner: install plugin %s %s: %w", p.Name, p.Version, err)
		}
	}
	cm := auto.ConfigMap{}
	for k, v := range s.Config {
		cm[k] = auto.ConfigValue{Value: v}
	}
	for k, v := range s.SecretConfig {
		cm[k] = auto.ConfigValue{Value: v, Secret: true}
	}
	if len(cm) > 0 {
		if err := st.SetAllConfig(ctx, cm); err != nil {
			return st, fmt.Errorf("runner: set config of stack %s: %w", s.StackName, err)
		}
	}
	return st, nil
}

// selectStack selects an existing stack without a program.
func (r *Runner) selectStack(ctx context.Context, project, name string) (auto.Stack, error) {
	st, err := auto.SelectStackInlineSource(ctx, name, project, noProgram, r.workspaceOpts()...)
	if err != nil {
		return auto.Stack{}, r.explain(fmt.Errorf("runner: select stack %s: %w", name, err), name)
	}
	return st, nil
}

// ErrConcurrentUpdate is wrapped into errors caused by another update
// running on the same stack (the backend holds a lock on it).
var ErrConcurrentUpdate = errors.New("another Pulumi operation is running on this stack " +
	"(a concurrent experiment run, `fbrun cleanup`, or an operation that was killed and left its lock)")

// ErrPluginMissing is wrapped into errors caused by a resource provider
// plugin that is neither installed nor downloadable.
var ErrPluginMissing = errors.New("resource provider plugin missing")

var missingPluginRE = regexp.MustCompile(`no resource plugin '?pulumi-resource-([A-Za-z0-9_.-]+)'?(?: found in the workspace at version (v[A-Za-z0-9_.+-]+))?`)

// explain adds a clear cause to errors the Automation API recognises.
func (r *Runner) explain(err error, stack string) error {
	if err == nil {
		return nil
	}
	if auto.IsConcurrentUpdateError(err) {
		return fmt.Errorf("runner: stack %s: %w: %w", stack, ErrConcurrentUpdate, err)
	}
	if m := missingPluginRE.FindStringSubmatch(err.Error()); m != nil {
		version := m[2]
		if version == "" {
			version = "<version>"
		}
		return fmt.Errorf("runner: stack %s: %w: %s %s (install it with `pulumi plugin install resource %s %s`, "+
			"or from a binary with `--file pulumi-resource-%s`, or let the Pulumi CLI download it: "+
			"unset PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION): %w",
			stack, ErrPluginMissing, m[1], m[2], m[1], version, m[1], err)
	}
	return err
}

// openLog opens the per-stack log file for appending.
func (r *Runner) openLog(stack string) (*os.File, error) {
	f, err := os.OpenFile(r.LogPath(stack), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("runner: open run log: %w", err)
	}
	fmt.Fprintf(f, "\n=== %s %s (backend %s, pulumi %s)\n", time.Now().UTC().Format(time.RFC3339), stack,
		r.cfg.BackendURL, r.PulumiVersion())
	return f, nil
}
