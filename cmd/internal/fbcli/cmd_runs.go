package fbcli

import (
	"fmt"
	"os"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/faas-benchmarker/faas-benchmarker/results"
	"github.com/faas-benchmarker/faas-benchmarker/runowner"
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
			r.StartedAt.UTC().Format("2006-01-02 15:04:05"), dur, runStatus(r), n)
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

// runStatus is how `fbrun runs` shows a run's status.
func runStatus(r results.Run) string {
	if r.Status != results.StatusRunning || !r.EndedAt.IsZero() {
		return r.Status
	}
	switch runowner.Check(r.Owner) {
	case runowner.Alive:
		return fmt.Sprintf("running (pid %d)", r.Owner.PID)
	default:
		if r.Owner.Host != "" && !isThisHost(r.Owner.Host) {
			return "running on " + r.Owner.Host
		}
		return "running (or crashed)"
	}
}

func isThisHost(h string) bool {
	me, err := os.Hostname()
	return err == nil && me == h
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
	var runs []results.Run
	if len(ids) > 0 {
		runs, err = db.Runs(c.Context, results.RunFilter{IDs: ids})
	} else {
		runs, err = db.Runs(c.Context, results.RunFilter{})
	}
	if err != nil {
		return cli.Exit(err.Error(), 1)
	}
	closed := 0
	for _, r := range runs {
		named := len(ids) > 0
		if r.StoredStatus != results.StatusRunning || !r.EndedAt.IsZero() {
			if named {
				return cli.Exit(fmt.Sprintf("run %s is %s, not running: nothing to close", r.ID, r.Status), 1)
			}
			continue
		}
		state := runowner.Check(r.Owner)
		switch {
		case state == runowner.Gone:
		case !named:
			continue // --crashed closes only runs known to have crashed
		case state == runowner.Alive:
			return cli.Exit(fmt.Sprintf("run %s is still running (pid %d on this host): stop it with Ctrl-C or kill %d", r.ID, r.Owner.PID, r.Owner.PID), 1)
		case !c.Bool("force"):
			return cli.Exit(fmt.Sprintf("cannot tell whether run %s is still running (%s): pass --force if you know it is not", r.ID, ownerWhere(r.Owner)), 1)
		}
		reason := fmt.Sprintf("crashed: owner process is gone (%s); closed by fbrun runs close at %s", ownerWhere(r.Owner), time.Now().UTC().Format(time.RFC3339))
		if state == runowner.Unknown {
			reason = fmt.Sprintf("closed as crashed with --force by fbrun runs close at %s (%s)", time.Now().UTC().Format(time.RFC3339), ownerWhere(r.Owner))
		}
		if err := db.CloseCrashed(c.Context, r.ID, reason); err != nil {
			return cli.Exit(err.Error(), 1)
		}
		fmt.Fprintf(c.App.Writer, "closed %s as crashed\n", r.ID)
		closed++
	}
	if closed == 0 && len(ids) == 0 {
		fmt.Fprintln(c.App.ErrWriter, "no crashed runs to close")
	}
	return nil
}

// ownerWhere describes a run's owner for messages.
func ownerWhere(o runowner.Owner) string {
	if o.PID == 0 {
		return "no owner recorded"
	}
	return fmt.Sprintf("pid %d on %s", o.PID, o.Host)
}
