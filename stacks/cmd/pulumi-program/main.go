// Command pulumi-program is the Go program of the root Pulumi.yaml
// (project faas-benchmarker). It picks the stack program from fb:platform
// (permanent, aws, azure or openfaas) and reads that program's settings
// from the fb:* config keys:
//
//	pulumi stack init dev
//	pulumi config set fb:platform aws
//	pulumi preview
//
// See docs/infrastructure.md for every key and resource.
package main

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/faas-benchmarker/faas-benchmarker/stacks/program"
)

func main() {
	pulumi.Run(run)
}

// run is the program: program.FromConfig, the one entry point.
func run(ctx *pulumi.Context) error { return program.FromConfig(ctx) }
