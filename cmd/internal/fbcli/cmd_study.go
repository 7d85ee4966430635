package fbcli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/faas-benchmarker/faas-benchmarker/internal/exitcode"
	"github.com/faas-benchmarker/faas-benchmarker/results"
	"github.com/faas-benchmarker/faas-benchmarker/results/report"
	"github.com/faas-benchmarker/faas-benchmarker/stacks/stackcfg"
	"github.com/faas-benchmarker/faas-benchmarker/study"
)

func studyCommand() *cli.Command {
	return &cli.Command{
		Name:  "study",
		Usage: "run a campaign of experiments × platforms, repeated, and see how platforms change (docs/studies.md)",
		Subcommands: []*cli.Command{
			studyRunCommand(), studyStatusCommand(), studyReportCommand(), studyScheduleCommand(),
		},
	}
}

// loadStudy reads and validates a study file: any problem is a usage
// error (exit 2) listing every file:line.
func loadStudy(c *cli.Context) (*study.Spec, error) {
	if c.NArg() != 1 {
		return nil, usageError("%s needs exactly one study FILE (see docs/studies.md)", c.Command.FullName())
	}
	vocab, err := studyVocabulary()
	if err != nil {
		return nil, err
	}
	spec, err := study.Load(c.Args().First(), vocab)
	if err != nil {
		return nil, usageError("%s", strings.TrimPrefix(err.Error(), "study: "))
	}
	return spec, nil
}

// forwardFlags returns the given runner/shipping flags as --name=value,
// for the cells (or the scheduled service).
func forwardFlags(c *cli.Context) []string {
	var out []string
	for _, f := range runnerFlags() {
		name := f.Names()[0]
		if !c.IsSet(name) {
			continue
		}
		if _, ok := f.(*cli.BoolFlag); ok {
			out = append(out, "--"+name)
			continue
		}
		out = append(out, "--"+name+"="+c.String(name))
	}
	return out
}

func studyRunCommand() *cli.Command {
	return &cli.Command{
		Name:      "run",
		Usage:     "run (or continue) a study: every cell once per repetition, interleaved across platforms",
		ArgsUsage: "FILE",
		Description: "Continues the latest study run of the study when it has cells left (after a crash, SIGKILL or\n" +
			"Ctrl-C): done cells are never repeated. Otherwise, or with --new, starts a new study run.\n" +
			"Each cell runs as `fbrun experiment` in a child process (cloud platforms: a stack per cell,\n" +
			"always torn down); its log is kept next to the database under studies/.",
		Flags: append([]cli.Flag{
			&cli.BoolFlag{Name: "new", Usage: "start a new study run even if the latest one has cells left"},
			&cli.IntFlag{Name: "retries", Value: 2, Usage: "tries again a failed cell this many times before recording it as failed"},
			&cli.DurationFlag{Name: "retry-delay", Value: 10 * time.Second, Usage: "wait before retrying a failed cell"},
			&cli.BoolFlag{Name: flagNoProgress, Usage: "no progress bar (one line per cell instead; also when stderr is not a terminal)"},
		}, runnerFlags()...),
		Action: studyRunAction,
	}
}

func studyRunAction(c *cli.Context) error {
	spec, err := loadStudy(c)
	if err != nil {
		return err
	}
	if c.Int("retries") < 0 {
		return usageError("--retries must be 0 or more")
	}
	logger, err := newLogger(c, c.App.ErrWriter)
	if err != nil {
		return err
	}
	self, err := os.Executable()
	if err != nil {
		return cli.Exit(fmt.Sprintf("cannot find the fbrun binary to run cells: %v", err), 1)
	}
	dbPath, err := filepath.Abs(c.String(flagDB))
	if err != nil {
		return cli.Exit(err.Error(), 1)
	}
	db, err := openDB(c)
	if err != nil {
		return err
	}
	defer db.Close()
	exe := &study.ProcessExecutor{Binary: self, GlobalArgs: []string{"--db", dbPath, "--log-level", c.String(flagLogLevel)},
		ExtraArgs: forwardFlags(c)}
	prog := newStudyProgress(c.App.ErrWriter, !c.Bool(flagNoProgress) && isTerminal(os.Stderr))
	out, err := study.Run(c.Context, study.Config{
		DB: db, Spec: spec, Executor: exe, New: c.Bool("new"), Retries: c.Int("retries"), RetryDelay: c.Duration("retry-delay"),
		LogDir: filepath.Join(filepath.Dir(dbPath), "studies"), Observer: prog, Logger: logger,
	})
	prog.Close()
	if errors.Is(err, study.ErrBusy) {
		return cli.Exit(err.Error(), 1)
	}
	if err != nil {
		return cli.Exit(fmt.Sprintf("study %s: %v", spec.Name, err), 1)
	}
	for _, n := range out.Notes {
		fmt.Fprintln(c.App.ErrWriter, "note: "+n)
	}
	w := c.App.ErrWriter
	fmt.Fprintf(w, "study run %s: %d done, %d failed, %d left\n", out.StudyRun, out.Done, out.Failed, out.Pending)
	switch {
	case out.Stopped != "":
		return cli.Exit("stopped: "+out.Stopped, exitcode.Teardown)
	case out.Interrupted:
		return cli.Exit(fmt.Sprintf("interrupted: run fbrun study run %s again to continue (done cells are kept)", spec.Path), exitcode.Interrupted)
	}
	fmt.Fprintf(w, "next: fbrun study status %s · fbrun study report %s -o %s-report.html\n", spec.Name, spec.Name, spec.Name)
	if out.Failed > 0 {
		return cli.Exit(fmt.Sprintf("%d cells failed after their retries: see fbrun study status %s", out.Failed, spec.Name), exitcode.CellsFailed)
	}
	return nil
}

