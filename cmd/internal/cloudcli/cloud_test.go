package cloudcli

import (
	"testing"

	"github.com/faas-benchmarker/faas-benchmarker/cmd/internal/fbcli"
	"github.com/faas-benchmarker/faas-benchmarker/runner"
)

// TestSharedNames: the light CLI names the results prefix without
// importing the Pulumi-linked runner; the two must not drift apart.
func TestSharedNames(t *testing.T) {
	if fbcli.DefaultResultsPrefix != runner.DefaultResultsPrefix {
		t.Errorf("fbcli.DefaultResultsPrefix = %q, runner's is %q", fbcli.DefaultResultsPrefix, runner.DefaultResultsPrefix)
	}
}
