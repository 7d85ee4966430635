// Package httpx is the HTTP plumbing shared by the HTTP-based providers
// (azure, openfaas, http) and the aws provider's transport: one tuned
// client per provider instance, a POST that reads and closes the whole
// body, and the classification of failures into *providers.Error with
// secrets removed from every message.
package httpx

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/faas-benchmarker/faas-benchmarker/providers"
)

// Defaults for ClientOptions.
const (
	// DefaultMaxConnsPerHost is the number of idle connections kept per
	// host. It is the engine's default bound on requests in flight
	// (engine.DefaultMaxInFlight), so the connection of every request the
	// engine may have outstanding goes back to the pool. A smaller pool
	// closes the connections of a burst beyond it and dials them again
	// under load: an open loop at 10,000/s on 2 cores whose target stalled
	// for 300 ms never recovered with a pool of 1,024 (3 of 3 runs: due
	// requests dropped, 5,900–7,200/s achieved) and recovered with this one
	// (3 of 3; docs/performance.md, "Recovering from a stall").
	DefaultMaxConnsPerHost = 10000
	// DefaultTimeout bounds one whole request (connect, send, wait, read).
	DefaultTimeout = 5 * time.Minute
	// MaxBodyBytes bounds a response body; larger bodies are an error.
	MaxBodyBytes = 32 << 20
)

// ClientOptions tunes NewClient.
type ClientOptions struct {
	// Timeout bounds one whole request; 0 means DefaultTimeout.
	Timeout time.Duration
	// MaxConnsPerHost is the idle-connection pool size per host; 0 means
	// DefaultMaxConnsPerHost.
	MaxConnsPerHost int
}