func studyStatusCommand() *cli.Command {
	return &cli.Command{
		Name:      "status",
		Usage:     "the study runs, their cells and states, and the change detector's flags",
		ArgsUsage: "[NAME]",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "run", Usage: "show the cells of this study run `ID` (default: the latest)"},
			&cli.BoolFlag{Name: flagJSON, Usage: "print one JSON object instead of tables"},
		},
		Action: studyStatusAction,
	}
}

func studyStatusAction(c *cli.Context) error {
	if c.NArg() > 1 {
		return usageError("study status takes at most one study NAME")
	}
	db, err := openDB(c)
	if err != nil {
		return err
	}
	defer db.Close()
	if c.NArg() == 0 {
		return studyList(c, db)
	}
	a, err := study.Analyze(c.Context, db, c.Args().First())
	if err != nil {
		return cli.Exit(strings.TrimPrefix(err.Error(), "study: "), 1)
	}
	st := study.NewStatus(a)
	if c.Bool(flagJSON) {
		enc := json.NewEncoder(c.App.Writer)
		enc.SetIndent("", "  ")
		return enc.Encode(st)
	}
	var show *study.RunStatus
	for i := range st.Runs {
		if id := c.String("run"); id == "" || st.Runs[i].ID == id {
			show = &st.Runs[i]
		}
	}
	if show == nil {
		return cli.Exit(fmt.Sprintf("study %s has no study run %q", a.Study, c.String("run")), 1)
	}
	w := c.App.Writer
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "STUDY RUN\tSTARTED (UTC)\tSTATE\tDONE\tFAILED\tLEFT\tCELLS")
	for _, r := range st.Runs {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%d\t%d\n", r.ID, r.Started.UTC().Format("2006-01-02 15:04:05"), r.State, r.Done, r.Failed, r.Left, len(r.Cells))
	}
	tw.Flush()
	fmt.Fprintf(w, "\nCells of %s:\n", show.ID)
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "#\tPLATFORM\tEXPERIMENT\tREP\tSTATE\tATTEMPTS\tRUN\tDURATION\tERROR")
	for _, cell := range show.Cells {
		dur := "-"
		if cell.DurationS > 0 {
			dur = (time.Duration(cell.DurationS * float64(time.Second))).Round(100 * time.Millisecond).String()
		}
		run := cell.RunID
		if run == "" {
			run = "-"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%d\t%s\t%d\t%s\t%s\t%s\n", cell.Seq, cell.Platform, cell.Experiment, cell.Repetition, cell.State,
			cell.Attempts, run, dur, oneLine(cell.Error, 80))
	}
	tw.Flush()
	fmt.Fprintln(w)
	if len(st.Changes) == 0 {
		fmt.Fprintf(w, "Changes: none (no estimate moved from the previous study run; at most %.0f %% false alarms per study run)\n", study.FamilyAlpha*100)
	} else {
		fmt.Fprintf(w, "Changes (%d): estimates that moved from the previous study run (t test per estimate, Holm over the study run at %.0f %%)\n", len(st.Changes), study.FamilyAlpha*100)
		for _, ch := range st.Changes {
			fmt.Fprintln(w, "  "+ch.Text)
		}
	}
	studyUntestedText(w, st.Untested, show.ID)
	return nil
}

