package fbcli

import (
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/faas-benchmarker/faas-benchmarker/experiments/scaffold"
)

func newCommand() *cli.Command {
	return &cli.Command{
		Name:  "new",
		Usage: "scaffold new things",
		Subcommands: []*cli.Command{{
			Name:      "experiment",
			Usage:     "create experiments/<name>.go from a template, register it and add a failing test stub",
			ArgsUsage: "NAME",
			Flags: []cli.Flag{
				&cli.StringFlag{Name: "dir", Value: "experiments", Usage: "the experiments package `DIR` of a source checkout"},
			},
			Action: func(c *cli.Context) error {
				if c.NArg() != 1 {
					return usageError("new experiment needs exactly one NAME, e.g. fbrun new experiment memory-sweep")
				}
				files, err := scaffold.Experiment(c.String("dir"), c.Args().First())
				if err != nil {
					return cli.Exit(err.Error(), 1)
				}
				for _, f := range files {
					fmt.Fprintln(c.App.Writer, "wrote", f)
				}
				fmt.Fprintln(c.App.Writer, "next: fill in Run, make the test pass (go test ./experiments/), document it in docs/experiments.md")
				return nil
			},
		}},
	}
}
