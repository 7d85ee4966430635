package fbcli

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/faas-benchmarker/faas-benchmarker/internal/exitcode"
	"github.com/faas-benchmarker/faas-benchmarker/results"
	"github.com/faas-benchmarker/faas-benchmarker/results/report"
)

func reportCommand() *cli.Command {
	return &cli.Command{
		Name:      "report",
		Usage:     "write a self-contained HTML report (figures, tables, comparisons) of stored runs",
		ArgsUsage: "[RUN...]",
		Description: "Selects runs by id (positional), experiment, platform and start date; with no selection, every run.\n" +
			"The HTML file needs no network to view: figures are inline SVG, the font is embedded.\n" +
			"Example: fbrun report --experiment cold-start --since 2026-03-01 -o cold.html",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "experiment", Usage: "only runs of this experiment"},
			&cli.StringFlag{Name: "platform", Usage: "only runs on this platform"},
			&cli.StringFlag{Name: "since", Usage: "only runs started at or after `DATE` (2006-01-02 or RFC 3339, UTC)"},
			&cli.StringFlag{Name: "title", Usage: "page title"},
			&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "output `FILE`", Value: "report.html"},
		},
		Action: func(c *cli.Context) error {
			since, err := parseSince(c.String("since"))
			if err != nil {
				return cli.Exit(err.Error(), exitcode.Usage)
			}
			db, err := openDB(c)
			if err != nil {
				return err
			}
			defer db.Close()
			cfg := report.Config{Title: c.String("title"), Filter: results.RunFilter{
				IDs: c.Args().Slice(), Experiment: c.String("experiment"), Platform: c.String("platform"), Since: since,
			}}
			start := time.Now()
			rep, err := report.Build(c.Context, db, cfg)
			if err != nil {
				return cli.Exit(err.Error(), 1)
			}
			out := c.String("output")
			if err := writeFileAtomic(out, rep.WriteHTML); err != nil {
				return cli.Exit(err.Error(), 1)
			}
			fmt.Fprintf(c.App.ErrWriter, "wrote %s: %d run(s) in %s\n", out, len(rep.Runs), time.Since(start).Round(time.Millisecond))
			return nil
		},
	}
}

// parseSince accepts a date (UTC midnight) or an RFC 3339 time.
func parseSince(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse("2006-01-02", s); err == nil {
		return t, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("--since %q: want a date like 2026-03-01 or an RFC 3339 time", s)
	}
	return t, nil
}

// writeFileAtomic writes path through a temporary file in the same
// directory, so an error never leaves a half-written file behind.
func writeFileAtomic(path string, write func(w io.Writer) error) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	if err := write(f); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Chmod(tmp, 0o644); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