// studyUntestedText lists the estimates the change detector could not
// judge in study run id, per reason and platform.
func studyUntestedText(w io.Writer, untested []study.UntestedStatus, id string) {
	keys := map[string]map[string][]string{} // reason → platform → estimates
	var reasons, platforms []string
	n := 0
	for _, u := range untested {
		if u.ToRun != id {
			continue
		}
		n++
		if keys[u.Reason] == nil {
			keys[u.Reason] = map[string][]string{}
			reasons = append(reasons, u.Reason)
		}
		if !slices.Contains(platforms, u.Platform) {
			platforms = append(platforms, u.Platform)
		}
		keys[u.Reason][u.Platform] = append(keys[u.Reason][u.Platform], u.Estimate)
	}
	if n == 0 {
		return
	}
	fmt.Fprintf(w, "Not tested in %s (%d estimates):\n", id, n)
	for _, r := range reasons {
		fmt.Fprintf(w, "  %s:\n", r)
		for _, p := range platforms {
			if ks := keys[r][p]; len(ks) > 0 {
				fmt.Fprintf(w, "    %s: %s\n", p, strings.Join(ks, ", "))
			}
		}
	}
}

// studyList prints every study in the database.
func studyList(c *cli.Context, db *results.DB) error {
	srs, err := db.StudyRuns(c.Context, "")
	if err != nil {
		return cli.Exit(err.Error(), 1)
	}
	if c.Bool(flagJSON) {
		type item struct {
			Study     string `json:"study"`
			StudyRuns int    `json:"study_runs"`
			Latest    string `json:"latest"`
			State     string `json:"state"`
		}
		list := []item{}
		for _, sr := range srs {
			if n := len(list); n > 0 && list[n-1].Study == sr.Study {
				list[n-1].StudyRuns++
				list[n-1].Latest, list[n-1].State = sr.ID, study.RunState(sr)
				continue
			}
			list = append(list, item{sr.Study, 1, sr.ID, study.RunState(sr)})
		}
		enc := json.NewEncoder(c.App.Writer)
		enc.SetIndent("", "  ")
		return enc.Encode(map[string]any{"studies": list})
	}
	if len(srs) == 0 {
		fmt.Fprintf(c.App.ErrWriter, "no studies in %s yet: start one with fbrun study run FILE (docs/studies.md)\n", db.Path())
		return nil
	}
	latest := map[string]results.StudyRun{}
	count := map[string]int{}
	var names []string
	for _, sr := range srs {
		if _, ok := latest[sr.Study]; !ok {
			names = append(names, sr.Study)
		}
		latest[sr.Study] = sr
		count[sr.Study]++
	}
	tw := tabwriter.NewWriter(c.App.Writer, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "STUDY\tSTUDY RUNS\tLATEST\tSTARTED (UTC)\tSTATE")
	for _, n := range names {
		sr := latest[n]
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\n", n, count[n], sr.ID, sr.StartedAt.UTC().Format("2006-01-02 15:04:05"), study.RunState(sr))
	}
	return tw.Flush()
}

func oneLine(s string, max int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > max {
		s = s[:max-1] + "…"
	}
	return s
}

func studyReportCommand() *cli.Command {
	return &cli.Command{
		Name:      "report",
		Usage:     "write the study's HTML report: estimates per platform side by side, over time, and the changes",
		ArgsUsage: "NAME",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "output `FILE` (default NAME-report.html)"},
			&cli.StringFlag{Name: "title", Usage: "page title"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return usageError("study report needs exactly one study NAME (see fbrun study status)")
			}
			db, err := openDB(c)
			if err != nil {
				return err
			}
			defer db.Close()
			start := time.Now()
			a, err := study.Analyze(c.Context, db, c.Args().First())
			if err != nil {
				return cli.Exit(strings.TrimPrefix(err.Error(), "study: "), 1)
			}
			rep, err := report.BuildStudy(c.Context, db, a, report.StudyConfig{Title: c.String("title")})
			if err != nil {
				return cli.Exit(err.Error(), 1)
			}
			out := c.String("output")
			if out == "" {
				out = a.Study + "-report.html"
			}
			if err := writeFileAtomic(out, rep.WriteHTML); err != nil {
				return cli.Exit(err.Error(), 1)
			}
			fmt.Fprintf(c.App.ErrWriter, "wrote %s: %d study runs, %d changes flagged, in %s\n", out, len(a.Runs), len(a.Changes),
				time.Since(start).Round(time.Millisecond))
			return nil
		},
	}
}

