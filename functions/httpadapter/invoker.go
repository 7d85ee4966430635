package httpadapter

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/faas-benchmarker/faas-benchmarker/functions/lab"
)

// maxNestedResponse bounds a nested call's response body.
const maxNestedResponse = 32 << 20

// InvokerConfig configures NewInvoker.
type InvokerConfig struct {
	// URLTemplate is the nested call URL with "{name}" replaced by the
	// lab name, e.g. "https://fb-run42-{name}.azurewebsites.net/api/{name}"
	// or "http://gateway:8080/function/fb-run42-{name}". Required.
	URLTemplate string
	// Keys maps lab names to Azure function keys, sent as x-functions-key.
	Keys map[string]string
	// BasicUser and BasicPassword, when set, are sent as HTTP basic auth
	// (the OpenFaaS gateway).
	BasicUser, BasicPassword string
	// Client is the HTTP client; nil means one shared client with a tuned
	// transport, created once.
	Client *http.Client
}

// Invoker calls other lab functions by HTTP POST. Safe for concurrent use;
// connections are reused.
type Invoker struct {
	cfg InvokerConfig
}

var _ lab.Invoker = (*Invoker)(nil)

// NewInvoker checks cfg and returns an Invoker.
func NewInvoker(cfg InvokerConfig) (*Invoker, error) {
	if cfg.URLTemplate == "" {
		return nil, errors.New("httpadapter: nested URL template is empty")
	}
	u, err := url.Parse(strings.ReplaceAll(cfg.URLTemplate, "{name}", "function1"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("httpadapter: nested URL template %q is not an http(s) URL", cfg.URLTemplate)
	}
	if cfg.Client == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.MaxIdleConns = 256
		tr.MaxIdleConnsPerHost = 64
		tr.IdleConnTimeout = 90 * time.Second
		cfg.Client = &http.Client{Transport: tr}
	}
	return &Invoker{cfg: cfg}, nil
}

// Invoke POSTs payload to the URL of fn. A non-200 status returns the
// body (the callee's lab Response, when it sent one) with an error. No
// retries.
func (i *Invoker) Invoke(ctx context.Context, fn string, payload []byte) ([]byte, error) {
	u := strings.ReplaceAll(i.cfg.URLTemplate, "{name}", url.PathEscape(fn))
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(payload))
	if err != nil {
		return nil, fmt.Errorf("http invoke %s: %w", fn, err)
	}
	req.Header.Set("Content-Type", "application/json")
	if k := i.cfg.Keys[fn]; k != "" {
		req.Header.Set("x-functions-key", k)
	}
	if i.cfg.BasicUser != "" {
		req.SetBasicAuth(i.cfg.BasicUser, i.cfg.BasicPassword)
	}
	res, err := i.cfg.Client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("http invoke %s: %w", fn, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, maxNestedResponse))
	if err != nil {
		return body, fmt.Errorf("http invoke %s: reading response: %w", fn, err)
	}
	if res.StatusCode != http.StatusOK {
		return body, fmt.Errorf("http invoke %s: HTTP %d", fn, res.StatusCode)
	}
	return body, nil
}
