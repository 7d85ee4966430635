// Command build-functions builds the lab function artifacts (Lambda zips,
// Azure custom-handler zips and raw linux binaries for amd64 and arm64)
// and prints the path and size of each. scripts/build-functions runs it.
//
//	go run ./functions/cmd/build-functions [-out build/functions] [-arch amd64,arm64]
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/faas-benchmarker/faas-benchmarker/functions/artifacts"
)

func main() {
	out := flag.String("out", "build/functions", "output directory (relative to the repository root)")
	arch := flag.String("arch", "amd64,arm64", "comma-separated GOARCH list")
	flag.Parse()
	root, err := os.Getwd()
	if err != nil {
		fmt.Fprintln(os.Stderr, "build-functions:", err)
		os.Exit(1)
	}
	arts, err := artifacts.Build(context.Background(), artifacts.Config{ModuleDir: root, OutDir: *out, Arches: strings.Split(*arch, ",")})
	for _, a := range arts {
		fmt.Printf("%-10s %-16s %-6s %10d  %s\n", a.Kind, a.Name, a.Arch, a.Bytes, a.Path)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "build-functions:", err)
		os.Exit(1)
	}
}
