// Command bench measures fbrun's engine against vegeta on the same targets,
// on loopback, and prints the comparison as markdown tables (see
// docs/performance.md for the method).
//
// Usage:
//
//	go run ./bench [flags]          # the full run (a few minutes)
//	go run ./bench -short           # the smoke version .ci/run uses (< 60 s)
//
// The command starts a minimal HTTP target (package bench/target) and the
// embedded local platform in its own process, then runs every measurement
// in a fresh child process of itself ("bench attack"), so that CPU time
// (getrusage) and memory belong to one tool at a time. The local platform
// runs its lab function instances as further children ("bench
// lab-runtime lambda").
//
// "bench footprint [-n 30]" measures the local platform's cost per lab
// instance (raw spawn vs Init Duration, RSS) for fbrun-lab and for fbrun
// re-executed; see docs/performance.md ("Local platform footprint").
//
// "bench target" serves the minimal target alone and prints its URL, and
// "bench attack -spec JSON [-cpuprofile FILE] [-memprofile FILE]" runs one
// measurement, for profiling one tool by hand.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/faas-benchmarker/faas-benchmarker/functions/labruntime"
)

func main() {
	args := os.Args[1:]
	if len(args) > 0 && args[0] == "lab-runtime" {
		os.Exit(labruntime.Main(args[1:], labruntime.Options{}))
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	switch {
	case len(args) > 0 && args[0] == "attack":
		err = attackMain(ctx, args[1:], os.Stdout)
	case len(args) > 0 && args[0] == "footprint":
		err = footprintMain(ctx, args[1:], os.Stdout)
	case len(args) > 0 && args[0] == "target":
		err = targetMain(ctx, os.Stdout)
	default:
		err = benchMain(ctx, args, os.Stdout)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}
