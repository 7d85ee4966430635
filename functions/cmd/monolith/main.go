// Command monolith is the lab "monolith" function: the same adapters as
// bootstrap and httpfn plus every workload (a larger binary, for
// package-size experiments). It runs as a Lambda bootstrap when
// AWS_LAMBDA_RUNTIME_API is set, else as the HTTP adapter (Azure custom
// handler, OpenFaaS, plain HTTP); "lambda" or "http" forces a mode.
package main

import (
	"os"

	"github.com/faas-benchmarker/faas-benchmarker/functions/lab/workloads"
	"github.com/faas-benchmarker/faas-benchmarker/functions/labruntime"
)

func main() {
	os.Exit(labruntime.Main(os.Args[1:], labruntime.Options{Workloads: workloads.New()}))
}
