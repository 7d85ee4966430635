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
		Description: "A run still stored as running whose owner process (host, pid, process start) is gone shows as\n" +
			"crashed; fbrun runs close stores that. A running run owned by another host, or stored by an fbrun\n" +
			"that did not record owners, shows as \"running (or crashed)\": this machine cannot tell.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "experiment", Usage: "only runs of this experiment"},
			&cli.StringFlag{Name: "platform", Usage: "only runs on this platform"},
		},
		Action:      runsListAction,
		Subcommands: []*cli.Command{runsCloseCommand()},
	}
}

func runsListAction(c *cli.Context) error {
	if c.NArg() > 0 {
		return usageError("runs takes no arguments (did you mean fbrun runs close %s?)", c.Args().First())
	}
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
	crashed := 0
	for _, r := range runs {
		n, err := db.CountInvocations(c.Context, r.ID)
		if err != nil {
			return cli.Exit(err.Error(), 1)
		}
		dur := "-"
		if !r.EndedAt.IsZero() {
			dur = r.EndedAt.Sub(r.StartedAt).Round(100 * time.Millisecond).String()
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%d\n", r.ID, r.Experiment, r.Platform,
			r.StartedAt.UTC().Format("2006-01-02 15:04:05"), dur, r.StatusText(), n)
		if r.Status == results.StatusCrashed && r.StoredStatus == results.StatusRunning {
			crashed++
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if crashed > 0 {
		fmt.Fprintf(c.App.ErrWriter, "%d crashed run(s) not closed yet: fbrun runs close --crashed\n", crashed)
	}
	return nil
}

func runsCloseCommand() *cli.Command {
	return &cli.Command{
		Name:      "close",
		Usage:     "store crashed runs as crashed (their measured rows are kept unchanged)",
		ArgsUsage: "[RUN_ID...]",
		Description: "Closes the named runs, or with --crashed every run whose owner process is gone. A run whose\n" +
			"owner is alive is refused; one whose owner cannot be checked here (another host, or no owner\n" +
			"recorded) needs --force. Only the status and the error message change.",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "crashed", Usage: "close every run whose owner process is gone"},
			&cli.BoolFlag{Name: "force", Usage: "also close named runs whose owner cannot be checked from this machine"},
		},
		Action: runsCloseAction,
	}
}

func runsCloseAction(c *cli.Context) error {
	ids := c.Args().Slice()
	if len(ids) == 0 && !c.Bool("crashed") {
		return usageError("runs close needs RUN_ID arguments or --crashed")
	}
	if len(ids) > 0 && c.Bool("crashed") {
		return usageError("runs close takes RUN_ID arguments or --crashed, not both")
	}
	db, err := openDB(c)
	if err != nil {
		return err
	}
	defer db.Close()
	closed, err := db.CloseCrashedRuns(c.Context, results.CloseOptions{IDs: ids, Force: c.Bool("force"), Now: time.Now()})
	for _, id := range closed {
		fmt.Fprintf(c.App.Writer, "closed %s as crashed\n", id)
	}
	if err != nil {
		return cli.Exit(err.Error(), 1)
	}
	if len(closed) == 0 && len(ids) == 0 {
		fmt.Fprintln(c.App.ErrWriter, "no crashed runs to close")
	}
	return nil
}
