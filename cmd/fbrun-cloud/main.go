// Command fbrun-cloud is fbrun with the cloud half linked: the Pulumi stack
// programs and the Automation API runner behind `fbrun up|down|cleanup`,
// `fbrun results pull` and managed experiments (`fbrun experiment NAME
// --platform aws|azure|openfaas|local-stack`). fbrun runs it for those
// commands with the same arguments; it accepts every fbrun command and
// flag, so it can also be run directly. See docs/performance.md ("First
// run") for why there are two binaries.
package main

import (
	"os"

	"github.com/faas-benchmarker/faas-benchmarker/cmd/internal/cloudcli"
	"github.com/faas-benchmarker/faas-benchmarker/cmd/internal/fbcli"
)

func main() {
	os.Exit(fbcli.Run(os.Args, fbcli.Options{Cloud: cloudcli.New()}))
}