// NewClient returns an HTTP client with its own transport tuned for many
// concurrent requests to few hosts. The transport speaks HTTP/1.1 only, so
// each in-flight request has its own connection and connection setup shows
// up per request (HTTP/2 would multiplex every request over one
// connection). Redirects are not followed. Create one per provider and share it; it is safe for
// concurrent use.
func NewClient(o ClientOptions) *http.Client {
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.MaxConnsPerHost <= 0 {
		o.MaxConnsPerHost = DefaultMaxConnsPerHost
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	TuneTransport(tr, o.MaxConnsPerHost)
	return &http.Client{
		Transport: tr,
		Timeout:   o.Timeout,
		// Never follow redirects: a 301/302 would turn the POST into a
		// GET, a followed redirect would be timed as one invocation, and
		// custom credential headers (x-functions-key) would be sent to
		// the new host.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// TuneTransport sizes tr's idle pool for maxConnsPerHost concurrent
// connections per host (0 means DefaultMaxConnsPerHost), removes the cap on
// connections per host, restricts it to HTTP/1.1 (see NewClient), turns
// off its transparent gzip (a response is timed and kept as the function
// wrote it; see NewEndpoint) and makes the connections it opens time their
// own setup (providers.ConnSetup).
func TuneTransport(tr *http.Transport, maxConnsPerHost int) {
	if maxConnsPerHost <= 0 {
		maxConnsPerHost = DefaultMaxConnsPerHost
	}
	tr.MaxIdleConns = maxConnsPerHost * 4
	tr.MaxIdleConnsPerHost = maxConnsPerHost
	tr.MaxConnsPerHost = 0
	tr.IdleConnTimeout = 90 * time.Second
	tr.ForceAttemptHTTP2 = false
	tr.DisableCompression = true
	p := new(http.Protocols)
	p.SetHTTP1(true)
	tr.Protocols = p
	timeDials(tr)
}

// Caller sends requests for one provider. It is safe for concurrent use
// when its fields are not modified after first use.
type Caller struct {
	// Platform prefixes every error message.
	Platform string
	// Client is the provider's shared client (see NewClient). Requests go
	// straight to its Transport, bounded by its Timeout through the
	// request's context; as NewClient configures, redirects are never
	// followed, and its cookie jar and redirect policy are not used.
	// Skipping http.Client's redirect machinery saves the per-request
	// copies of the header and URL it makes for redirects that never
	// happen here.
	Client *http.Client
	// Secrets are removed from every error message (keys, passwords,
	// header values).
	Secrets []string
	// RequestIDHeaders are the response headers read, in order, for
	// Reply.RequestID, in canonical form (textproto.CanonicalMIMEHeaderKey:
	// "X-Ms-Request-Id"), so that reading them is a map lookup each.
	RequestIDHeaders []string
}

// Endpoint is a prepared request target: the method, the parsed URL and the
// complete header set (Content-Type included), built once by NewEndpoint and
// shared by every request sent to it, so that sending costs no URL parsing
// and no header copying. An Endpoint is immutable and safe for concurrent
// use; the requests made from it never modify its header or URL (net/http's
// client and transport only read them).
type Endpoint struct {
	tmpl   *http.Request // no context, no body
	rawURL string
	errOp  string // "Post", "Get": the operation in transport error messages
}

// NewEndpoint prepares method requests to rawURL carrying header (copied);
// with jsonBody, Content-Type is application/json unless header sets one,
// and Accept-Encoding is identity unless header sets one.
// A URL that cannot be parsed is a KindTransport *providers.Error.
func (c *Caller) NewEndpoint(method, rawURL string, header http.Header, jsonBody bool) (*Endpoint, error) {
	tmpl, err := http.NewRequest(method, rawURL, nil)
	if err != nil {
		return nil, &providers.Error{Platform: c.Platform, Kind: providers.KindTransport,
			Message: "bad request URL " + c.redact(SafeURL(rawURL))}
	}
	for k, vs := range header {
		for _, v := range vs {
			tmpl.Header.Add(k, v)
		}
	}
	if u := tmpl.URL.User; u != nil && tmpl.Header.Get("Authorization") == "" {
		// What http.Client does for user info in the URL.
		pw, _ := u.Password()
		tmpl.SetBasicAuth(u.Username(), pw)
	}
	if jsonBody && tmpl.Header.Get("Content-Type") == "" {
		tmpl.Header.Set("Content-Type", "application/json")
	}
	if tmpl.Header.Get("Accept-Encoding") == "" {
		// The response as the function wrote it: no decompression inside
		// the measured latency, the body's size as sent. Without any
		// Accept-Encoding a server may choose a coding (RFC 9110 §12.5.3);
		// identity says none. The AWS SDK sends the same for Lambda.
		tmpl.Header.Set("Accept-Encoding", "identity")
	}
	return &Endpoint{tmpl: tmpl, rawURL: rawURL, errOp: tmpl.Method[:1] + strings.ToLower(tmpl.Method[1:])}, nil
}

// URL returns the URL the endpoint was prepared for.
func (e *Endpoint) URL() string { return e.rawURL }

// request returns a new request to e carrying ctx and body (nil: none).
// Only the request itself and the body reader are allocated.
func (e *Endpoint) request(ctx context.Context, body []byte) *http.Request {
	req := e.tmpl.WithContext(ctx)
	switch {
	case body == nil:
	case len(body) == 0:
		req.Body = http.NoBody
		req.GetBody = func() (io.ReadCloser, error) { return http.NoBody, nil }
	default:
		// A *bytes.Reader behind io.NopCloser is what net/http recognises
		// as an in-memory body, written together with the headers in one
		// write; GetBody lets the transport resend a request that failed
		// on a stale keep-alive connection before anything was written.
		req.Body = io.NopCloser(bytes.NewReader(body))
		req.ContentLength = int64(len(body))
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	}
	return req
}

// Post sends payload as a JSON POST to rawURL with the extra headers and
// returns the reply, reading and closing the whole body. The request
// carries ctx, so an httptrace.ClientTrace in ctx observes it. Responses
// with a status of 300 or more are failures: the function's own (see
// LabFunctionError) or classified by ClassifyStatus. Callers that post to
// the same URL repeatedly prepare it once with NewEndpoint and use PostTo.
func (c *Caller) Post(ctx context.Context, rawURL string, header http.Header, payload []byte) (*providers.Reply, error) {
	ep, err := c.NewEndpoint(http.MethodPost, rawURL, header, true)
	if err != nil {
		return nil, err
	}
	return c.PostTo(ctx, ep, payload)
}

// PostTo is Post to a prepared endpoint (made with method POST and
// jsonBody); a nil payload sends no body.
func (c *Caller) PostTo(ctx context.Context, ep *Endpoint, payload []byte) (*providers.Reply, error) {
	status, h, body, err := c.DoTo(ctx, ep, payload)
	if err != nil {
		return nil, err
	}
	reply := &providers.Reply{StatusCode: status, Body: body, RequestID: c.requestID(h)}
	if status >= 300 {
		if fe := LabFunctionError(status, body); status >= 400 && fe != "" {
			reply.FunctionError = fe
			return reply, nil
		}
		return nil, c.StatusError(status, body)
	}
	return reply, nil
}

// Do sends one request and returns the status, headers and whole body. A
// failure to send or read is classified by TransportError; the status is
// not interpreted.
func (c *Caller) Do(ctx context.Context, method, rawURL string, header http.Header, body []byte) (int, http.Header, []byte, error) {
	ep, err := c.NewEndpoint(method, rawURL, header, body != nil)
	if err != nil {
		return 0, nil, nil, err
	}
	return c.DoTo(ctx, ep, body)
}

// DoTo is Do to a prepared endpoint; body nil sends none.
func (c *Caller) DoTo(ctx context.Context, ep *Endpoint, body []byte) (int, http.Header, []byte, error) {
	return c.doTo(ctx, ep, body, nil)
}

// doTo is DoTo; a request of a group g (non-nil) arrives at g before its
// body is read.
func (c *Caller) doTo(ctx context.Context, ep *Endpoint, body []byte, g *Together) (int, http.Header, []byte, error) {
	if t := c.Client.Timeout; t > 0 {
		// http.Client.Timeout's bound, unless ctx already ends sooner.
		if dl, ok := ctx.Deadline(); !ok || time.Until(dl) > t {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, t)
			defer cancel() // after the body is read: the bound covers it
		}
	}
	rt := c.Client.Transport
	if rt == nil {
		rt = http.DefaultTransport
	}
	resp, err := rt.RoundTrip(ep.request(ctx, body))
	if g != nil {
		g.Arrive(ctx)
	}
	if err != nil {
		// Wrapped as http.Client would, for the same messages.
		return 0, nil, nil, c.TransportError(ctx, &url.Error{Op: ep.errOp, URL: ep.rawURL, Err: err})
	}
	defer resp.Body.Close()
	data, err := readBody(resp)
	if err != nil {
		return 0, nil, nil, c.TransportError(ctx, err)
	}
	if len(data) > MaxBodyBytes {
		return 0, nil, nil, &providers.Error{Platform: c.Platform, Kind: providers.KindHTTP, StatusCode: resp.StatusCode,
			Message: fmt.Sprintf("response body larger than %d bytes", MaxBodyBytes)}
	}
	return resp.StatusCode, resp.Header, data, nil
}

// readBody reads the whole body: into one buffer of exactly the announced
// Content-Length when there is one (no growing and copying), otherwise up
// to MaxBodyBytes+1 bytes, so that a larger body shows as too large.
func readBody(resp *http.Response) ([]byte, error) {
	if n := resp.ContentLength; n >= 0 && n <= MaxBodyBytes {
		buf := make([]byte, n)
		if _, err := io.ReadFull(resp.Body, buf); err != nil {
			return nil, err
		}
		return buf, nil
	}
	return io.ReadAll(io.LimitReader(resp.Body, MaxBodyBytes+1))
}

func (c *Caller) requestID(h http.Header) string {
	for _, name := range c.RequestIDHeaders {
		if vs := h[name]; len(vs) > 0 && vs[0] != "" { // h.Get without canonicalising name
			return vs[0]
		}
	}
	return ""
}

// TransportError classifies a failure to send a request or read its
// response: the caller's cancellation is KindCanceled, a deadline or client
// timeout KindTimeout, anything else KindTransport. URLs in the message
// and in the wrapped error lose their query and user info.
func (c *Caller) TransportError(ctx context.Context, err error) *providers.Error {
	kind := providers.KindTransport
	var nerr net.Error
	switch {
	case errors.Is(ctx.Err(), context.Canceled) || errors.Is(err, context.Canceled):
		kind = providers.KindCanceled
	case errors.Is(ctx.Err(), context.DeadlineExceeded) || errors.Is(err, context.DeadlineExceeded):
		kind = providers.KindTimeout
	case errors.As(err, &nerr) && nerr.Timeout():
		kind = providers.KindTimeout
	}
	var uerr *url.Error
	if errors.As(err, &uerr) {
		err = &url.Error{Op: uerr.Op, URL: SafeURL(uerr.URL), Err: uerr.Err}
	}
	return &providers.Error{Platform: c.Platform, Kind: kind, Message: c.redact(err.Error()), Err: redactedError{err, c}}
}

// StatusError classifies an unexpected HTTP status (see ClassifyStatus)
// and keeps a short, redacted snippet of the body in the message.
func (c *Caller) StatusError(status int, body []byte) *providers.Error {
	msg := http.StatusText(status)
	if s := snippet(body); s != "" {
		msg += ": " + s
	}
	return &providers.Error{Platform: c.Platform, Kind: ClassifyStatus(status), StatusCode: status, Message: c.redact(msg)}
}

// ClassifyStatus maps an unexpected HTTP status (3xx or above) to a
// failure kind: 429 throttled, 401/403 auth, 404 not found, 408/504
// timeout, anything else (redirects included) KindHTTP.
func ClassifyStatus(status int) providers.Kind {
	switch status {
	case http.StatusTooManyRequests:
		return providers.KindThrottled
	case http.StatusUnauthorized, http.StatusForbidden:
		return providers.KindAuth
	case http.StatusNotFound:
		return providers.KindNotFound
	case http.StatusRequestTimeout, http.StatusGatewayTimeout:
		return providers.KindTimeout
	}
	return providers.KindHTTP
}

// LabFunctionError returns a non-empty Reply.FunctionError when a response
// with a failure status comes from the function itself, and "" otherwise.
// Two bodies count as the function's own: a lab response (a JSON object with
// a schema_version and a non-null error) and a Lambda runtime error object
// ({"errorType": ..., "errorMessage": ...}, as a Lambda-runtime function
// behind an HTTP route returns). Such replies keep their body.
func LabFunctionError(status int, body []byte) string {
	var r struct {
		SchemaVersion *int `json:"schema_version"`
		Error         *struct {
			Kind string `json:"kind"`
		} `json:"error"`
		ErrorType    *string `json:"errorType"`
		ErrorMessage *string `json:"errorMessage"`
	}
	if json.Unmarshal(body, &r) != nil {
		return ""
	}
	switch {
	case r.SchemaVersion != nil && r.Error != nil && r.Error.Kind != "":
		return fmt.Sprintf("HTTP %d: %s", status, r.Error.Kind)
	case r.SchemaVersion != nil && r.Error != nil:
		return fmt.Sprintf("HTTP %d", status)
	case r.ErrorType != nil && *r.ErrorType != "" && r.ErrorMessage != nil:
		return fmt.Sprintf("HTTP %d: %s", status, *r.ErrorType)
	}
	return ""
}

// SafeURL returns rawURL without user info, query and fragment, for
// messages (Azure function URLs may carry a key in ?code=).
func SafeURL(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "<unparsable URL>"
	}
	u.User = nil
	u.RawQuery = ""
	u.Fragment = ""
	return u.String()
}

func snippet(body []byte) string {
	s := strings.TrimSpace(string(body))
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	return strings.ToValidUTF8(s, "?")
}

func (c *Caller) redact(s string) string {
	return Redact(s, c.Secrets)
}

// Redact replaces every non-empty secret in s with "[redacted]".
func Redact(s string, secrets []string) string {
	for _, sec := range secrets {
		if sec != "" {
			s = strings.ReplaceAll(s, sec, "[redacted]")
		}
	}
	return s
}

// redactedError wraps an error so that its message is redacted while
// errors.Is/As still reach the original.
type redactedError struct {
	err error
	c   *Caller
}

func (r redactedError) Error() string { return r.c.redact(r.err.Error()) }
func (r redactedError) Unwrap() error { return r.err }

// CheckURL reports whether rawURL is an absolute http or https URL with a
// host. With secure set, plain http is accepted only for loopback hosts
// (tests, local gateways), so that keys and passwords never cross a network
// in clear text.
func CheckURL(rawURL string, secure bool) error {
	u, err := url.Parse(rawURL)
	if err != nil {
		return fmt.Errorf("invalid URL %q", SafeURL(rawURL))
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return fmt.Errorf("URL %q must be absolute http(s)", SafeURL(rawURL))
	}
	if secure && u.Scheme == "http" && !IsLoopback(u.Hostname()) {
		return fmt.Errorf("URL %q must use https (credentials are sent with each request)", SafeURL(rawURL))
	}
	return nil
}

// IsLoopback reports whether host is localhost or a loopback IP address.
func IsLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// ExpandTemplate replaces "{name}" in tmpl with the path-escaped name.
func ExpandTemplate(tmpl, name string) string {
	return strings.ReplaceAll(tmpl, "{name}", url.PathEscape(name))
}
