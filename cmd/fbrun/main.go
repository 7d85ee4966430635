// Command fbrun runs faas-benchmarker experiments against FaaS platforms,
// serves the embedded local platform, manages cloud stacks and reports
// results. See README.md.
//
// fbrun does not link the Pulumi SDKs: the cloud commands (up, down,
// cleanup, results pull) and managed experiments (--platform
// aws|azure|openfaas without --function or --endpoint, local-stack) run
// the fbrun-cloud binary (cmd/fbrun-cloud) with the same arguments. It is
// found next to fbrun, then on PATH; `go install ./cmd/...` installs both.
package main

import (
	"os"

	"github.com/faas-benchmarker/faas-benchmarker/cmd/internal/fbcli"
)

func main() {
	os.Exit(fbcli.Run(os.Args, fbcli.Options{}))
}
