// Command pulumi-resource-fblocal is the fblocal Pulumi resource provider
// plugin used by the runner's end-to-end tests (see package testprovider).
// Put it on PATH, or install it with
// `pulumi plugin install resource fblocal 0.1.0 --file pulumi-resource-fblocal`.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/faas-benchmarker/faas-benchmarker/runner/testprovider"
)

func main() {
	prov, err := testprovider.New()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if err := prov.Run(context.Background(), testprovider.Name, testprovider.Version); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
