// Package aws invokes lab functions on AWS Lambda with the aws-sdk-go-v2
// Lambda client: a direct Invoke (RequestResponse, LogType Tail, not through
// API Gateway), whose REPORT line is parsed into providers.Report, and a
// forced cold start through UpdateFunctionConfiguration.
//
// Configuration and credentials come from the SDK's default chain
// (environment, shared config and credentials files, SSO, IMDS ...), with
// optional overrides in Config. The SDK's retries are OFF for Invoke: a
// retry hidden inside one sample would be measured as one slow invocation.
// Control-plane calls (GetFunctionConfiguration, UpdateFunctionConfiguration,
// the waiter's GetFunction) keep the SDK's standard retries.
//
// The same code serves the embedded local platform (package
// providers/local), which speaks the Lambda API.
package aws

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/google/uuid"

	"github.com/faas-benchmarker/faas-benchmarker/providers"
	"github.com/faas-benchmarker/faas-benchmarker/providers/internal/httpx"
	"github.com/faas-benchmarker/faas-benchmarker/providers/lambdalog"
	"github.com/faas-benchmarker/faas-benchmarker/stacks/stackcfg"
)

// PlatformName is the default platform name, used in Platform() and as the
// error prefix.
const PlatformName = "aws"

// ColdTokenEnv is the environment variable ForceColdStart sets to a new
// random value, which makes Lambda start new execution environments.
const ColdTokenEnv = stackcfg.EnvColdToken

// Defaults for Config.
const (
	// DefaultHTTPTimeout covers Lambda's longest function timeout (900 s)
	// plus slack.
	DefaultHTTPTimeout = 15*time.Minute + 30*time.Second
	// DefaultColdStartTimeout bounds the wait for a configuration update.
	DefaultColdStartTimeout = 5 * time.Minute
	// DefaultColdStartPollInterval is the waiter's minimum delay.
	DefaultColdStartPollInterval = time.Second
)

// Config configures a Provider. Zero values defer to the SDK's default
// chain or to the defaults above.
type Config struct {
	// Region overrides the SDK's region (AWS_REGION, profile ...).
	Region string
	// Endpoint overrides the Lambda endpoint (BaseEndpoint), e.g. the
	// embedded local platform or a test server. The SDK also honours
	// AWS_ENDPOINT_URL_LAMBDA.
	Endpoint string
	// Profile selects a shared-config profile (otherwise AWS_PROFILE).
	Profile string
	// AccessKeyID, SecretAccessKey and SessionToken, when AccessKeyID is
	// set, replace the default credential chain with static credentials
	// (tests, the local platform).
	AccessKeyID     string
	SecretAccessKey string
	SessionToken    string
	// Credentials, when set, replaces the credential chain (takes
	// precedence over the static fields).
	Credentials sdkaws.CredentialsProvider
	// Functions maps a lab function name to the deployed function name or
	// ARN; names not listed are used as they are.
	Functions map[string]string
	// Qualifier is an optional version or alias to invoke. ForceColdStart
	// needs it empty or "$LATEST": configuration updates apply to
	// $LATEST only.
	Qualifier string
	// HTTPTimeout bounds one whole request; 0 means DefaultHTTPTimeout.
	HTTPTimeout time.Duration
	// MaxConnsPerHost sizes the idle-connection pool; 0 means
	// httpx.DefaultMaxConnsPerHost (10,000).
	MaxConnsPerHost int
	// ColdStartTimeout bounds ForceColdStart; 0 means 5 minutes.
	ColdStartTimeout time.Duration
	// ColdStartPollInterval is the waiter's minimum delay between
	// GetFunction calls; 0 means 1 s.
	ColdStartPollInterval time.Duration
	// Architecture is the Lambda architecture of every function (arm64
	// or x86_64), as a stack's outputs state it; empty means Architecture
	// reads each function's from Lambda.
	Architecture string
	// Isolated ignores the environment and the shared config files:
	// only Region, Endpoint and the credentials in this Config are used
	// (package local sets it, so a user's AWS_PROFILE or real
	// credentials never reach the local platform).
	Isolated bool
	// PlatformName overrides Platform() and the error prefix; empty
	// means "aws" (package local sets "local").
	PlatformName string
	// Logger receives debug messages (unparsable REPORT lines); nil means
	// slog.Default(). Nothing logged contains credentials or payloads.
	Logger *slog.Logger
	// RootCAs, when set, are the only roots trusted for an https Endpoint
	// (a test's TLS server); nil means the system's.
	RootCAs *x509.CertPool
}

