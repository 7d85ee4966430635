// Package openfaas invokes lab functions through an OpenFaaS gateway
// (POST {gateway}/function/{name}) and forces cold starts by scaling a
// function to zero through the gateway's REST API
// (POST /system/scale-function/{name}, then GET /system/function/{name}
// until no replica is available).
//
// Scaling to zero only sticks when nothing scales the function back up:
// deploy the lab functions with the label com.openfaas.scale.zero=true (and
// the gateway with scale_from_zero enabled, the default), otherwise the
// autoscaler may restore the minimum replicas before the next invocation.
package openfaas

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/faas-benchmarker/faas-benchmarker/providers"
	"github.com/faas-benchmarker/faas-benchmarker/providers/internal/httpx"
)

// PlatformName is the platform name used in Platform() and error messages.
const PlatformName = "openfaas"

// Environment variables read by NewDefaultConfig (the first is the one
// faas-cli uses).
const (
	EnvGatewayURL = "OPENFAAS_URL"
	EnvUsername   = "OPENFAAS_USERNAME"
	EnvPassword   = "OPENFAAS_PASSWORD"
	EnvNamespace  = "OPENFAAS_NAMESPACE"
)

// Defaults for Config.
const (
	DefaultUsername         = "admin"
	DefaultColdStartTimeout = 2 * time.Minute
	DefaultPollInterval     = time.Second
)

// Config configures a Provider.
type Config struct {
	// GatewayURL is the gateway's base URL, e.g. http://127.0.0.1:8080.
	GatewayURL string
	// Username and Password are the gateway's basic-auth credentials.
	Username string
	Password string
	// Namespace is the functions' namespace; empty means the gateway's
	// default (openfaas-fn).
	Namespace string
	// Functions maps a lab function name to the deployed function name;
	// names not listed are used as they are.
	Functions map[string]string
	// NoInvokeAuth stops sending basic auth on invocations. OpenFaaS
	// does not require it on /function/ and forwards request headers to
	// the function; the /system/ API always gets it.
	NoInvokeAuth bool
	// HTTPTimeout bounds one whole request; 0 means 5 minutes.
	HTTPTimeout time.Duration
	// MaxConnsPerHost sizes the idle-connection pool; 0 means 1024.
	MaxConnsPerHost int
	// ColdStartTimeout bounds ForceColdStart; 0 means 2 minutes.
	ColdStartTimeout time.Duration
	// PollInterval is the wait between replica checks; 0 means 1 s.
	PollInterval time.Duration
}

// NewDefaultConfig returns a Config read from OPENFAAS_URL,
// OPENFAAS_USERNAME (default admin), OPENFAAS_PASSWORD and
// OPENFAAS_NAMESPACE, with default timeouts.
func NewDefaultConfig() Config {
	user := os.Getenv(EnvUsername)
	if user == "" {
		user = DefaultUsername
	}
	return Config{
		GatewayURL:       os.Getenv(EnvGatewayURL),
		Username:         user,
		Password:         os.Getenv(EnvPassword),
		Namespace:        os.Getenv(EnvNamespace),
		HTTPTimeout:      httpx.DefaultTimeout,
		MaxConnsPerHost:  httpx.DefaultMaxConnsPerHost,
		ColdStartTimeout: DefaultColdStartTimeout,
		PollInterval:     DefaultPollInterval,
	}
}

// Provider invokes functions through an OpenFaaS gateway. It is safe for
// concurrent use.
type Provider struct {
	cfg    Config
	base   string
	auth   http.Header
	caller *httpx.Caller
}

var (
	_ providers.Invoker     = (*Provider)(nil)
	_ providers.ColdStarter = (*Provider)(nil)
)

// nameRE is the gateway's route pattern for function names.
var nameRE = regexp.MustCompile(`^[-a-zA-Z_0-9]+$`)

// New validates cfg and returns a Provider.
func New(cfg Config) (*Provider, error) {
	if cfg.GatewayURL == "" {
		return nil, fmt.Errorf("%s: gateway URL not set (Config.GatewayURL or %s)", PlatformName, EnvGatewayURL)
	}
	if err := httpx.CheckURL(cfg.GatewayURL, cfg.Password != ""); err != nil {
		return nil, fmt.Errorf("%s: gateway: %w", PlatformName, err)
	}
	if u, _ := url.Parse(cfg.GatewayURL); u.User != nil {
		return nil, fmt.Errorf("%s: gateway URL must not carry credentials: use Username/Password", PlatformName)
	}
	if cfg.Password == "" {
		return nil, fmt.Errorf("%s: basic-auth password not set (Config.Password or %s)", PlatformName, EnvPassword)
	}
	if cfg.Username == "" {
		cfg.Username = DefaultUsername
	}
	if cfg.Namespace != "" && !nameRE.MatchString(cfg.Namespace) {
		return nil, fmt.Errorf("%s: invalid namespace %q", PlatformName, cfg.Namespace)
	}
	for lab, deployed := range cfg.Functions {
		if !nameRE.MatchString(deployed) {
			return nil, fmt.Errorf("%s: function %q: invalid deployed name %q", PlatformName, lab, deployed)
		}
	}
	if cfg.ColdStartTimeout <= 0 {
		cfg.ColdStartTimeout = DefaultColdStartTimeout
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = DefaultPollInterval
	}
	req, _ := http.NewRequest(http.MethodGet, "/", nil)
	req.SetBasicAuth(cfg.Username, cfg.Password)
	return &Provider{
		cfg:  cfg,
		base: strings.TrimRight(cfg.GatewayURL, "/"),
		auth: http.Header{"Authorization": req.Header.Values("Authorization")},
		caller: &httpx.Caller{
			Platform: PlatformName,
			Client:   httpx.NewClient(httpx.ClientOptions{Timeout: cfg.HTTPTimeout, MaxConnsPerHost: cfg.MaxConnsPerHost}),
			// The base64 form appears in the header; redact both.
			Secrets:          []string{cfg.Password, strings.TrimPrefix(req.Header.Get("Authorization"), "Basic ")},
			RequestIDHeaders: []string{"X-Call-Id", "X-Request-Id"},
		},
	}, nil
}

