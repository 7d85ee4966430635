package stackcfg

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestOpenFaaSImageIsAmd64 checks functions/openfaas/Dockerfile, whose
// image the openfaas stack deploys (fb:image): EKS Fargate runs only
// x86-64 pods ("Arm-based processors are not supported", Amazon EKS
// Fargate considerations), so every runtime stage pins linux/amd64, the
// compiler stage runs on $BUILDPLATFORM and cross-compiles with
// GOARCH=amd64 — never the builder's own architecture, which on an arm64
// machine would produce an image that fails on Fargate.
func TestOpenFaaSImageIsAmd64(t *testing.T) {
	b, err := os.ReadFile("../../functions/openfaas/Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	from := regexp.MustCompile(`(?m)^FROM\s+(.*)$`)
	stages := from.FindAllStringSubmatch(string(b), -1)
	if len(stages) < 2 {
		t.Fatalf("%d FROM lines", len(stages))
	}
	for _, m := range stages {
		line := m[1]
		switch {
		case strings.Contains(line, " AS build"):
			if !strings.HasPrefix(line, "--platform=$BUILDPLATFORM ") {
				t.Errorf("build stage %q: want --platform=$BUILDPLATFORM (it cross-compiles)", line)
			}
		case !strings.HasPrefix(line, "--platform=linux/amd64 "):
			t.Errorf("stage %q does not pin --platform=linux/amd64", line)
		}
	}
	if !regexp.MustCompile(`GOOS=linux GOARCH=amd64 \\?\s*\n?\s*go build`).Match(b) {
		t.Error("the go build does not set GOOS=linux GOARCH=amd64")
	}
	if strings.Contains(string(b), "TARGETARCH") || strings.Contains(string(b), "TARGETPLATFORM") {
		t.Error("the Dockerfile still follows the builder's target platform")
	}
}
