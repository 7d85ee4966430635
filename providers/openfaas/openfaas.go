// Package openfaas invokes lab functions through an OpenFaaS gateway
// (POST {gateway}/function/{name}) and forces cold starts by scaling a
// function to zero replicas and waiting until the gateway reports none
// available; the next invocation then goes through the gateway's
// scale-from-zero path.
//
// How a function is scaled to zero depends on the edition, which the
// provider always reads from the running gateway's GET /system/info
// (provider name faas-netes-ce, or faas-netes before the edition suffix,
// is the Community Edition; see EditionOf) and reports with the run
// (Describe) — never from configuration or a stack output:
//
//   - OpenFaaS CE refuses POST /system/scale-function with replicas 0
//     (HTTP 400 "replicas cannot be set to 0 in OpenFaaS CE", faas-netes
//     pkg/handlers/replica_updater.go since late 2022) and caps a function
//     at 5 replicas. The provider scales the function's Deployment to 0
//     through the Kubernetes API instead (the Deployment's scale
//     subresource, with the cluster's kubeconfig: Config.Kubeconfig); the
//     gateway's scale-from-zero, which CE keeps, starts it again on the
//     next call. Without a kubeconfig ForceColdStart fails and says so.
//   - OpenFaaS Pro accepts replicas 0 on the gateway's REST API, which the
//     provider then uses.
//
// A scaled-down function stays down only when nothing scales it back up
// before the next invocation: CE has no idler and no scale-to-zero, and
// its replica minimum (com.openfaas.scale.min) is only applied when the
// gateway scales from zero.
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
	"sync"
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
	// EnvKubeconfig names the kubeconfig file of the cluster (read into
	// Config.Kubeconfig by NewDefaultConfig); KUBECONFIG is the fallback.
	EnvKubeconfig = "OPENFAAS_KUBECONFIG"
)

// Editions of OpenFaaS, as EditionOf names them.
const (
	// EditionCE is the Community Edition: no replicas 0 on the gateway,
	// at most CEMaxReplicas replicas per function and CEMaxFunctions
	// functions per installation.
	EditionCE = "ce"
	// EditionPro is OpenFaaS Pro/Enterprise.
	EditionPro = "pro"
)

// Limits of OpenFaaS CE (faas-netes CE caps a scale request at
// MaxReplicas = 5 and refuses a deploy beyond 15 functions).
const (
	CEMaxReplicas  = 5
	CEMaxFunctions = 15
)

// DefaultFunctionNamespace is the namespace faas-netes deploys functions to
// when none is given.
const DefaultFunctionNamespace = "openfaas-fn"

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
	// MaxConnsPerHost sizes the idle-connection pool; 0 means
	// httpx.DefaultMaxConnsPerHost (10,000).
	MaxConnsPerHost int
	// ColdStartTimeout bounds ForceColdStart; 0 means 2 minutes.
	ColdStartTimeout time.Duration
	// PollInterval is the wait between replica checks; 0 means 1 s.
	PollInterval time.Duration
	// Kubeconfig is the cluster's kubeconfig (YAML or JSON), used by
	// ForceColdStart on OpenFaaS CE to scale the function's Deployment
	// to zero. Its credentials may be a token, a client certificate or
	// an exec plugin (EKS: aws eks get-token, so the AWS CLI must be on
	// PATH).
	Kubeconfig []byte
	// AllowPlainHTTP accepts an http:// gateway URL on a non-loopback
	// host although a password is set. It is an explicit opt-in for a
	// gateway behind a load balancer that only admits the client's
	// addresses (the managed OpenFaaS stack's NLB, fb:gatewayCidrs): the
	// password then crosses that network path unencrypted. Invocations
	// carry no credentials when NoInvokeAuth is set.
	AllowPlainHTTP bool
}

