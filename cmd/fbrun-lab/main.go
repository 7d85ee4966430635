// Command fbrun-lab is the lab function runtime of the embedded local
// platform: all four lab functions (the monolith workloads linked), in
// Lambda Runtime API mode ("lambda") or HTTP mode ("http"). `go install
// ./cmd/...` installs it next to fbrun, which then runs one fbrun-lab
// process per function instance — a small binary, like the bootstrap a
// real platform starts — instead of re-executing itself (`fbrun
// lab-runtime`, the fallback when fbrun-lab is not next to fbrun). See
// docs/performance.md ("Local platform footprint").
package main

import (
	"os"

	"github.com/faas-benchmarker/faas-benchmarker/functions/lab/workloads"
	"github.com/faas-benchmarker/faas-benchmarker/functions/labruntime"
)

func main() {
	os.Exit(labruntime.Main(os.Args[1:], labruntime.Options{Workloads: workloads.New()}))
}
