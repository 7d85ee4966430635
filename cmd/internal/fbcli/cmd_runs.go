package fbcli

import (
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/faas-benchmarker/faas-benchmarker/results"
)

func runsCommand() *cli.Command {
	return &cli.Command{
		Name:  "runs",
		Usage: "list stored runs",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "experiment", Usage: "only runs of this experiment"},
			&cli.StringFlag{Name: "platform", Usage: "only runs on this platform"},
		},
		Action: func(c *cli.Context) error {
			db, err := openDB(c)
			if err != nil {
				return err
			}
			defer db.Close()
			runs, err := db.Runs(c.Context, results.RunFilter{Experiment: c.String("experiment"), Platform: c.String("platform")})
			if err != nil {
				return cli.Exit(err.Error(), 1)
			}
			if len(runs) == 0 {
				fmt.Fprintf(c.App.ErrWriter, "no runs in %s yet: try fbrun experiment smoke\n", db.Path())
				return nil
			}
			tw := tabwriter.NewWriter(c.App.Writer, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "RUN\tEXPERIMENT\tPLATFORM\tSTARTED (UTC)\tDURATION\tSTATUS\tINVOCATIONS")
			for _, r := range runs {
				n, err := db.CountInvocations(c.Context, r.ID)
				if err != nil {
					return cli.Exit(err.Error(), 1)
				}
				dur := "-"
				if !r.EndedAt.IsZero() {
					dur = r.EndedAt.Sub(r.StartedAt).Round(100 * time.Millisecond).String()
				}
				status := r.Status
				if status == results.StatusRunning && r.EndedAt.IsZero() {
					status = "running (or crashed)"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%d\n", r.ID, r.Experiment, r.Platform,
					r.StartedAt.UTC().Format("2006-01-02 15:04:05"), dur, status, n)
			}
			return tw.Flush()
		},
	}
}
