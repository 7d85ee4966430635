// Command pulumi-resource-fblocal is the fblocal Pulumi resource provider
// plugin that `--platform local-stack` deploys with (see package
// stacks/fblocal). Put it on PATH, or install it with
// `pulumi plugin install resource fblocal 0.1.0 --file pulumi-resource-fblocal`.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/faas-benchmarker/faas-benchmarker/stacks/fblocal/provider"
)

func main() {
	if err := provider.Serve(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
