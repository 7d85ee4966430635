// Package local invokes lab functions on the embedded local platform
// (package localfaas), which speaks the Lambda Invoke and configuration
// API. It is the aws provider pointed at the platform's URL, with dummy
// static credentials and region us-east-1, reporting the platform name
// "local": the same code path as real Lambda, SigV4 signing and REPORT
// parsing included.
package local

import (
	"crypto/x509"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/faas-benchmarker/faas-benchmarker/providers"
	"github.com/faas-benchmarker/faas-benchmarker/providers/aws"
)

// PlatformName is the platform name used in Platform() and error messages.
const PlatformName = "local"

// EnvEndpoint is read by NewDefaultConfig into Config.Endpoint.
const EnvEndpoint = "FB_LOCAL_ENDPOINT"

// Fixed settings for the local platform: it checks the SigV4 shape but
// not these values, and they are never real credentials.
const (
	Region          = "us-east-1"
	AccessKeyID     = "AKIDLOCALFAAS"
	SecretAccessKey = "local-secret"
)

// Defaults for Config: the local platform updates configuration at once.
const (
	DefaultHTTPTimeout           = 2 * time.Minute
	DefaultColdStartTimeout      = 30 * time.Second
	DefaultColdStartPollInterval = 20 * time.Millisecond
)

// Config configures a Provider.
type Config struct {
	// Endpoint is the local platform's base URL, e.g.
	// http://127.0.0.1:9001 (required).
	Endpoint string
	// Functions maps a lab function name to the deployed name; names not
	// listed are used as they are.
	Functions map[string]string
	// HTTPTimeout bounds one whole request; 0 means 2 minutes.
	HTTPTimeout time.Duration
	// MaxConnsPerHost sizes the idle-connection pool; 0 means
	// httpx.DefaultMaxConnsPerHost (10,000).
	MaxConnsPerHost int
	// ColdStartTimeout bounds ForceColdStart; 0 means 30 s.
	ColdStartTimeout time.Duration
	// ColdStartPollInterval is the waiter's minimum delay; 0 means 20 ms.
	ColdStartPollInterval time.Duration
	// Logger receives debug messages; nil means slog.Default().
	Logger *slog.Logger
	// RootCAs, when set, are the roots trusted for an https Endpoint (the
	// platform behind a test's TLS proxy); nil means the system's.
	RootCAs *x509.CertPool
}

// NewDefaultConfig returns a Config with Endpoint read from
// FB_LOCAL_ENDPOINT and the defaults above.
func NewDefaultConfig() Config {
	return Config{
		Endpoint:              os.Getenv(EnvEndpoint),
		HTTPTimeout:           DefaultHTTPTimeout,
		ColdStartTimeout:      DefaultColdStartTimeout,
		ColdStartPollInterval: DefaultColdStartPollInterval,
	}
}

// Provider invokes functions on the local platform; it has the aws
// provider's methods (Invoke, ForceColdStart, Client) and is safe for
// concurrent use.
type Provider struct {
	*aws.Provider
}

var (
	_ providers.Invoker      = (*Provider)(nil)
	_ providers.ColdStarter  = (*Provider)(nil)
	_ providers.Preconnector = (*Provider)(nil)
)

// New validates cfg and returns a Provider.
func New(cfg Config) (*Provider, error) {
	if cfg.Endpoint == "" {
		return nil, fmt.Errorf("%s: endpoint not set (Config.Endpoint or %s)", PlatformName, EnvEndpoint)
	}
	if cfg.HTTPTimeout <= 0 {
		cfg.HTTPTimeout = DefaultHTTPTimeout
	}
	if cfg.ColdStartTimeout <= 0 {
		cfg.ColdStartTimeout = DefaultColdStartTimeout
	}
	if cfg.ColdStartPollInterval <= 0 {
		cfg.ColdStartPollInterval = DefaultColdStartPollInterval
	}
	p, err := aws.New(aws.Config{
		Region:                Region,
		Endpoint:              cfg.Endpoint,
		AccessKeyID:           AccessKeyID,
		SecretAccessKey:       SecretAccessKey,
		Functions:             cfg.Functions,
		HTTPTimeout:           cfg.HTTPTimeout,
		MaxConnsPerHost:       cfg.MaxConnsPerHost,
		ColdStartTimeout:      cfg.ColdStartTimeout,
		ColdStartPollInterval: cfg.ColdStartPollInterval,
		Isolated:              true,
		PlatformName:          PlatformName,
		Logger:                cfg.Logger,
		RootCAs:               cfg.RootCAs,
	})
	if err != nil {
		return nil, err
	}
	return &Provider{Provider: p}, nil
}