// NewDefaultConfig returns a Config that takes region, credentials and
// endpoint from the SDK's default chain (AWS_REGION, AWS_PROFILE,
// AWS_ACCESS_KEY_ID, AWS_ENDPOINT_URL_LAMBDA, ~/.aws/config ...) with the
// default timeouts.
func NewDefaultConfig() Config {
	return Config{
		HTTPTimeout:           DefaultHTTPTimeout,
		MaxConnsPerHost:       httpx.DefaultMaxConnsPerHost,
		ColdStartTimeout:      DefaultColdStartTimeout,
		ColdStartPollInterval: DefaultColdStartPollInterval,
	}
}

// Provider invokes Lambda functions. It is safe for concurrent use.
type Provider struct {
	cfg     Config
	name    string
	client  *lambda.Client
	secrets []string
	log     *slog.Logger

	mu sync.Mutex
	// memory is each changed function's memory size (MB) before this
	// provider first changed its configuration, by deployed name: what
	// Restore puts back.
	memory map[string]int32
	// arch caches the architectures read from the functions.
	arch map[string]string
}

var (
	_ providers.Invoker            = (*Provider)(nil)
	_ providers.ColdStarter        = (*Provider)(nil)
	_ providers.MemorySetter       = (*Provider)(nil)
	_ providers.ArchitectureReader = (*Provider)(nil)
	_ providers.ConcurrencyLimiter = (*Provider)(nil)
	_ providers.Preconnector       = (*Provider)(nil)
)