// NewDefaultConfig returns a Config read from OPENFAAS_URL,
// OPENFAAS_USERNAME (default admin), OPENFAAS_PASSWORD and
// OPENFAAS_NAMESPACE, with default timeouts, and Kubeconfig from the file
// OPENFAAS_KUBECONFIG (else KUBECONFIG) names, when it can be read.
func NewDefaultConfig() Config {
	user := os.Getenv(EnvUsername)
	if user == "" {
		user = DefaultUsername
	}
	var kube []byte
	for _, env := range []string{EnvKubeconfig, "KUBECONFIG"} {
		if path := os.Getenv(env); path != "" && !strings.Contains(path, string(os.PathListSeparator)) {
			if b, err := os.ReadFile(path); err == nil {
				kube = b
				break
			}
		}
	}
	return Config{
		Kubeconfig:       kube,
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
	kube   *kubeClient // nil without Config.Kubeconfig

	mu      sync.Mutex
	edition string // read from /system/info, then cached
}

var (
	_ providers.Invoker      = (*Provider)(nil)
	_ providers.ColdStarter  = (*Provider)(nil)
	_ providers.Describer    = (*Provider)(nil)
	_ providers.Preconnector = (*Provider)(nil)
)

// nameRE is the gateway's route pattern for function names.
var nameRE = regexp.MustCompile(`^[-a-zA-Z_0-9]+$`)

// New validates cfg and returns a Provider.
func New(cfg Config) (*Provider, error) {
	if cfg.GatewayURL == "" {
		return nil, fmt.Errorf("%s: gateway URL not set (Config.GatewayURL or %s)", PlatformName, EnvGatewayURL)
	}
	if err := httpx.CheckURL(cfg.GatewayURL, cfg.Password != "" && !cfg.AllowPlainHTTP); err != nil {
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
	var kube *kubeClient
	if len(cfg.Kubeconfig) > 0 {
		var err error
		if kube, err = newKubeClient(cfg.Kubeconfig); err != nil {
			return nil, fmt.Errorf("%s: %w", PlatformName, err)
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
		kube: kube,
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

// Preconnect opens n connections to the gateway without invoking anything:
// n GET /system/info requests (answered by the gateway and its provider,
// never by a function; the request Edition makes) sent together, each
// holding its connection until all have their responses (httpx.Together),
// so that the next n invocations of function start together over
// connections already open. Invocations go to the same gateway host, so
// they share the pool.
func (p *Provider) Preconnect(ctx context.Context, function string, n int) error {
	ep, err := p.caller.NewEndpoint(http.MethodGet, p.base+"/system/info", p.auth, false)
	if err != nil {
		return err
	}
	return p.caller.Preopen(ctx, ep, n)
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

// gatewayInfo holds the fields read from GET /system/info: the gateway's
// GatewayInfo with the provider's ProviderInfo inside (faas-provider
// types; faas-netes CE answers provider "faas-netes-ce", orchestration
// "kubernetes", faas-netes pkg/handlers/info.go).
type gatewayInfo struct {
	Provider struct {
		Name          string `json:"provider"`
		Orchestration string `json:"orchestration"`
		Version       struct {
			Release string `json:"release"`
		} `json:"version"`
	} `json:"provider"`
	Version struct {
		Release string `json:"release"`
	} `json:"version"`
}

// EditionOf names the edition of a gateway whose /system/info reports
// provider name: faas-netes-ce and faas-netes (the CE provider before the
// edition suffix) and faasd-ce/faasd are CE (their public sources); any
// other provider is taken for Pro — Pro's sources are not public, so the
// provider name itself is recorded with every run (Describe).
func EditionOf(providerName string) string {
	switch providerName {
	case "faas-netes-ce", "faas-netes", "faasd-ce", "faasd":
		return EditionCE
	}
	return EditionPro
}

// info reads GET /system/info and caches the edition it names.
func (p *Provider) info(ctx context.Context) (*gatewayInfo, error) {
	status, _, resp, err := p.caller.Do(ctx, http.MethodGet, p.base+"/system/info", p.auth, nil)
	if err != nil {
		return nil, err
	}
	if status != http.StatusOK {
		return nil, p.caller.StatusError(status, resp)
	}
	var info gatewayInfo
	if err := json.Unmarshal(resp, &info); err != nil || info.Provider.Name == "" {
		return nil, &providers.Error{Platform: PlatformName, Kind: providers.KindHTTP, StatusCode: status,
			Message: "invalid /system/info reply: no provider name"}
	}
	p.mu.Lock()
	p.edition = EditionOf(info.Provider.Name)
	p.mu.Unlock()
	return &info, nil
}

// Edition returns the running gateway's edition, read from GET
// /system/info once and then cached.
func (p *Provider) Edition(ctx context.Context) (string, error) {
	p.mu.Lock()
	e := p.edition
	p.mu.Unlock()
	if e != "" {
		return e, nil
	}
	if _, err := p.info(ctx); err != nil {
		return "", err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.edition, nil
}

// Describe implements providers.Describer: what the running gateway's GET
// /system/info says, stored with the run — "edition" (EditionOf the
// provider name), "edition_source" ("GET /system/info"),
// "gateway_provider" (the provider name, e.g. faas-netes-ce),
// "gateway_provider_version" and "gateway_version" (the releases).
func (p *Provider) Describe(ctx context.Context) (map[string]any, error) {
	info, err := p.info(ctx)
	if err != nil {
		return nil, fmt.Errorf("%s: read the gateway's edition (GET /system/info): %w", PlatformName, err)
	}
	return map[string]any{
		"edition":                  EditionOf(info.Provider.Name),
		"edition_source":           "GET /system/info",
		"gateway_provider":         info.Provider.Name,
		"gateway_provider_version": info.Provider.Version.Release,
		"gateway_version":          info.Version.Release,
	}, nil
}

func (p *Provider) namespace() string {
	if p.cfg.Namespace != "" {
		return p.cfg.Namespace
	}
	return DefaultFunctionNamespace
}

// ForceColdStart scales function to zero replicas — through the Kubernetes
// API on CE, through the gateway on Pro (see the package documentation) —
// and waits until the gateway reports none available (at most
// Config.ColdStartTimeout). The next invocation then goes through the
// gateway's scale-from-zero path.
func (p *Provider) ForceColdStart(ctx context.Context, function string) error {
	name, err := p.deployed(function)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, p.cfg.ColdStartTimeout)
	defer cancel()

	edition, err := p.Edition(ctx)
	if err != nil {
		return p.wrap("read the gateway edition (/system/info)", err)
	}
	if edition == EditionCE {
		if err := p.scaleDeploymentToZero(ctx, name); err != nil {
			return err
		}
	} else {
		body, _ := json.Marshal(scaleRequest{ServiceName: name, Namespace: p.cfg.Namespace, Replicas: 0})
		status, _, resp, err := p.caller.Do(ctx, http.MethodPost, p.base+"/system/scale-function/"+name, p.auth, body)
		if err != nil {
			return p.wrap("scale to zero", err)
		}
		if status != http.StatusOK && status != http.StatusAccepted && status != http.StatusNoContent {
			return p.wrap("scale to zero", p.caller.StatusError(status, resp))
		}
	}

	statusURL := p.base + "/system/function/" + name
	if p.cfg.Namespace != "" {
		statusURL += "?namespace=" + url.QueryEscape(p.cfg.Namespace)
	}
	return p.poll(ctx, "wait for zero replicas", func() (bool, error) {
		status, _, resp, err := p.caller.Do(ctx, http.MethodGet, statusURL, p.auth, nil)
		if err != nil {
			return false, err
		}
		if status != http.StatusOK {
			return false, p.caller.StatusError(status, resp)
		}
		var fs functionStatus
		if err := json.Unmarshal(resp, &fs); err != nil {
			return false, &providers.Error{Platform: PlatformName, Kind: providers.KindHTTP,
				StatusCode: status, Message: "invalid function status: " + err.Error()}
		}
		return fs.AvailableReplicas == 0, nil
	})
}

// scaleDeploymentToZero scales the function's Deployment to 0 through the
// Kubernetes API and waits until it has no replica left.
func (p *Provider) scaleDeploymentToZero(ctx context.Context, name string) error {
	if p.kube == nil {
		return &providers.Error{Platform: PlatformName, Kind: providers.KindHTTP,
			Message: "force cold start: OpenFaaS CE refuses to scale a function to 0 replicas through the gateway; " +
				"give the cluster's kubeconfig (Config.Kubeconfig, " + EnvKubeconfig + " or KUBECONFIG) so the " +
				"function's Deployment can be scaled to 0 through the Kubernetes API"}
	}
	ns := p.namespace()
	if _, err := p.kube.scaleDeployment(ctx, ns, name, 0); err != nil {
		return p.wrap("scale Deployment "+ns+"/"+name+" to 0", p.kubeErr(ctx, err))
	}
	return p.poll(ctx, "wait for Deployment "+ns+"/"+name+" to have no replica", func() (bool, error) {
		sc, err := p.kube.getScale(ctx, ns, name)
		if err != nil {
			return false, p.kubeErr(ctx, err)
		}
		return sc.Status.Replicas == 0, nil
	})
}

// kubeErr classifies a Kubernetes API failure.
func (p *Provider) kubeErr(ctx context.Context, err error) error {
	if _, ok := err.(*providers.Error); ok {
		return err
	}
	return p.caller.TransportError(ctx, err)
}

// poll calls done every PollInterval until it reports true, fails, or ctx
// ends.
func (p *Provider) poll(ctx context.Context, step string, done func() (bool, error)) error {
	for {
		ok, err := done()
		if err != nil {
			return p.wrap(step, err)
		}
		if ok {
			return nil
		}
		t := time.NewTimer(p.cfg.PollInterval)
		select {
		case <-ctx.Done():
			t.Stop()
			return p.wrap(step, p.caller.TransportError(ctx, ctx.Err()))
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
	kube := ""
	if len(c.Kubeconfig) > 0 {
		kube = "[redacted]"
	}
	return fmt.Sprintf("{GatewayURL:%s Username:%s Password:%s Namespace:%s Functions:%v NoInvokeAuth:%v HTTPTimeout:%v MaxConnsPerHost:%d ColdStartTimeout:%v PollInterval:%v Kubeconfig:%s AllowPlainHTTP:%v}",
		httpx.SafeURL(c.GatewayURL), c.Username, pw, c.Namespace, c.Functions, c.NoInvokeAuth,
		c.HTTPTimeout, c.MaxConnsPerHost, c.ColdStartTimeout, c.PollInterval, kube, c.AllowPlainHTTP)
}

// GoString is String, for %#v.
func (c Config) GoString() string { return c.String() }

// String describes the provider without its credentials.
func (p *Provider) String() string { return "openfaas.Provider" + p.cfg.String() }
