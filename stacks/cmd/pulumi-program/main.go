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
	"fmt"
	"os"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/faas-benchmarker/faas-benchmarker/stacks/program"
	"github.com/faas-benchmarker/faas-benchmarker/stacks/stackcfg"
)

func main() {
	pulumi.Run(run)
}

func run(ctx *pulumi.Context) error {
	s, err := program.Settings(ctx)
	if err != nil {
		return err
	}
	unknown, err := program.UnknownKeys(os.Getenv(pulumi.EnvConfig), s)
	if err != nil {
		return err
	}
	if len(unknown) > 0 {
		return fmt.Errorf("config keys not used by the %s stack: %s (see `docs/infrastructure.md`)",
			s.Platform(), strings.Join(unknown, ", "))
	}
	// Relative package paths (fb:artifactDir, fb:functionZip, ...) are
	// relative to the project root, not to this program's directory,
	// where Pulumi runs it.
	if r, ok := s.(stackcfg.PathResolver); ok {
		root, err := program.ProjectRoot(ctx)
		if err != nil {
			return err
		}
		r.ResolvePaths(root)
	}
	prog, err := program.For(s)
	if err != nil {
		return err
	}
	return prog(ctx)
}
