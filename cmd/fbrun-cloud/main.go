// Command fbrun-cloud is fbrun with the cloud half linked: the Pulumi stack
// programs and the Automation API runner behind `fbrun up|down|cleanup`,
// `fbrun results pull` and managed experiments (`fbrun experiment NAME
// --platform aws|azure|openfaas|local-stack`). fbrun runs it for those
// commands with the same arguments; it accepts every fbrun command and
// flag, so it can also be run directly. See docs/performance.md ("First
// run") for why there are two binaries.
//
// Run under the name pulumi-resource-fblocal (the runner links it so for
// the Pulumi CLI), it is the fblocal resource provider plugin of
// `--platform local-stack`, so that platform needs nothing but
// `go install ./cmd/...`.
package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/faas-benchmarker/faas-benchmarker/cmd/internal/cloudcli"
	"github.com/faas-benchmarker/faas-benchmarker/cmd/internal/fbcli"
	"github.com/faas-benchmarker/faas-benchmarker/localstack/provider"
)

func main() {
	if strings.TrimSuffix(filepath.Base(os.Args[0]), ".exe") == provider.PluginBinary {
		if err := provider.Serve(context.Background()); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		return
	}
	os.Exit(fbcli.Run(os.Args, fbcli.Options{Cloud: cloudcli.New()}))
}
