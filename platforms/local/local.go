// Package local describes the local platform: the embedded one the CLI
// starts for the run, or a running `fbrun local serve` (--local-endpoint).
package local

import (
	"context"
	"time"

	"github.com/faas-benchmarker/faas-benchmarker/platforms"
	"github.com/faas-benchmarker/faas-benchmarker/providers"
	localprov "github.com/faas-benchmarker/faas-benchmarker/providers/local"
)

// Platform returns the descriptor.
func Platform() platforms.Platform {
	return platforms.Platform{
		Name:         localprov.PlatformName,
		Summary:      "the embedded Lambda-compatible local platform (started for the run), or a running one (--local-endpoint)",
		Options:      []platforms.Option{platforms.OptFunction, platforms.OptLocalEndpoint},
		Embedded:     true,
		Direct:       direct,
		Capabilities: []providers.Capability{providers.ForceColdStart, providers.SetMemory},
		// The local platform emulates Lambda's billing (REPORT Billed
		// Duration): priced as Lambda x86, "what this would cost on Lambda".
		Pricing: providers.Pricing{Default: "aws-lambda-x86"},
		// Seconds (localfaas.DefaultConfig: 10 s); the lab functions'
		// 30 s timeout leaves room for a 10 s release spread.
		// An invocation may take at most the invoker's HTTP timeout
		// (providers/local); the CLI limits it further by the run's
		// --local-timeout.
		IdleRange: providers.IdleRange{Min: time.Second, Max: 16 * time.Second, Spread: 10 * time.Second, Limit: localprov.DefaultHTTPTimeout},
	}
}

// direct invokes the local platform at t.LocalEndpoint. The stored config
// names the endpoint; the CLI adds the knobs of an embedded platform.
func direct(_ context.Context, t platforms.Target) (*platforms.Setup, error) {
	p, err := localprov.New(localprov.Config{Endpoint: t.LocalEndpoint, Functions: t.Functions, Logger: t.Logger})
	if err != nil {
		return nil, err
	}
	return &platforms.Setup{Invoker: p, Config: map[string]any{"endpoint": t.LocalEndpoint}}, nil
}