func studyScheduleCommand() *cli.Command {
	return &cli.Command{
		Name:      "schedule",
		Usage:     "install the study's schedule as a systemd timer and service (on the orchestrator)",
		ArgsUsage: "FILE",
		Description: "Writes fbrun-study-NAME.service and .timer into --unit-dir and enables the timer (needs root).\n" +
			"The service runs `fbrun study run FILE` as --user, never root; credentials come from\n" +
			"--credentials-file, a root-only (0600) environment file systemd reads before dropping privileges.\n" +
			"Results-shipping and state flags given here are passed to every run.",
		Flags: append([]cli.Flag{
			&cli.BoolFlag{Name: "print", Usage: "write the unit files to stdout instead of installing them"},
			&cli.StringFlag{Name: "unit-dir", Value: study.DefaultUnitDir, Usage: "where the unit files go"},
			&cli.StringFlag{Name: "user", Value: study.DefaultUser, Usage: "the (unprivileged) user that runs the study"},
			&cli.StringFlag{Name: "env-file", Value: study.DefaultEnvFile, Usage: "environment file with non-secret settings"},
			&cli.StringFlag{Name: "credentials-file", Value: study.DefaultCredentialsFile, Usage: "root-only environment file with the credentials"},
			&cli.StringFlag{Name: "workdir", Value: study.DefaultWorkDir, Usage: "working directory of the service"},
			&cli.StringFlag{Name: "fbrun", Usage: "the fbrun `PATH` the service runs (default: this binary)"},
			&cli.BoolFlag{Name: "no-enable", Usage: "write the units but do not call systemctl"},
		}, runnerFlags()...),
		Action: studyScheduleAction,
	}
}

func studyScheduleAction(c *cli.Context) error {
	spec, err := loadStudy(c)
	if err != nil {
		return err
	}
	file, err := filepath.Abs(spec.Path)
	if err != nil {
		return cli.Exit(err.Error(), 1)
	}
	dbPath, err := filepath.Abs(c.String(flagDB))
	if err != nil {
		return cli.Exit(err.Error(), 1)
	}
	bin := c.String("fbrun")
	if bin == "" {
		if bin, err = os.Executable(); err != nil {
			return cli.Exit(fmt.Sprintf("cannot find the fbrun binary: %v (pass --fbrun)", err), 1)
		}
	}
	units, err := study.GenerateUnits(study.UnitConfig{
		Spec: spec, StudyFile: file, Fbrun: bin, DB: dbPath, User: c.String("user"), EnvFile: c.String("env-file"),
		CredentialsFile: c.String("credentials-file"), WorkDir: c.String("workdir"), ExtraArgs: forwardFlags(c),
		NeedsCredentials: spec.NeedsCredentials(),
	})
	if err != nil {
		return usageError("%s", strings.TrimPrefix(err.Error(), "study: "))
	}
	if c.Bool("print") {
		fmt.Fprintf(c.App.Writer, "# %s\n%s\n# %s\n%s", units.ServiceName, units.Service, units.TimerName, units.Timer)
		return nil
	}
	paths, err := study.WriteUnits(c.String("unit-dir"), units)
	if err != nil {
		return cli.Exit(strings.TrimPrefix(err.Error(), "study: ")+" (installing units needs root; --print shows them)", 1)
	}
	for _, p := range paths {
		fmt.Fprintln(c.App.ErrWriter, "wrote "+p)
	}
	if c.Bool("no-enable") {
		fmt.Fprintf(c.App.ErrWriter, "enable it with: systemctl daemon-reload && systemctl enable --now %s\n", units.TimerName)
		return nil
	}
	for _, args := range [][]string{{"daemon-reload"}, {"enable", "--now", units.TimerName}} {
		cmd := exec.CommandContext(c.Context, "systemctl", args...)
		cmd.Stdout, cmd.Stderr = c.App.ErrWriter, c.App.ErrWriter
		if err := cmd.Run(); err != nil {
			return cli.Exit(fmt.Sprintf("systemctl %s: %v", strings.Join(args, " "), err), 1)
		}
	}
	fmt.Fprintf(c.App.ErrWriter, "enabled %s (%s, %s); next runs: systemctl list-timers %s\n", units.TimerName, spec.Schedule.Text,
		spec.Schedule.OnCalendar(), units.TimerName)
	return nil
}

// checkPermanentStudy validates the study file of a study=FILE setting of
// `fbrun up permanent` before anything is deployed: the orchestrator
// schedules it, so it must be valid and have a schedule.
func checkPermanentStudy(settings []string) error {
	for _, s := range settings {
		k, v, err := stackcfg.ParseOverride(s)
		if err != nil || k != "study" || v == "" {
			continue
		}
		vocab, err := studyVocabulary()
		if err != nil {
			return err
		}
		spec, err := study.Load(v, vocab)
		if err != nil {
			return usageError("%s", strings.TrimPrefix(err.Error(), "study: "))
		}
		if spec.Schedule.IsZero() {
			return usageError("%s: the orchestrator runs the study on its schedule: add e.g. schedule: \"daily 03:00\"", v)
		}
	}
	return nil
}
