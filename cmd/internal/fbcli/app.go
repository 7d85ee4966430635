package fbcli

import (
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/faas-benchmarker/faas-benchmarker/internal/exitcode"
	"github.com/faas-benchmarker/faas-benchmarker/internal/hostdirs"
	"github.com/faas-benchmarker/faas-benchmarker/results"
)

// Flag names shared by several commands.
const (
	flagDB       = "db"
	flagLogLevel = "log-level"
	flagJSON     = "json"
)

func newApp() *cli.App {
	return &cli.App{
		Name:  "fbrun",
		Usage: "measure how FaaS platforms really behave",
		// Repeatable flags (--set, --stack-set, --function, --stack) take
		// one value per use: a list parameter is written with commas
		// (--set steps=20,40) and must arrive whole, not split in two.
		DisableSliceFlagSeparator: true,
		Description: "Runs named experiments (cold starts, idle timeouts, scaling, nested calls, ...) against AWS Lambda,\n" +
			"Azure Functions, OpenFaaS or the embedded local platform, and stores every invocation in SQLite.\n" +
			"Start with: fbrun experiment smoke",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: flagDB, Usage: "results database `PATH`", Value: defaultDBPath(), EnvVars: []string{"FB_DB"}},
			&cli.StringFlag{Name: flagLogLevel, Usage: "log level: debug, info, warn or error (logs go to stderr)", Value: "warn", EnvVars: []string{"FB_LOG_LEVEL"}},
		},
		Commands: []*cli.Command{
			experimentCommand(),
			experimentsCommand(),
			runsCommand(),
			localCommand(),
			newCommand(),
			labRuntimeCommand(),
			upCommand(),
			downCommand(),
			cleanupCommand(),
			doctorCommand(),
			resultsCommand(),
			reportCommand(),
			exportCommand(),
			studyCommand(),
		},
		HideHelpCommand:      true,
		EnableBashCompletion: true,
		CommandNotFound: func(c *cli.Context, name string) {
			if c.Command != nil && isLeaf(c.Command) {
				// `fbrun CMD ARG --help`: urfave/cli takes ARG for a
				// subcommand of CMD, which has none.
				commandHelp(c, name)
				return
			}
			if s := closestCommand(name, c.App.Commands); s != "" {
				fmt.Fprintf(c.App.ErrWriter, "fbrun: unknown command %q: did you mean %s?\n", name, s)
			} else {
				fmt.Fprintf(c.App.ErrWriter, "fbrun: unknown command %q (see fbrun --help)\n", name)
			}
			cli.OsExiter(2)
		},
	}
}

// defaultDBPath is results.db in the data directory (hostdirs.DataDir,
// where the Pulumi state lives too), or ./fbrun-results.db when there is
// no home directory.
func defaultDBPath() string {
	if d, err := hostdirs.DataDir(); err == nil {
		return filepath.Join(d, "results.db")
	}
	return "fbrun-results.db"
}

// openDB opens the results database named by the global --db flag.
func openDB(c *cli.Context) (*results.DB, error) {
	path := c.String(flagDB)
	db, err := results.Open(c.Context, path)
	if err != nil {
		return nil, cli.Exit(fmt.Sprintf("cannot use results database %s: %v (set --db to a writable path)", path, unwrapAll(err)), 1)
	}
	return db, nil
}

// unwrapAll returns err's message without the leading "results: " package
// prefix, which says nothing to a CLI user; the rest is kept as is.
func unwrapAll(err error) string {
	msg := err.Error()
	return strings.TrimPrefix(msg, "results: ")
}

// newLogger builds the stderr logger from --log-level.
func newLogger(c *cli.Context, w io.Writer) (*slog.Logger, error) {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(c.String(flagLogLevel))); err != nil {
		return nil, cli.Exit(fmt.Sprintf("bad --log-level %q: want debug, info, warn or error", c.String(flagLogLevel)), exitcode.Usage)
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: lvl})), nil
}

// usageError is a command-line mistake: exit code 2.
func usageError(format string, a ...any) error {
	return cli.Exit(fmt.Sprintf(format, a...), exitcode.Usage)
}
