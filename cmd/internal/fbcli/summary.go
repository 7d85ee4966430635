package fbcli

import (
	"context"
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/faas-benchmarker/faas-benchmarker/results"
	"github.com/faas-benchmarker/faas-benchmarker/results/report"
	"github.com/faas-benchmarker/faas-benchmarker/runner/session"
)

// writeSummaryTable prints the end-of-run table and where to go next.
func writeSummaryTable(ctx context.Context, c *cli.Context, db *results.DB, out *session.Outcome) error {
	if err := report.WriteSummaryTable(ctx, c.App.Writer, db, out.RunID); err != nil {
		return cli.Exit(fmt.Sprintf("summary of run %s: %v", out.RunID, err), 1)
	}
	fmt.Fprintf(c.App.Writer, "Results database: %s\n", db.Path())
	return nil
}
