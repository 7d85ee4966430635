// Command fbrun runs faas-benchmarker experiments against FaaS platforms,
// serves the embedded local platform, manages cloud stacks and reports
// results. See README.md.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	os.Exit(run(os.Args))
}

// run executes the CLI and returns the process exit code. Errors are printed
// as one clear line, never as a stack trace.
func run(args []string) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	app := newApp()
	if err := app.RunContext(ctx, interspersed(app, args)); err != nil {
		fmt.Fprintln(os.Stderr, "fbrun: "+err.Error())
		if code, ok := err.(interface{ ExitCode() int }); ok && code.ExitCode() != 0 {
			return code.ExitCode()
		}
		return 1
	}
	return 0
}
