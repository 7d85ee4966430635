// Package http invokes lab functions served over plain HTTP by the lab
// function's HTTP adapter: Cloud Run, Knative, Lambda function URLs, a
// functions-framework process, or anything else that accepts a JSON POST
// and answers with a lab response.
//
// A function's URL comes from Config.URLs (lab name → URL) or, for names
// not listed there, from Config.URLTemplate with "{name}" replaced by the
// lab name. Config.Headers are sent with every request; their values are
// treated as secrets and never appear in error messages.
package http

import (
	"context"
	"errors"
	"fmt"
	nethttp "net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/faas-benchmarker/faas-benchmarker/providers"
	"github.com/faas-benchmarker/faas-benchmarker/providers/internal/httpx"
)

// PlatformName is the default platform name, used in Platform() and as the
// error prefix.
const PlatformName = "http"

// EnvURLTemplate is read by NewDefaultConfig into Config.URLTemplate.
const EnvURLTemplate = "FB_HTTP_URL_TEMPLATE"

// Config configures a Provider.
type Config struct {
	// URLs maps a lab function name to its URL.
	URLs map[string]string
	// URLTemplate builds the URL of a function not in URLs, e.g.
	// "https://example.run.app/{name}"; "{name}" is replaced by the
	// path-escaped lab name.
	URLTemplate string
	// Headers are added to every request (for example an Authorization
	// header). Values are redacted from errors.
	Headers map[string]string
	// PlatformName overrides Platform() and the error prefix; empty means
	// "http".
	PlatformName string
	// HTTPTimeout bounds one whole invocation; 0 means 5 minutes.
	HTTPTimeout time.Duration
	// MaxConnsPerHost sizes the idle-connection pool; 0 means
	// httpx.DefaultMaxConnsPerHost (10,000).
	MaxConnsPerHost int
}

// NewDefaultConfig returns a Config with URLTemplate read from
// FB_HTTP_URL_TEMPLATE and default timeouts.
func NewDefaultConfig() Config {
	return Config{
		URLTemplate:     os.Getenv(EnvURLTemplate),
		HTTPTimeout:     httpx.DefaultTimeout,
		MaxConnsPerHost: httpx.DefaultMaxConnsPerHost,
	}
}

// Provider invokes functions over HTTP. It is safe for concurrent use.
type Provider struct {
	cfg    Config
	header nethttp.Header
	caller *httpx.Caller
	// endpoints caches the prepared endpoint of each function invoked
	// (function name -> *httpx.Endpoint), at most maxEndpoints of them.
	endpoints sync.Map
	nCached   atomic.Int32
}

// maxEndpoints bounds the endpoint cache: with a URL template any name can
// be invoked; names beyond the bound are prepared per invocation.
const maxEndpoints = 256

var _ providers.Invoker = (*Provider)(nil)

// New validates cfg and returns a Provider.
func New(cfg Config) (*Provider, error) {
	name := cfg.PlatformName
	if name == "" {
		name = PlatformName
	}
	if len(cfg.URLs) == 0 && cfg.URLTemplate == "" {
		return nil, fmt.Errorf("%s: no function URLs: set Config.URLs or Config.URLTemplate (%s)", name, EnvURLTemplate)
	}
	if cfg.URLTemplate != "" {
		if !strings.Contains(cfg.URLTemplate, "{name}") {
			return nil, fmt.Errorf("%s: URL template %q lacks {name}", name, httpx.SafeURL(cfg.URLTemplate))
		}
		if err := httpx.CheckURL(httpx.ExpandTemplate(cfg.URLTemplate, "f"), false); err != nil {
			return nil, fmt.Errorf("%s: URL template: %w", name, err)
		}
	}
	for fn, u := range cfg.URLs {
		if err := httpx.CheckURL(u, false); err != nil {
			return nil, fmt.Errorf("%s: function %q: %w", name, fn, err)
		}
	}
	header := nethttp.Header{}
	var secrets []string
	for k, v := range cfg.Headers {
		if k == "" {
			return nil, fmt.Errorf("%s: empty header name", name)
		}
		header.Set(k, v)
		secrets = append(secrets, v)
	}
	return &Provider{
		cfg:    cfg,
		header: header,
		caller: &httpx.Caller{
			Platform: name,
			Client:   httpx.NewClient(httpx.ClientOptions{Timeout: cfg.HTTPTimeout, MaxConnsPerHost: cfg.MaxConnsPerHost}),
			Secrets:  secrets,
			RequestIDHeaders: []string{
				"X-Request-Id", "X-Amzn-Requestid", "X-Cloud-Trace-Context",
			},
		},
	}, nil
}

// Platform returns the platform name ("http" unless overridden).
func (p *Provider) Platform() string { return p.caller.Platform }

// URL returns the URL function is invoked at.
func (p *Provider) URL(function string) (string, error) {
	if u, ok := p.cfg.URLs[function]; ok {
		return u, nil
	}
	if p.cfg.URLTemplate != "" {
		return httpx.ExpandTemplate(p.cfg.URLTemplate, function), nil
	}
	return "", errors.New("no URL configured for function " + fmt.Sprintf("%q", function))
}

// Invoke POSTs payload to the function's URL. A 4xx/5xx answer that
// carries a lab response is a Reply with FunctionError set; other failures
// are *providers.Error.
func (p *Provider) Invoke(ctx context.Context, function string, payload []byte) (*providers.Reply, error) {
	ep, err := p.endpoint(function)
	if err != nil {
		return nil, err
	}
	return p.caller.PostTo(ctx, ep, payload)
}

// endpoint returns the prepared endpoint of function, from the cache when
// it is there.
func (p *Provider) endpoint(function string) (*httpx.Endpoint, error) {
	if ep, ok := p.endpoints.Load(function); ok {
		return ep.(*httpx.Endpoint), nil
	}
	u, err := p.URL(function)
	if err != nil {
		return nil, &providers.Error{Platform: p.Platform(), Kind: providers.KindNotFound, Message: err.Error()}
	}
	ep, err := p.caller.NewEndpoint(nethttp.MethodPost, u, p.header, true)
	if err != nil {
		return nil, err
	}
	if p.nCached.Add(1) <= maxEndpoints {
		if prev, loaded := p.endpoints.LoadOrStore(function, ep); loaded {
			p.nCached.Add(-1)
			return prev.(*httpx.Endpoint), nil
		}
	} else {
		p.nCached.Add(-1)
	}
	return ep, nil
}

// String describes c with header values redacted, so printing or logging
// a Config never reveals a credential.
func (c Config) String() string {
	hs := make([]string, 0, len(c.Headers))
	for k := range c.Headers {
		hs = append(hs, k+":[redacted]")
	}
	return fmt.Sprintf("{URLs:%v URLTemplate:%s Headers:%v PlatformName:%s HTTPTimeout:%v MaxConnsPerHost:%d}",
		c.URLs, c.URLTemplate, hs, c.PlatformName, c.HTTPTimeout, c.MaxConnsPerHost)
}

// GoString is String, for %#v.
func (c Config) GoString() string { return c.String() }

// String describes the provider without its header values.
func (p *Provider) String() string { return "http.Provider" + p.cfg.String() }
