// Package labmain is the full lab function runtime, monolith workloads
// included. The monolith binary and `fbrun lab-runtime lambda|http` (the
// embedded local platform re-executing fbrun as a function runtime) call
// Main.
package labmain

import (
	"github.com/faas-benchmarker/faas-benchmarker/functions/lab/workloads"
	"github.com/faas-benchmarker/faas-benchmarker/functions/labruntime"
)

// Main runs the lab function runtime with every workload linked. args is
// "[lambda|http] [-addr host:port]"; without a mode it runs the Lambda
// adapter when AWS_LAMBDA_RUNTIME_API is set and the HTTP adapter
// otherwise. It returns the process exit code.
func Main(args []string) int {
	return labruntime.Main(args, labruntime.Options{Workloads: workloads.New()})
}
