// Package azure invokes lab functions deployed as Azure Functions HTTP
// triggers: an HTTPS POST to each function's URL with the function key in
// the x-functions-key header.
//
// Keys are secrets: they are sent only in the header (never in the URL),
// only over https (plain http is accepted for loopback hosts, for tests),
// and never appear in error messages.
package azure

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/faas-benchmarker/faas-benchmarker/providers"
	"github.com/faas-benchmarker/faas-benchmarker/providers/internal/httpx"
)

// PlatformName is the platform name used in Platform() and error messages.
const PlatformName = "azure"

// Environment variables read by NewDefaultConfig.
const (
	// EnvFunctionsKey holds the key used for functions without their own.
	EnvFunctionsKey = "FB_AZURE_FUNCTIONS_KEY"
	// EnvURLTemplate holds Config.URLTemplate.
	EnvURLTemplate = "FB_AZURE_URL_TEMPLATE"
)

// KeyHeader is the header carrying the function key.
const KeyHeader = "x-functions-key"

// Function is one deployed function.
type Function struct {
	// URL is the function's HTTP trigger URL, e.g.
	// https://app.azurewebsites.net/api/function1.
	URL string
	// Key is the function (or host) key; empty means Config.Key.
	Key string
}

// Config configures a Provider.
type Config struct {
	// Functions maps a lab function name to its deployment.
	Functions map[string]Function
	// URLTemplate builds the URL of a function not in Functions, e.g.
	// "https://app.azurewebsites.net/api/{name}".
	URLTemplate string
	// Key is the default key (a host key works for every function of an
	// app). Empty with no per-function key means no key header is sent
	// (anonymous functions).
	Key string
	// HTTPTimeout bounds one whole invocation; 0 means 5 minutes (the
	// Azure front end itself cuts HTTP triggers at 230 s).
	HTTPTimeout time.Duration
	// MaxConnsPerHost sizes the idle-connection pool; 0 means
	// httpx.DefaultMaxConnsPerHost (10,000).
	MaxConnsPerHost int
}

// NewDefaultConfig returns a Config with Key and URLTemplate read from
// FB_AZURE_FUNCTIONS_KEY and FB_AZURE_URL_TEMPLATE.
func NewDefaultConfig() Config {
	return Config{
		Key:             os.Getenv(EnvFunctionsKey),
		URLTemplate:     os.Getenv(EnvURLTemplate),
		HTTPTimeout:     httpx.DefaultTimeout,
		MaxConnsPerHost: httpx.DefaultMaxConnsPerHost,
	}
}

// Provider invokes Azure Functions. It is safe for concurrent use.
//
// It opens no connections ahead of a cold burst (it is no
// providers.Preconnector), and the cold-start experiment subtracts each
// fresh connection's measured set-up instead: every request to
// <app>.azurewebsites.net — the function's route, the host's own pages (/,
// /admin/host/status) alike — is routed by the front end to an instance of
// the app and served by the Functions host there, which on the Consumption
// and Flex Consumption plans means allocating and starting one when none
// runs. A request made only to open a connection would thus start the very
// instance whose cold start is to be measured. A TCP and TLS connection
// opened without any request would touch only the front end, but net/http's
// transport has no way to take such a connection into its pool (it would
// need a dialer of our own handing out connections opened earlier; not
// built). A connection opened for a request is timed where it is opened
// (DNS, connect, TLS handshake: providers.ConnSetup), so the subtraction
// removes what the request waited for.
type Provider struct {
	cfg    Config
	caller *httpx.Caller
}

var _ providers.Invoker = (*Provider)(nil)

// New validates cfg and returns a Provider.
func New(cfg Config) (*Provider, error) {
	if len(cfg.Functions) == 0 && cfg.URLTemplate == "" {
		return nil, fmt.Errorf("%s: no functions: set Config.Functions or Config.URLTemplate (%s)", PlatformName, EnvURLTemplate)
	}
	secrets := []string{cfg.Key}
	if cfg.URLTemplate != "" {
		if !strings.Contains(cfg.URLTemplate, "{name}") {
			return nil, fmt.Errorf("%s: URL template %q lacks {name}", PlatformName, httpx.SafeURL(cfg.URLTemplate))
		}
		if err := checkURL(httpx.ExpandTemplate(cfg.URLTemplate, "f")); err != nil {
			return nil, fmt.Errorf("%s: URL template: %w", PlatformName, err)
		}
	}
	for name, fn := range cfg.Functions {
		if err := checkURL(fn.URL); err != nil {
			return nil, fmt.Errorf("%s: function %q: %w", PlatformName, name, err)
		}
		secrets = append(secrets, fn.Key)
	}
	return &Provider{cfg: cfg, caller: &httpx.Caller{
		Platform:         PlatformName,
		Client:           httpx.NewClient(httpx.ClientOptions{Timeout: cfg.HTTPTimeout, MaxConnsPerHost: cfg.MaxConnsPerHost}),
		Secrets:          secrets,
		RequestIDHeaders: []string{"X-Request-Id", "X-Ms-Request-Id"},
	}}, nil
}

// checkURL requires https (or loopback http) and refuses a key in the
// query string, where it would end up in logs.
func checkURL(u string) error {
	if err := httpx.CheckURL(u, true); err != nil {
		return err
	}
	if strings.Contains(u, "code=") {
		return fmt.Errorf("URL %q carries a key in ?code=: put it in Key instead", httpx.SafeURL(u))
	}
	return nil
}

// Platform returns "azure".
func (p *Provider) Platform() string { return PlatformName }

func (p *Provider) target(function string) (url, key string, ok bool) {
	if fn, found := p.cfg.Functions[function]; found {
		key = fn.Key
		if key == "" {
			key = p.cfg.Key
		}
		return fn.URL, key, true
	}
	if p.cfg.URLTemplate != "" {
		return httpx.ExpandTemplate(p.cfg.URLTemplate, function), p.cfg.Key, true
	}
	return "", "", false
}

// Invoke POSTs payload to the function's URL with its key. 429 is
// KindThrottled, 401/403 KindAuth, 404 KindNotFound; a 4xx/5xx that
// carries a lab response is a Reply with FunctionError set (body kept);
// any other status is KindHTTP.
func (p *Provider) Invoke(ctx context.Context, function string, payload []byte) (*providers.Reply, error) {
	u, key, ok := p.target(function)
	if !ok {
		return nil, &providers.Error{Platform: PlatformName, Kind: providers.KindNotFound,
			Message: fmt.Sprintf("no URL configured for function %q", function)}
	}
	h := http.Header{}
	if key != "" {
		h.Set(KeyHeader, key)
	}
	return p.caller.Post(ctx, u, h, payload)
}

// String describes f without its key, so printing or logging a Function
// never reveals the key.
func (f Function) String() string {
	key := ""
	if f.Key != "" {
		key = "[redacted]"
	}
	return fmt.Sprintf("{URL:%s Key:%s}", httpx.SafeURL(f.URL), key)
}

// GoString is String, for %#v.
func (f Function) GoString() string { return f.String() }

// String describes c with every key redacted.
func (c Config) String() string {
	key := ""
	if c.Key != "" {
		key = "[redacted]"
	}
	return fmt.Sprintf("{Functions:%v URLTemplate:%s Key:%s HTTPTimeout:%v MaxConnsPerHost:%d}",
		c.Functions, httpx.SafeURL(c.URLTemplate), key, c.HTTPTimeout, c.MaxConnsPerHost)
}

// GoString is String, for %#v.
func (c Config) GoString() string { return c.String() }

// String describes the provider without its keys.
func (p *Provider) String() string { return "azure.Provider" + p.cfg.String() }
