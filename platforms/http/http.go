// Package http describes the plain HTTP platform: any function reachable
// by URL (--endpoint URL template with {name}, or --function NAME=URL).
package http

import (
	"context"
	"fmt"
	"strings"

	"github.com/faas-benchmarker/faas-benchmarker/platforms"
	httpprov "github.com/faas-benchmarker/faas-benchmarker/providers/http"
)

// Platform returns the descriptor.
func Platform() platforms.Platform {
	return platforms.Platform{
		Name:    httpprov.PlatformName,
		Summary: "any HTTP endpoint: --endpoint URL template with {name}, or --function NAME=URL",
		Options: []platforms.Option{platforms.OptFunction, platforms.OptEndpoint},
		Check: func(t platforms.Target) error {
			if t.Endpoint != "" {
				if !strings.Contains(t.Endpoint, "{name}") {
					return fmt.Errorf("--endpoint %q: want a URL template with {name}, e.g. https://fn.example.com/{name}", t.Endpoint)
				}
				if err := platforms.CheckURL("--endpoint", strings.ReplaceAll(t.Endpoint, "{name}", "x")); err != nil {
					return err
				}
			}
			for name, u := range t.Functions {
				if err := platforms.CheckURL(fmt.Sprintf("--function %s", name), u); err != nil {
					return err
				}
			}
			return nil
		},
		Direct: direct,
	}
}

func direct(_ context.Context, t platforms.Target) (*platforms.Setup, error) {
	cfg := httpprov.NewDefaultConfig()
	if t.Endpoint != "" {
		cfg.URLTemplate = t.Endpoint
	}
	if len(t.Functions) > 0 {
		cfg.URLs = t.Functions
	}
	p, err := httpprov.New(cfg)
	if err != nil {
		return nil, err
	}
	return &platforms.Setup{Invoker: p, Config: map[string]any{"url_template": cfg.URLTemplate}}, nil
}
