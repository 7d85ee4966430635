package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/faas-benchmarker/faas-benchmarker/cmd/internal/fbcli"
)

// Names the binary tests share with the CLI package.
type jsonSummary = fbcli.JSONSummary

const (
	envResultsKeyID  = fbcli.EnvResultsKeyID
	envResultsSecret = fbcli.EnvResultsSecret
)

var (
	cloudOnce sync.Once
	cloudErr  error
)

// needCloud builds fbrun-cloud next to fbrunBin, once, for the tests of
// commands fbrun delegates to it (it links the Pulumi SDKs: a slow build,
// so only the tests that need it pay for it).
func needCloud(t *testing.T) {
	t.Helper()
	cloudOnce.Do(func() {
		build := exec.Command("go", "build", "-buildvcs=auto", "-o", filepath.Join(filepath.Dir(fbrunBin), fbcli.CloudBinary), "../fbrun-cloud")
		build.Stdout, build.Stderr = os.Stderr, os.Stderr
		cloudErr = build.Run()
	})
	if cloudErr != nil {
		t.Fatalf("building fbrun-cloud: %v", cloudErr)
	}
}
