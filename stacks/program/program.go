// Package program maps typed stack settings to the matching Pulumi program,
// and reads those settings from Pulumi config (namespace "fb"). The root
// Pulumi.yaml runs it through stacks/cmd/pulumi-program; the runner can use
// For with settings built from stackcfg and command-line overrides.
//
// It imports every provider SDK; code that only needs config or output keys
// should import stacks/stackcfg instead.
package program

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	localstackplat "github.com/faas-benchmarker/faas-benchmarker/platforms/localstack"
	"github.com/faas-benchmarker/faas-benchmarker/stacks/aws"
	"github.com/faas-benchmarker/faas-benchmarker/stacks/azure"
	"github.com/faas-benchmarker/faas-benchmarker/stacks/localstack"
	"github.com/faas-benchmarker/faas-benchmarker/stacks/openfaas"
	"github.com/faas-benchmarker/faas-benchmarker/stacks/permanent"
	"github.com/faas-benchmarker/faas-benchmarker/stacks/stackcfg"
)

// builder builds a stack program from its settings (nil for a program
// that takes none).
type builder func(stackcfg.Settings) (pulumi.RunFunc, error)

// programs are the stack programs by name, one line each: a new stack
// program is its package, its settings in stackcfg (one line in its
// table) and one line here. A platform names its program in its
// descriptor (platforms.Stack.Program).
var programs = map[string]builder{
	string(stackcfg.PlatformPermanent): typed(permanent.Program),
	string(stackcfg.PlatformAWS):       typed(aws.Program),
	string(stackcfg.PlatformAzure):     typed(azure.Program),
	string(stackcfg.PlatformOpenFaaS):  typed(openfaas.Program),
	localstackplat.Name:                func(stackcfg.Settings) (pulumi.RunFunc, error) { return localstack.Program(), nil },
}

// typed adapts a program taking its own settings type.
func typed[T any, P interface {
	*T
	stackcfg.Settings
}](program func(T) pulumi.RunFunc) builder {
	return func(s stackcfg.Settings) (pulumi.RunFunc, error) {
		c, ok := s.(P)
		if !ok {
			return nil, fmt.Errorf("program: settings %T are not %T", s, c)
		}
		return program(*c), nil
	}
}

// For returns the program of the platform s configures.
func For(s stackcfg.Settings) (pulumi.RunFunc, error) {
	if s == nil {
		return nil, errors.New("program: no settings")
	}
	return Named(string(s.Platform()), s)
}

// Named returns the stack program called name (platforms.Stack.Program)
// built with settings s (nil for a program that takes none).
func Named(name string, s stackcfg.Settings) (pulumi.RunFunc, error) {
	b, ok := programs[name]
	if !ok {
		return nil, fmt.Errorf("program: no stack program %q", name)
	}
	return b(s)
}

// FromConfig is the root Pulumi.yaml program (stacks/cmd/pulumi-program):
// it reads fb:platform and the platform's fb:* keys from the stack config,
// refuses fb:* keys the platform does not know (a typo must not silently
// fall back to a default; the check reads the config the Pulumi CLI passes
// in PULUMI_CONFIG and finds nothing to check without it), and runs that
// platform's program.
func FromConfig(ctx *pulumi.Context) error {
	s, err := Settings(ctx)
	if err != nil {
		return err
	}
	unknown, err := UnknownKeys(os.Getenv(pulumi.EnvConfig), s)
	if err != nil {
		return err
	}
	if len(unknown) > 0 {
		return fmt.Errorf("config keys not used by the %s stack: %s (see `docs/infrastructure.md`)",
			s.Platform(), strings.Join(unknown, ", "))
	}
	// Relative package paths (fb:artifactDir, fb:functionZip, ...) are
	// relative to the project root, not to this program's directory,
	// where Pulumi runs it.
	if r, ok := s.(stackcfg.PathResolver); ok {
		root, err := ProjectRoot(ctx)
		if err != nil {
			return err
		}
		r.ResolvePaths(root)
	}
	run, err := For(s)
	if err != nil {
		return err
	}
	return run(ctx)
}

// Settings reads fb:platform and the keys the platform knows from the
// stack config; keys it does not know are left for UnknownKeys.
func Settings(ctx *pulumi.Context) (stackcfg.Settings, error) {
	platform, ok := ctx.GetConfig(stackcfg.Namespace + ":" + stackcfg.KeyPlatform)
	if !ok || platform == "" {
		return nil, fmt.Errorf("program: fb:platform is not set; run `pulumi config set fb:platform <%s>`", platformNames())
	}
	s, err := stackcfg.New(stackcfg.Platform(platform))
	if err != nil {
		return nil, err
	}
	for _, k := range s.Keys() {
		if v, ok := ctx.GetConfig(stackcfg.Namespace + ":" + k.Key); ok {
			if err := s.Set(k.Key, v); err != nil {
				return nil, err
			}
		}
	}
	return s, nil
}

// UnknownKeys returns the fb:* keys of configJSON (the PULUMI_CONFIG
// environment variable: a JSON object of "namespace:key" to value) that s
// does not accept, sorted.
func UnknownKeys(configJSON string, s stackcfg.Settings) ([]string, error) {
	if configJSON == "" {
		return nil, nil
	}
	var all map[string]any
	if err := json.Unmarshal([]byte(configJSON), &all); err != nil {
		return nil, fmt.Errorf("program: parse %s: %w", pulumi.EnvConfig, err)
	}
	known := map[string]bool{stackcfg.KeyPlatform: true}
	for _, k := range s.Keys() {
		known[k.Key] = true
	}
	var unknown []string
	for k := range all {
		key, ok := strings.CutPrefix(k, stackcfg.Namespace+":")
		if ok && !known[key] {
			unknown = append(unknown, k)
		}
	}
	sort.Strings(unknown)
	return unknown, nil
}

// ProjectRoot returns the directory of the project's Pulumi.yaml: the root
// the Pulumi CLI passes the program (ctx.RootDirectory, from
// PULUMI_ROOT_DIRECTORY), else the nearest directory at or above the
// working directory that holds a Pulumi.yaml. Pulumi runs a Go program in
// its main directory (stacks/cmd/pulumi-program for the root Pulumi.yaml),
// so relative paths in the config must be resolved against this root.
func ProjectRoot(ctx *pulumi.Context) (string, error) {
	if root := ctx.RootDirectory(); root != "" {
		return root, nil
	}
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("program: project root: %w", err)
	}
	for d := dir; ; {
		if _, err := os.Stat(filepath.Join(d, "Pulumi.yaml")); err == nil {
			return d, nil
		}
		parent := filepath.Dir(d)
		if parent == d {
			return "", fmt.Errorf("program: no Pulumi.yaml at or above %s", dir)
		}
		d = parent
	}
}

func platformNames() string {
	var names []string
	for _, p := range stackcfg.Platforms() {
		names = append(names, string(p))
	}
	return strings.Join(names, "|")
}