// New loads the SDK configuration (default chain plus cfg's overrides),
// validates it and returns a Provider. It does not contact AWS.
func New(cfg Config) (*Provider, error) {
	name := cfg.PlatformName
	if name == "" {
		name = PlatformName
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
	if cfg.Endpoint != "" {
		if err := httpx.CheckURL(cfg.Endpoint, false); err != nil {
			return nil, fmt.Errorf("%s: endpoint: %w", name, err)
		}
	}
	if cfg.AccessKeyID != "" && cfg.SecretAccessKey == "" {
		return nil, fmt.Errorf("%s: static credentials need both an access key id and a secret access key", name)
	}
	for lab, deployed := range cfg.Functions {
		if deployed == "" {
			return nil, fmt.Errorf("%s: function %q maps to an empty name", name, lab)
		}
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.Default()
	}

	// A BuildableClient (not a plain *http.Client) so that the SDK can
	// still apply AWS_CA_BUNDLE; it builds its client once and is shared.
	hc := awshttp.NewBuildableClient().WithTimeout(cfg.HTTPTimeout).WithTransportOptions(func(tr *http.Transport) {
		httpx.TuneTransport(tr, cfg.MaxConnsPerHost)
		if cfg.RootCAs != nil {
			tr.TLSClientConfig = &tls.Config{RootCAs: cfg.RootCAs, MinVersion: tls.VersionTLS12}
		}
	})
	awsCfg, err := loadSDKConfig(cfg, hc)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if awsCfg.Credentials != nil {
		awsCfg.Credentials = credentialsGuard{awsCfg.Credentials}
	}
	if awsCfg.Region == "" {
		return nil, fmt.Errorf("%s: no region: set Config.Region, AWS_REGION or a profile region", name)
	}
	client := lambda.NewFromConfig(awsCfg, func(o *lambda.Options) {
		if cfg.Endpoint != "" {
			o.BaseEndpoint = sdkaws.String(cfg.Endpoint)
		}
	})
	return &Provider{
		cfg:     cfg,
		name:    name,
		client:  client,
		secrets: []string{cfg.SecretAccessKey, cfg.SessionToken},
		log:     logger,
		memory:  map[string]int32{},
		arch:    map[string]string{},
	}, nil
}

// loadSDKConfig builds the SDK configuration: the default chain with cfg's
// overrides, or only cfg when cfg.Isolated.
func loadSDKConfig(cfg Config, hc *awshttp.BuildableClient) (sdkaws.Config, error) {
	var creds sdkaws.CredentialsProvider
	switch {
	case cfg.Credentials != nil:
		creds = cfg.Credentials
	case cfg.AccessKeyID != "":
		creds = credentials.NewStaticCredentialsProvider(cfg.AccessKeyID, cfg.SecretAccessKey, cfg.SessionToken)
	}
	if cfg.Isolated {
		if creds == nil {
			return sdkaws.Config{}, errors.New("isolated configuration needs credentials")
		}
		return sdkaws.Config{Region: cfg.Region, Credentials: creds, HTTPClient: hc}, nil
	}
	opts := []func(*config.LoadOptions) error{config.WithHTTPClient(hc)}
	if cfg.Region != "" {
		opts = append(opts, config.WithRegion(cfg.Region))
	}
	if cfg.Profile != "" {
		opts = append(opts, config.WithSharedConfigProfile(cfg.Profile))
	}
	if creds != nil {
		opts = append(opts, config.WithCredentialsProvider(creds))
	}
	awsCfg, err := config.LoadDefaultConfig(context.Background(), opts...)
	if err != nil {
		return sdkaws.Config{}, fmt.Errorf("load SDK configuration: %w", err)
	}
	return awsCfg, nil
}

// credentialsError marks a failure to obtain credentials, which the SDK
// reports as a plain wrapped error.
type credentialsError struct{ err error }

func (e *credentialsError) Error() string { return e.err.Error() }
func (e *credentialsError) Unwrap() error { return e.err }

// credentialsGuard tags credential failures so classify can report KindAuth.
type credentialsGuard struct{ p sdkaws.CredentialsProvider }

func (g credentialsGuard) Retrieve(ctx context.Context) (sdkaws.Credentials, error) {
	c, err := g.p.Retrieve(ctx)
	if err != nil {
		return c, &credentialsError{err}
	}
	return c, nil
}

// Platform returns the platform name ("aws" unless overridden).
func (p *Provider) Platform() string { return p.name }

// Client returns the underlying Lambda client (for callers that need
// other Lambda APIs with the same configuration).
func (p *Provider) Client() *lambda.Client { return p.client }

func (p *Provider) deployed(function string) string {
	if d, ok := p.cfg.Functions[function]; ok {
		return d
	}
	return function
}

// noRetry turns the SDK's retries off for one operation.
func noRetry(o *lambda.Options) { o.Retryer = sdkaws.NopRetryer{} }

// Invoke calls Lambda Invoke once (no SDK retry) with LogType Tail and
// returns the payload, the function error (X-Amz-Function-Error) and the
// parsed REPORT line.
func (p *Provider) Invoke(ctx context.Context, function string, payload []byte) (*providers.Reply, error) {
	in := &lambda.InvokeInput{
		FunctionName:   sdkaws.String(p.deployed(function)),
		InvocationType: types.InvocationTypeRequestResponse,
		LogType:        types.LogTypeTail,
		Payload:        payload,
	}
	if p.cfg.Qualifier != "" {
		in.Qualifier = sdkaws.String(p.cfg.Qualifier)
	}
	out, err := p.client.Invoke(ctx, in, noRetry)
	if err != nil {
		return nil, p.classify(ctx, err, "invoke "+function)
	}
	reply := &providers.Reply{
		StatusCode:    int(out.StatusCode),
		Body:          out.Payload,
		FunctionError: sdkaws.ToString(out.FunctionError),
	}
	if id, ok := awsmiddleware.GetRequestIDMetadata(out.ResultMetadata); ok {
		reply.RequestID = id
	}
	if out.LogResult != nil {
		rec, err := lambdalog.ParseLogResult(*out.LogResult)
		if err != nil {
			p.log.Debug("no REPORT record in Lambda log tail", "platform", p.name, "function", function, "err", err)
		} else {
			reply.Report = &rec.Report
		}
	}
	return reply, nil
}

// Preconnect opens n connections to the Lambda endpoint without invoking
// function: n GetFunction calls sent together, each holding its connection
// until all have their responses (httpx.Preopen, which sends them again
// while fewer than n connections went back to the pool), so that they use
// n distinct connections, which then wait in the idle pool for the next
// invocations. Invoke and the control plane share the regional endpoint
// lambda.<region>.amazonaws.com ("AWS Lambda endpoints and quotas", AWS
// General Reference), and GetFunction has its own quota of 100 requests per
// second, apart from the 15/s of the other control-plane calls ("Lambda
// quotas", Lambda Developer Guide).
func (p *Provider) Preconnect(ctx context.Context, function string, n int) error {
	name := sdkaws.String(p.deployed(function))
	return httpx.Preopen(ctx, n, func(ctx context.Context, g *httpx.Together) error {
		hold := func(o *lambda.Options) { o.HTTPClient = g.Client(o.HTTPClient) }
		if _, err := p.client.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: name}, hold); err != nil {
			return p.classify(ctx, err, "preconnect "+function)
		}
		return nil
	})
}

