package fbcli

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"

	"github.com/urfave/cli/v2"

	"github.com/faas-benchmarker/faas-benchmarker/functions/lab/workloads"
	"github.com/faas-benchmarker/faas-benchmarker/functions/labruntime"
)

// labRuntimeName is the hidden command the local platform runs as each
// function instance when fbrun-lab is not installed next to fbrun: fbrun
// re-executes itself, so an installed fbrun needs neither the source tree
// nor a Go toolchain to run the lab functions.
const labRuntimeName = "lab-runtime"

// LabBinary is the small lab runtime binary (cmd/fbrun-lab) the local
// platform prefers: `go install ./cmd/...` installs it next to fbrun.
const LabBinary = "fbrun-lab"

func labRuntimeCommand() *cli.Command {
	return &cli.Command{
		Name:            labRuntimeName,
		Usage:           "run as a lab function instance (used by the local platform)",
		ArgsUsage:       "lambda|http",
		Hidden:          true,
		SkipFlagParsing: true,
		Action: func(c *cli.Context) error {
			if code := labruntime.Main(c.Args().Slice(), labruntime.Options{Workloads: workloads.New()}); code != 0 {
				return cli.Exit("", code)
			}
			return nil
		},
	}
}

// labCommands returns the commands that run a lab function instance in
// Lambda and in HTTP mode: fbrun-lab next to this executable when it is
// there (a small binary, like a real platform's bootstrap: a quarter of
// fbrun's memory per instance, see docs/performance.md), else this very
// executable as `fbrun lab-runtime`. It never looks on PATH: a lab binary
// from another installation could be another version.
func labCommands() (lambda, http []string, err error) {
	self, err := os.Executable()
	if err != nil {
		return nil, nil, fmt.Errorf("cannot find the fbrun binary to run lab functions: %w", err)
	}
	name := LabBinary
	if runtime.GOOS == "windows" {
		name += ".exe"
	}
	if lab := filepath.Join(filepath.Dir(self), name); isExecutable(lab) {
		return []string{lab, "lambda"}, []string{lab, "http"}, nil
	}
	return []string{self, labRuntimeName, "lambda"}, []string{self, labRuntimeName, "http"}, nil
}

func isExecutable(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.Mode().IsRegular() && (runtime.GOOS == "windows" || st.Mode().Perm()&0o111 != 0)
}
