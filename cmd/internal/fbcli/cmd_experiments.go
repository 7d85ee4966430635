package fbcli

import (
	"fmt"
	"text/tabwriter"

	"github.com/urfave/cli/v2"

	"github.com/faas-benchmarker/faas-benchmarker/experiments"
)

func experimentsCommand() *cli.Command {
	return &cli.Command{
		Name:  "experiments",
		Usage: "list the experiments and their parameters",
		Flags: []cli.Flag{&cli.BoolFlag{Name: "params", Usage: "also list every parameter with its default"}},
		Action: func(c *cli.Context) error {
			tw := tabwriter.NewWriter(c.App.Writer, 0, 4, 2, ' ', 0)
			for _, e := range experiments.Catalog() {
				fmt.Fprintf(tw, "%s\t%s\n", e.Name(), e.Summary())
				if c.Bool("params") {
					for _, p := range e.Params() {
						fmt.Fprintf(tw, "  --set %s=%s\t%s\t%s\n", p.Name, p.Default, p.Help, p.Want())
					}
				}
			}
			return tw.Flush()
		},
	}
}