// ForceColdStart makes the next invocations of function cold: it reads
// the function's configuration, sets FB_COLD_TOKEN to a new UUID in its
// environment (keeping every other variable), updates the configuration
// with the RevisionId it read (see updateConfiguration) and waits with the
// SDK's FunctionUpdatedV2 waiter until the update is done (at most
// Config.ColdStartTimeout). Restore removes the token again.
func (p *Provider) ForceColdStart(ctx context.Context, function string) error {
	if q := p.cfg.Qualifier; q != "" && q != "$LATEST" {
		return &providers.Error{Platform: p.name, Kind: providers.KindHTTP,
			Message: fmt.Sprintf("force cold start: qualifier %q: configuration updates only reach $LATEST", q)}
	}
	ctx, cancel := context.WithTimeout(ctx, p.cfg.ColdStartTimeout)
	defer cancel()
	step := "force cold start " + function
	return p.updateConfiguration(ctx, p.deployed(function), step, func(conf *lambda.GetFunctionConfigurationOutput) (*lambda.UpdateFunctionConfigurationInput, error) {
		env, err := p.environment(conf, step)
		if err != nil {
			return nil, err
		}
		env[ColdTokenEnv] = uuid.NewString()
		return &lambda.UpdateFunctionConfigurationInput{Environment: &types.Environment{Variables: env}}, nil
	})
}

// environment returns a copy of the function's environment variables, or
// an error when Lambda could not read them (KMS): writing would wipe them.
func (p *Provider) environment(conf *lambda.GetFunctionConfigurationOutput, step string) (map[string]string, error) {
	env := map[string]string{}
	if conf.Environment != nil {
		if conf.Environment.Error != nil {
			return nil, &providers.Error{Platform: p.name, Kind: providers.KindAuth,
				Message: step + ": cannot read environment: " + sdkaws.ToString(conf.Environment.Error.ErrorCode)}
		}
		for k, v := range conf.Environment.Variables {
			env[k] = v
		}
	}
	return env, nil
}

// SetMemory sets the memory size of function (128 to 10240 MB on Lambda)
// with the RevisionId of the configuration it read, and waits until the
// update is done. It retires the function's execution environments, so
// the next invocation is cold. Restore puts the first size back.
func (p *Provider) SetMemory(ctx context.Context, function string, memoryMB int) error {
	if q := p.cfg.Qualifier; q != "" && q != "$LATEST" {
		return &providers.Error{Platform: p.name, Kind: providers.KindHTTP,
			Message: fmt.Sprintf("set memory: qualifier %q: configuration updates only reach $LATEST", q)}
	}
	ctx, cancel := context.WithTimeout(ctx, p.cfg.ColdStartTimeout)
	defer cancel()
	step := fmt.Sprintf("set memory of %s to %d MB", function, memoryMB)
	return p.updateConfiguration(ctx, p.deployed(function), step, func(*lambda.GetFunctionConfigurationOutput) (*lambda.UpdateFunctionConfigurationInput, error) {
		return &lambda.UpdateFunctionConfigurationInput{MemorySize: sdkaws.Int32(int32(memoryMB))}, nil
	})
}

func (p *Provider) waitUpdated(ctx context.Context, name *string) error {
	maxDelay := 10 * time.Second
	if p.cfg.ColdStartPollInterval > maxDelay {
		maxDelay = p.cfg.ColdStartPollInterval
	}
	w := lambda.NewFunctionUpdatedV2Waiter(p.client, func(o *lambda.FunctionUpdatedV2WaiterOptions) {
		o.MinDelay = p.cfg.ColdStartPollInterval
		o.MaxDelay = maxDelay
	})
	wait := p.cfg.ColdStartTimeout
	if dl, ok := ctx.Deadline(); ok {
		if left := time.Until(dl); left < wait {
			wait = left
		}
	}
	if wait <= 0 {
		return context.DeadlineExceeded
	}
	return w.Wait(ctx, &lambda.GetFunctionInput{FunctionName: name}, wait)
}

