package fbcli

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/faas-benchmarker/faas-benchmarker/platforms/builtin"
	"github.com/faas-benchmarker/faas-benchmarker/platforms/doctor"
	"github.com/faas-benchmarker/faas-benchmarker/stacks/stackcfg"
)

// doctorCommand is `fbrun doctor [--platform P]`: the preflight checks of
// package doctor, one line each; exit 1 when one fails.
func doctorCommand() *cli.Command {
	return &cli.Command{
		Name:  "doctor",
		Usage: "check what a run on a platform needs (CLI, plugins, credentials, limits, packages); creates nothing",
		Flags: append([]cli.Flag{
			&cli.StringFlag{Name: flagPlatform, Aliases: []string{"p"}, Value: "local", Usage: "platform to check: " + strings.Join(builtin.Names(), ", ") + ", or " + string(stackcfg.PlatformPermanent) + " (the permanent stack)"},
			&cli.BoolFlag{Name: "existing", Usage: "aws/azure/openfaas: check invoking an existing deployment only (no stack)"},
			&cli.StringSliceFlag{Name: flagStackSet, Usage: "stack setting `KEY=VALUE` the run would use"},
			&cli.IntFlag{Name: "concurrency", Usage: "aws: concurrent invocations the run makes, checked against the account's unreserved concurrency (0: not checked)"},
		}, runnerFlags()...),
		Action: func(c *cli.Context) error {
			return runDoctor(c, c.String(flagPlatform), !c.Bool("existing"), c.Int("concurrency"), c.StringSlice(flagStackSet))
		},
	}
}

// runDoctor prints the checks of platform and fails (exit 1) on a
// problem. concurrency is the most concurrent invocations the run makes
// (0: not checked against the account); stackSets are the settings the
// run's stack would be deployed with.
func runDoctor(c *cli.Context, platform string, managed bool, concurrency int, stackSets []string) error {
	env := doctor.Env{PulumiPath: c.String(flagPulumi), BackendURL: c.String(flagState), StackSets: stackSets,
		Concurrency: concurrency}
	// fbrun-cloud serves the fblocal plugin itself (cmd/fbrun-cloud).
	cloud, err := findCloudBinary()
	if hasCloud(c) {
		cloud, err = os.Executable()
	}
	if err == nil {
		env.ServedPlugins = map[string]string{"fblocal": cloud}
	}
	checks, err := doctorChecks(c, platform, managed, filepath.Dir(c.String(flagDB)), env)
	if err != nil {
		return err
	}
	_, failed := doctor.Run(c.Context, checks, c.App.ErrWriter)
	if failed > 0 {
		return cli.Exit(fmt.Sprintf("doctor: %d of %d checks failed", failed, len(checks)), 1)
	}
	return nil
}

// doctorChecks returns the checks of a platform's descriptor, or of the
// permanent stack (not a platform: no experiment runs on it).
func doctorChecks(c *cli.Context, platform string, managed bool, dataDir string, env doctor.Env) ([]doctor.Check, error) {
	if platform == string(stackcfg.PlatformPermanent) {
		return doctor.Permanent(env), nil
	}
	reg, err := platformsOf(c)
	if err != nil {
		return nil, cli.Exit(err.Error(), 1)
	}
	p, err := reg.Lookup(platform)
	if err != nil {
		return nil, usageError("%v", err)
	}
	return p.Checks(managed, dataDir, env), nil
}
