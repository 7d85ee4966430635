package fbcli

import (
	"fmt"
	"io"

	"github.com/urfave/cli/v2"

	"github.com/faas-benchmarker/faas-benchmarker/internal/exitcode"
	"github.com/faas-benchmarker/faas-benchmarker/results"
	"github.com/faas-benchmarker/faas-benchmarker/results/export"
	"github.com/faas-benchmarker/faas-benchmarker/results/report"
)

func exportCommand() *cli.Command {
	return &cli.Command{
		Name:      "export",
		Usage:     "export a run's invocations or metrics as csv, jsonl or parquet, or LaTeX tables of runs",
		ArgsUsage: "RUN [RUN...]",
		Description: "Data exports take one run; the columns are documented in docs/reports.md.\n" +
			"Examples: fbrun export RUN --format parquet -o run.parquet\n" +
			"          fbrun export RUN --table metrics --format csv > metrics.csv\n" +
			"          fbrun export RUN1 RUN2 --latex -o tables.tex",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "format", Aliases: []string{"f"}, Usage: "csv, jsonl or parquet", Value: "csv"},
			&cli.StringFlag{Name: "table", Usage: "invocations or metrics", Value: export.TableInvocations},
			&cli.BoolFlag{Name: "latex", Usage: "write LaTeX (booktabs) tables of latency per phase and estimates instead of data"},
			&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "output `FILE` (default: standard output; parquet needs a file)"},
		},
		Action: func(c *cli.Context) error {
			ids := c.Args().Slice()
			if len(ids) == 0 {
				return cli.Exit("export needs a run id (see fbrun runs)", exitcode.Usage)
			}
			out := c.String("output")
			var write func(w io.Writer) error
			db, err := openDB(c)
			if err != nil {
				return err
			}
			defer db.Close()
			if c.Bool("latex") {
				write = func(w io.Writer) error {
					return report.WriteLatex(c.Context, w, db, results.RunFilter{IDs: ids})
				}
			} else {
				if len(ids) != 1 {
					return cli.Exit("data export takes one run id (use --latex for tables of several runs)", exitcode.Usage)
				}
				f, err := export.ParseFormat(c.String("format"))
				if err != nil {
					return cli.Exit(err.Error(), exitcode.Usage)
				}
				if f == export.Parquet && out == "" {
					return cli.Exit("parquet is binary: give an output file with -o FILE", exitcode.Usage)
				}
				var rows int64
				table := c.String("table")
				write = func(w io.Writer) error {
					var err error
					switch table {
					case export.TableInvocations:
						rows, err = export.Invocations(c.Context, db, ids[0], f, w)
					case export.TableMetrics:
						rows, err = export.Metrics(c.Context, db, ids[0], f, w)
					default:
						return fmt.Errorf("unknown table %q (want invocations or metrics)", table)
					}
					return err
				}
				defer func() {
					if out != "" && err == nil {
						fmt.Fprintf(c.App.ErrWriter, "wrote %d %s rows to %s\n", rows, table, out)
					}
				}()
			}
			if out == "" {
				err = write(c.App.Writer)
			} else {
				err = writeFileAtomic(out, write)
			}
			if err != nil {
				return cli.Exit(err.Error(), 1)
			}
			return nil
		},
	}
}