// authCodes are API error codes meaning bad or missing credentials.
var authCodes = map[string]bool{
	"UnrecognizedClientException": true, "InvalidSignatureException": true,
	"AccessDeniedException": true, "AccessDenied": true, "ExpiredTokenException": true,
	"ExpiredToken": true, "InvalidClientTokenId": true, "MissingAuthenticationToken": true,
	"IncompleteSignature": true, "SignatureDoesNotMatch": true, "KMSAccessDeniedException": true,
}

// throttleCodes are API error codes meaning the request was refused for
// concurrency or rate.
var throttleCodes = map[string]bool{
	"TooManyRequestsException": true, "ThrottlingException": true, "EC2ThrottledException": true,
}

// classify maps an SDK error to a *providers.Error.
func (p *Provider) classify(ctx context.Context, err error, what string) *providers.Error {
	e := &providers.Error{Platform: p.name, Kind: providers.KindTransport, Err: err}
	var (
		tooMany   *types.TooManyRequestsException
		notFound  *types.ResourceNotFoundException
		apiErr    smithy.APIError
		signErr   *v4.SigningError
		credErr   *credentialsError
		respErr   *awshttp.ResponseError
		sendErr   *smithyhttp.RequestSendError
		netErr    net.Error
		hasStatus bool
	)
	if errors.As(err, &respErr) {
		e.StatusCode = respErr.HTTPStatusCode()
		hasStatus = e.StatusCode != 0
	}
	switch {
	case errors.Is(ctx.Err(), context.Canceled) || errors.Is(err, context.Canceled):
		e.Kind = providers.KindCanceled
	case errors.Is(ctx.Err(), context.DeadlineExceeded) || errors.Is(err, context.DeadlineExceeded):
		e.Kind = providers.KindTimeout
	case errors.As(err, &tooMany):
		// Lambda API reference, Invoke, TooManyRequestsException (HTTP
		// 429): Reason says which limit refused the call (the account's
		// or a reserved concurrency, or an invocation rate), Retry-After
		// (RetryAfterSeconds) when to try again
		// (https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html#API_Invoke_Errors).
		e.Kind, e.Reason = providers.KindThrottled, string(tooMany.Reason)
		if e.Reason != "" {
			what += " (reason " + e.Reason
			if ra := sdkaws.ToString(tooMany.RetryAfterSeconds); ra != "" {
				what += ", retry after " + ra + " s"
			}
			what += ")"
		}
	case errors.As(err, &notFound):
		e.Kind = providers.KindNotFound
	case errors.As(err, &signErr) || errors.As(err, &credErr):
		e.Kind = providers.KindAuth
	case errors.As(err, &apiErr) && authCodes[apiErr.ErrorCode()]:
		e.Kind = providers.KindAuth
	case errors.As(err, &apiErr) && throttleCodes[apiErr.ErrorCode()]:
		e.Kind = providers.KindThrottled
	case hasStatus && e.StatusCode >= 400:
		e.Kind = httpx.ClassifyStatus(e.StatusCode)
	case errors.As(err, &netErr) && netErr.Timeout():
		e.Kind = providers.KindTimeout
	case errors.As(err, &sendErr):
		e.Kind = providers.KindTransport
	}
	if e.Kind == providers.KindTransport && hasStatus {
		e.Kind = providers.KindHTTP
	}
	e.Message = httpx.Redact(what+": "+err.Error(), p.secrets)
	return e
}

// String describes c with the secret access key and session token
// redacted, so printing or logging a Config never reveals them.
func (c Config) String() string {
	red := func(s string) string {
		if s == "" {
			return ""
		}
		return "[redacted]"
	}
	return fmt.Sprintf("{Region:%s Endpoint:%s Profile:%s AccessKeyID:%s SecretAccessKey:%s SessionToken:%s Credentials:%v Functions:%v Qualifier:%s Architecture:%s HTTPTimeout:%v MaxConnsPerHost:%d ColdStartTimeout:%v ColdStartPollInterval:%v Isolated:%v PlatformName:%s}",
		c.Region, c.Endpoint, c.Profile, c.AccessKeyID, red(c.SecretAccessKey), red(c.SessionToken), c.Credentials != nil,
		c.Functions, c.Qualifier, c.Architecture, c.HTTPTimeout, c.MaxConnsPerHost, c.ColdStartTimeout, c.ColdStartPollInterval, c.Isolated, c.PlatformName)
}

// GoString is String, for %#v.
func (c Config) GoString() string { return c.String() }

// String describes the provider without its credentials.
func (p *Provider) String() string { return p.name + ".Provider" + p.cfg.String() }