// Platform returns "openfaas".
func (p *Provider) Platform() string { return PlatformName }

func (p *Provider) deployed(function string) (string, error) {
	name := function
	if d, ok := p.cfg.Functions[function]; ok {
		name = d
	}
	if !nameRE.MatchString(name) {
		return "", &providers.Error{Platform: PlatformName, Kind: providers.KindNotFound,
			Message: fmt.Sprintf("invalid function name %q", name)}
	}
	return name, nil
}

// Invoke POSTs payload to {gateway}/function/{name}[.{namespace}].
func (p *Provider) Invoke(ctx context.Context, function string, payload []byte) (*providers.Reply, error) {
	name, err := p.deployed(function)
	if err != nil {
		return nil, err
	}
	target := name
	if p.cfg.Namespace != "" {
		target += "." + p.cfg.Namespace
	}
	var h http.Header
	if !p.cfg.NoInvokeAuth {
		h = p.auth
	}
	return p.caller.Post(ctx, p.base+"/function/"+target, h, payload)
}

// scaleRequest is the gateway's ScaleServiceRequest.
type scaleRequest struct {
	ServiceName string `json:"serviceName"`
	Namespace   string `json:"namespace,omitempty"`
	Replicas    uint64 `json:"replicas"`
}

// functionStatus holds the fields read from GET /system/function/{name}.
type functionStatus struct {
	Name              string `json:"name"`
	Replicas          uint64 `json:"replicas"`
	AvailableReplicas uint64 `json:"availableReplicas"`
}

// ForceColdStart scales function to zero replicas and waits until the
// gateway reports none available (at most Config.ColdStartTimeout). The
// next invocation then goes through the gateway's scale-from-zero path.
func (p *Provider) ForceColdStart(ctx context.Context, function string) error {
	name, err := p.deployed(function)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, p.cfg.ColdStartTimeout)
	defer cancel()

	body, _ := json.Marshal(scaleRequest{ServiceName: name, Namespace: p.cfg.Namespace, Replicas: 0})
	status, _, resp, err := p.caller.Do(ctx, http.MethodPost, p.base+"/system/scale-function/"+name, p.auth, body)
	if err != nil {
		return p.wrap("scale to zero", err)
	}
	if status != http.StatusOK && status != http.StatusAccepted && status != http.StatusNoContent {
		return p.wrap("scale to zero", p.caller.StatusError(status, resp))
	}

	statusURL := p.base + "/system/function/" + name
	if p.cfg.Namespace != "" {
		statusURL += "?namespace=" + url.QueryEscape(p.cfg.Namespace)
	}
	for {
		status, _, resp, err := p.caller.Do(ctx, http.MethodGet, statusURL, p.auth, nil)
		if err != nil {
			return p.wrap("wait for zero replicas", err)
		}
		if status != http.StatusOK {
			return p.wrap("wait for zero replicas", p.caller.StatusError(status, resp))
		}
		var fs functionStatus
		if err := json.Unmarshal(resp, &fs); err != nil {
			return p.wrap("wait for zero replicas", &providers.Error{Platform: PlatformName, Kind: providers.KindHTTP,
				StatusCode: status, Message: "invalid function status: " + err.Error()})
		}
		if fs.AvailableReplicas == 0 {
			return nil
		}
		t := time.NewTimer(p.cfg.PollInterval)
		select {
		case <-ctx.Done():
			t.Stop()
			return p.wrap("wait for zero replicas", p.caller.TransportError(ctx, ctx.Err()))
		case <-t.C:
		}
	}
}

// wrap prefixes a classified error's message with the step that failed.
func (p *Provider) wrap(step string, err error) error {
	if pe, ok := err.(*providers.Error); ok {
		cp := *pe
		cp.Message = "force cold start: " + step + ": " + pe.Message
		return &cp
	}
	return &providers.Error{Platform: PlatformName, Kind: providers.KindHTTP, Message: "force cold start: " + step, Err: err}
}

// String describes c with the password redacted, so printing or logging a
// Config never reveals it.
func (c Config) String() string {
	pw := ""
	if c.Password != "" {
		pw = "[redacted]"
	}
	return fmt.Sprintf("{GatewayURL:%s Username:%s Password:%s Namespace:%s Functions:%v NoInvokeAuth:%v HTTPTimeout:%v MaxConnsPerHost:%d ColdStartTimeout:%v PollInterval:%v}",
		httpx.SafeURL(c.GatewayURL), c.Username, pw, c.Namespace, c.Functions, c.NoInvokeAuth,
		c.HTTPTimeout, c.MaxConnsPerHost, c.ColdStartTimeout, c.PollInterval)
}

// GoString is String, for %#v.
func (c Config) GoString() string { return c.String() }

// String describes the provider without its credentials.
func (p *Provider) String() string { return "openfaas.Provider" + p.cfg.String() }
