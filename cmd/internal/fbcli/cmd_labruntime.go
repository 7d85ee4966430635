package fbcli

import (
	"github.com/urfave/cli/v2"

	"github.com/faas-benchmarker/faas-benchmarker/functions/labmain"
)

// labRuntimeName is the hidden command the local platform runs as each
// function instance: fbrun re-executes itself, so an installed fbrun needs
// neither the source tree nor a Go toolchain to run the lab functions.
const labRuntimeName = "lab-runtime"

func labRuntimeCommand() *cli.Command {
	return &cli.Command{
		Name:            labRuntimeName,
		Usage:           "run as a lab function instance (used by the local platform)",
		ArgsUsage:       "lambda|http",
		Hidden:          true,
		SkipFlagParsing: true,
		Action: func(c *cli.Context) error {
			if code := labmain.Main(c.Args().Slice()); code != 0 {
				return cli.Exit("", code)
			}
			return nil
		},
	}
}
