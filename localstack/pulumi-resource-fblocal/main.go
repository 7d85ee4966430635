// Command pulumi-resource-fblocal is the fblocal Pulumi resource provider
// plugin that `--platform local-stack` deploys with (see package
// localstack). Put it on PATH, or install it with
// `pulumi plugin install resource fblocal 0.1.0 --file pulumi-resource-fblocal`.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/faas-benchmarker/faas-benchmarker/localstack/provider"
)

func main() {
	prov, err := provider.New()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if err := prov.Run(context.Background(), provider.Name, provider.Version); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
