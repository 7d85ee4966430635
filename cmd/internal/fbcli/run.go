// Package fbcli is the fbrun command line: every command and flag, shared
// by the two binaries built from it. cmd/fbrun is the light one (no Pulumi
// SDK linked; it runs cmd/fbrun-cloud for the cloud commands), cmd/fbrun-cloud
// links the cloud half (package cloudcli) as Options.Cloud.
package fbcli

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/urfave/cli/v2"

	"github.com/faas-benchmarker/faas-benchmarker/platforms"
	"github.com/faas-benchmarker/faas-benchmarker/platforms/builtin"
)

// metaPlatforms is the cli.App.Metadata key of the platform registry.
const metaPlatforms = "fb.platforms"

// platformsOf returns the app's platform registry (Options.Platforms).
func platformsOf(c *cli.Context) (*platforms.Registry, error) {
	if reg, ok := c.App.Metadata[metaPlatforms].(*platforms.Registry); ok {
		return reg, nil
	}
	return builtin.Registry()
}

// Options configures Run.
type Options struct {
	// Cloud runs the cloud commands and managed experiments in process;
	// nil means they are delegated to the fbrun-cloud binary.
	Cloud Cloud
	// Platforms is the platform registry --platform is looked up in; nil
	// means the built-in platforms (platforms/builtin). A test registers a
	// platform of its own here, through the same registry API.
	Platforms *platforms.Registry
	// Stdout and Stderr receive the output; nil means the process's.
	Stdout, Stderr io.Writer
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
	stdout, stderr := opts.Stdout, opts.Stderr
	if stdout == nil {
		stdout = os.Stdout
	}
	if stderr == nil {
		stderr = os.Stderr
	}
	app.Writer, app.ErrWriter = stdout, stderr
	reg := opts.Platforms
	if reg == nil {
		var err error
		if reg, err = builtin.Registry(); err != nil {
			fmt.Fprintln(stderr, "fbrun: "+err.Error())
			return 1
		}
	}
	app.Metadata = map[string]any{metaArgs: args[1:], metaPlatforms: reg}
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
			fmt.Fprintln(stderr, "fbrun: "+msg)
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
