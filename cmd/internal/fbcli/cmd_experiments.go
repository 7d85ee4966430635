package fbcli

import (
	"fmt"
	"text/tabwriter"

	"github.com/urfave/cli/v2"

	"github.com/faas-benchmarker/faas-benchmarker/experiments"
	"github.com/faas-benchmarker/faas-benchmarker/internal/exitcode"
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
					writeParams(tw, e)
				}
			}
			return tw.Flush()
		},
	}
}

// writeParams lists e's parameters, one "--set NAME=DEFAULT  help  want"
// row each.
func writeParams(tw *tabwriter.Writer, e experiments.Experiment) {
	for _, p := range e.Params() {
		fmt.Fprintf(tw, "  --set %s=%s\t%s\t%s\n", p.Name, p.Default, p.Help, p.Want())
	}
}

// isLeaf reports whether cmd has no subcommands but urfave/cli's help.
func isLeaf(cmd *cli.Command) bool {
	for _, s := range cmd.Subcommands {
		if !s.HasName("help") {
			return false
		}
	}
	return true
}

// commandHelp answers `fbrun CMD ARG --help`: the help of CMD (c's
// command), and for `experiment NAME` first that experiment's summary and
// parameters.
func commandHelp(c *cli.Context, arg string) {
	if c.Command.Name == experimentCommandName {
		e, err := experiments.Lookup(arg)
		if err != nil {
			fmt.Fprintln(c.App.ErrWriter, "fbrun: "+err.Error())
			cli.OsExiter(exitcode.Usage)
			return
		}
		fmt.Fprintf(c.App.Writer, "%s: %s\n\nPARAMETERS (--set KEY=VALUE; default, meaning, valid values):\n", e.Name(), e.Summary())
		tw := tabwriter.NewWriter(c.App.Writer, 0, 4, 2, ' ', 0)
		writeParams(tw, e)
		_ = tw.Flush()
		fmt.Fprintln(c.App.Writer)
	}
	cli.HelpPrinter(c.App.Writer, cli.CommandHelpTemplate, c.Command)
}
