package cloudcli

import (
	"slices"
	"testing"

	"github.com/faas-benchmarker/faas-benchmarker/cloudrun"
	"github.com/faas-benchmarker/faas-benchmarker/cmd/internal/fbcli"
	"github.com/faas-benchmarker/faas-benchmarker/runner"
)

// TestSharedNames: the light CLI decides which runs to hand to fbrun-cloud
// by names it cannot import from the Pulumi-linked packages; they must not
// drift apart.
func TestSharedNames(t *testing.T) {
	if fbcli.PlatformLocalStack != cloudrun.PlatformLocalStack {
		t.Errorf("fbcli.PlatformLocalStack = %q, cloudrun's is %q", fbcli.PlatformLocalStack, cloudrun.PlatformLocalStack)
	}
	if got := fbcli.ManagedPlatforms(); !slices.Equal(got, cloudrun.Managed) {
		t.Errorf("fbcli.ManagedPlatforms() = %v, cloudrun.Managed = %v", got, cloudrun.Managed)
	}
	if fbcli.DefaultResultsPrefix != runner.DefaultResultsPrefix {
		t.Errorf("fbcli.DefaultResultsPrefix = %q, runner's is %q", fbcli.DefaultResultsPrefix, runner.DefaultResultsPrefix)
	}
}
