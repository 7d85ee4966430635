// Package builtin lists the built-in platforms: adding a platform is its
// descriptor package and one line here.
package builtin

import (
	"github.com/faas-benchmarker/faas-benchmarker/platforms"
	"github.com/faas-benchmarker/faas-benchmarker/platforms/aws"
	"github.com/faas-benchmarker/faas-benchmarker/platforms/azure"
	"github.com/faas-benchmarker/faas-benchmarker/platforms/http"
	"github.com/faas-benchmarker/faas-benchmarker/platforms/local"
	"github.com/faas-benchmarker/faas-benchmarker/platforms/localstack"
	"github.com/faas-benchmarker/faas-benchmarker/platforms/openfaas"
)

// All returns the built-in descriptors in the order `--platform` lists
// them.
func All() []platforms.Platform {
	return []platforms.Platform{
		local.Platform(),
		aws.Platform(),
		azure.Platform(),
		openfaas.Platform(),
		http.Platform(),
		localstack.Platform(),
	}
}

// Names returns the built-in platform names, in the order of All.
func Names() []string {
	var out []string
	for _, p := range All() {
		out = append(out, p.Name)
	}
	return out
}

// Registry returns the registry of the built-in platforms. The
// descriptors are checked by a test, so an error here is a bug in a
// descriptor package.
func Registry() (*platforms.Registry, error) { return platforms.NewRegistry(All()...) }
