package openfaas

import (
	"testing"

	"github.com/faas-benchmarker/faas-benchmarker/stacks/internal/stacktest"
	"github.com/faas-benchmarker/faas-benchmarker/stacks/stackcfg"
)

// RunWithMocks runs Deploy for cfg against the test mocks, for the
// external tests of this package.
func RunWithMocks(t *testing.T, cfg stackcfg.OpenFaaS) map[string]stacktest.Value {
	_, outs := run(t, cfg)
	return outs
}

// ConfigForTest is config, for the external tests.
func ConfigForTest(t *testing.T, overrides ...string) stackcfg.OpenFaaS {
	return config(t, overrides...)
}
