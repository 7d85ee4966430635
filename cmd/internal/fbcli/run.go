// Package fbcli is the fbrun command line: every command and flag, shared
// by the two binaries built from it. cmd/fbrun is the light one (no Pulumi
// SDK linked; it runs cmd/fbrun-cloud for the cloud commands), cmd/fbrun-cloud
// links the cloud half (package cloudcli) as Options.Cloud.
package fbcli

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/urfave/cli/v2"
)

// Options configures Run.
type Options struct {
	// Cloud runs the cloud commands and managed experiments in process;
	// nil means they are delegated to the fbrun-cloud binary.
	Cloud Cloud
}

// Run executes the CLI with args (program name first) and returns the
// process exit code. Errors are printed as one clear line, never as a
// stack trace. SIGINT, SIGTERM and SIGHUP cancel the command's context:
// a run stops, stores what it has and tears down what it started.
func Run(args []string, opts Options) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer stop()
	app := newApp()
	// Every error comes back here to be printed once, as one line; urfave's
	// default handler would print it and exit the process itself.
	app.ExitErrHandler = func(*cli.Context, error) {}
	withOneLineUsageErrors(app)
	app.Metadata = map[string]any{metaArgs: args[1:]}
	if opts.Cloud != nil {
		app.Metadata[metaCloud] = opts.Cloud
	}
	var err error
	if opts.Cloud != nil {
		err = checkParentBuild()
	}
	if err == nil {
		args, err = interspersed(app, args)
	}
	if err == nil {
		err = app.RunContext(ctx, args)
	}
	if err != nil {
		if msg := err.Error(); msg != "" {
			fmt.Fprintln(os.Stderr, "fbrun: "+msg)
		}
		if code, ok := err.(interface{ ExitCode() int }); ok && code.ExitCode() != 0 {
			return code.ExitCode()
		}
		return 1
	}
	return 0
}

// JSONSummary is the object `fbrun experiment --json` prints on stdout.
type JSONSummary = jsonSummary
