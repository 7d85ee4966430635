package doctor

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/faas-benchmarker/faas-benchmarker/stacks/stackcfg"
)

var (
	execLook   = exec.LookPath
	execOutput = func(ctx context.Context, name string, args ...string) ([]byte, error) {
		return exec.CommandContext(ctx, name, args...).Output()
	}
)

// ResultsDir checks that the results database's directory dataDir is
// writable: every run needs it.
func ResultsDir(dataDir string) Check { return writableDir("results directory", dataDir) }

// Pulumi returns the checks every stack deployment needs: the Pulumi CLI,
// the secrets passphrase and the state backend.
func Pulumi(e Env) []Check { return []Check{PulumiCLI(e), Passphrase(e), Backend(e)} }

// Region returns the AWS region a run uses: fb:region of its stack
// settings, else $AWS_REGION for a run on an existing deployment
// (managed false), else def.
func (e Env) Region(managed bool, def string) string {
	for _, o := range e.StackSets {
		if k, v, err := stackcfg.ParseOverride(o); err == nil && k == "region" {
			return v
		}
	}
	if r := e.getenv("AWS_REGION"); r != "" && !managed {
		return r
	}
	return def
}

// Permanent returns the checks of the permanent stack (fbrun up
// permanent). A platform's checks are its descriptor's
// (platforms.Platform.Checks).
func Permanent(e Env) []Check {
	return append(Pulumi(e), DigitalOceanCredentials(e), PulumiPlugins(e, "digitalocean"), StackSettings(stackcfg.PlatformPermanent, e.StackSets))
}

// writableDir checks that dir exists or can be created, and is writable.
func writableDir(name, dir string) Check {
	return checkFunc{name, func(context.Context) Result {
		if dir == "" {
			return ok("in memory")
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return problem(err.Error(), "choose another --db location")
		}
		f, err := os.CreateTemp(dir, ".doctor-")
		if err != nil {
			return problem(filepath.Clean(dir)+" is not writable", "choose another --db location")
		}
		f.Close()
		os.Remove(f.Name())
		return ok(dir + " is writable")
	}}
}
