// Command fbrun-cloud is fbrun with the cloud half linked: the Pulumi stack
// programs and the Automation API runner behind `fbrun up|down|cleanup`,
// `fbrun results pull` and managed experiments (`fbrun experiment NAME
// --platform aws|azure|openfaas|local-stack`). fbrun runs it with the same
// arguments for the cloud commands, and as `fbrun-cloud run-plan` with the
// resolved plan of a managed experiment on stdin (package cloudplan); it
// accepts every fbrun command and flag, so it can also be run directly. See docs/performance.md ("First
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
	"github.com/faas-benchmarker/faas-benchmarker/cmd/internal/cloudplan"
	"github.com/faas-benchmarker/faas-benchmarker/cmd/internal/fbcli"
	"github.com/faas-benchmarker/faas-benchmarker/stacks/fblocal/provider"
)

func main() {
	if strings.TrimSuffix(filepath.Base(os.Args[0]), ".exe") == provider.PluginBinary {
		if err := provider.Serve(context.Background()); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		return
	}
	if len(os.Args) == 2 && os.Args[1] == cloudplan.Command {
		// fbrun hands over a resolved run (package cloudplan).
		os.Exit(cloudcli.RunPlanMain(os.Stdin, os.Stdout, os.Stderr))
	}
	os.Exit(fbcli.Run(os.Args, fbcli.Options{Cloud: cloudcli.New()}))
}
