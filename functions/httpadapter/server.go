// Package httpadapter serves lab functions over HTTP: the Azure Functions
// custom-handler contract (the host POSTs an invocation envelope to
// /{function} on FUNCTIONS_CUSTOMHANDLER_PORT) and plain HTTP POST for the
// OpenFaaS of-watchdog in http mode, Cloud Run, Knative, Lambda function
// URLs and the embedded local platform. It also performs nested calls by
// HTTP POST (Invoker).
//
// Errors are reported in the lab Response body and as the HTTP status:
// 400 for input and guard errors, 502 for failed nested calls, 504 for
// timeouts, 500 for anything else. In the Azure envelope the status is the
// status of the "res" output binding.
package httpadapter

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/faas-benchmarker/faas-benchmarker/functions/lab"
)

// Azure binding names used in every function.json: the HTTP trigger is
// "req", the HTTP output "res".
const (
	AzureTriggerBinding = "req"
	AzureOutputBinding  = "res"
)

// DefaultMaxBodyBytes bounds request bodies (Lambda's synchronous payload
// limit).
const DefaultMaxBodyBytes = 6 << 20

// requestIDHeaders are the platform request-id headers, in order of
// preference: Azure Functions, OpenFaaS, generic proxies.
var requestIDHeaders = []string{"X-Azure-Functions-InvocationId", "X-Call-Id", "X-Request-Id", "Function-Execution-Id"}

// Config configures NewServer.
type Config struct {
	// Handlers are the lab functions served, by their Function() name.
	// Required.
	Handlers []*lab.Handler
	// Default is the function served for paths that name no served
	// function ("/"). "" means the first handler.
	Default string
	// AzureEnvelope makes POST /{function} an Azure custom-handler
	// invocation envelope (set when FUNCTIONS_CUSTOMHANDLER_PORT is).
	// Paths /api/{function} stay plain HTTP either way, which also
	// serves Azure's enableForwardingHttpRequest mode.
	AzureEnvelope bool
	// Timeout bounds one invocation; 0 means lab.DefaultTimeout.
	Timeout time.Duration
	// MaxBodyBytes bounds request bodies; 0 means DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// Logger receives errors; nil means slog.Default().
	Logger *slog.Logger
}

type server struct {
	cfg      Config
	handlers map[string]*lab.Handler
	def      *lab.Handler
}

// NewServer returns the HTTP handler serving cfg.Handlers. Routes:
// GET /healthz answers 200 without invoking anything; in Azure mode
// POST /{function} takes the custom-handler envelope; every other GET or
// POST invokes the function named by the last path segment, or the
// default function when that segment names none.
func NewServer(cfg Config) (http.Handler, error) {
	if len(cfg.Handlers) == 0 {
		return nil, errors.New("httpadapter: no handlers")
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = lab.DefaultTimeout
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	s := &server{cfg: cfg, handlers: map[string]*lab.Handler{}}
	for _, h := range cfg.Handlers {
		s.handlers[h.Function()] = h
	}
	s.def = cfg.Handlers[0]
	if cfg.Default != "" {
		h, ok := s.handlers[cfg.Default]
		if !ok {
			return nil, fmt.Errorf("httpadapter: default function %q is not served", cfg.Default)
		}
		s.def = h
	}
	return s, nil
}

func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	defer func() {
		if p := recover(); p != nil {
			s.cfg.Logger.Error("httpadapter: panic", "panic", p)
			http.Error(w, "internal error", http.StatusInternalServerError)
		}
	}()
	path := strings.Trim(r.URL.Path, "/")
	if path == "healthz" {
		w.WriteHeader(http.StatusOK)
		_, _ = io.WriteString(w, "ok\n")
		return
	}
	if r.Method != http.MethodPost && r.Method != http.MethodGet {
		w.Header().Set("Allow", "GET, POST")
		writeJSONError(w, http.StatusMethodNotAllowed, "method "+r.Method+" not allowed")
		return
	}
	segments := strings.Split(path, "/")
	last := segments[len(segments)-1]
	h, served := s.handlers[last]
	if !served && last != "" && lab.NormalizeName(last) != last {
		h, served = s.handlers[lab.NormalizeName(last)]
	}
	if !served && isLabName(lab.NormalizeName(last)) {
		writeJSONError(w, http.StatusNotFound, fmt.Sprintf("function %q is not served by this binary", last))
		return
	}
	if s.cfg.AzureEnvelope && served && len(segments) == 1 && r.Method == http.MethodPost {
		s.serveAzure(w, r, h)
		return
	}
	if !served {
		h = s.def
	}
	body, err := readBody(w, r, s.cfg.MaxBodyBytes)
	if err != nil {
		writeJSONError(w, http.StatusRequestEntityTooLarge, err.Error())
		return
	}
	status, out := s.invoke(r.Context(), h, requestID(r.Header), body)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(out)
}

// invoke runs one invocation with the configured timeout and returns the
// HTTP status and the Response JSON.
func (s *server) invoke(ctx context.Context, h *lab.Handler, reqID string, body []byte) (int, []byte) {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	resp := h.Handle(ctx, reqID, body)
	out, err := json.Marshal(resp)
	if err != nil {
		s.cfg.Logger.Error("httpadapter: encoding response", "err", err)
		return http.StatusInternalServerError, []byte(`{"error":{"kind":"internal","message":"encoding the response failed"}}`)
	}
	return StatusFor(resp.Error), out
}

// StatusFor maps a lab error to the HTTP status reported with it (see
// lab.HTTPStatus).
func StatusFor(e *lab.Error) int { return lab.HTTPStatus(e) }

func isLabName(n string) bool {
	for _, l := range lab.Names() {
		if n == l {
			return true
		}
	}
	return false
}

func requestID(h http.Header) string {
	for _, k := range requestIDHeaders {
		if v := h.Get(k); v != "" {
			return v
		}
	}
	return uuid.NewString()
}

func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		return nil, fmt.Errorf("reading request body: %w", err)
	}
	return b, nil
}

func writeJSONError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	b, _ := json.Marshal(map[string]any{"error": lab.Error{Kind: lab.ErrInput, Message: msg}})
	_, _ = w.Write(b)
}

// azureInvokeRequest is the custom-handler request envelope.
type azureInvokeRequest struct {
	Data     map[string]json.RawMessage `json:"Data"`
	Metadata map[string]json.RawMessage `json:"Metadata"`
}

// azureHTTPRequest is the HTTP trigger's data in the envelope.
type azureHTTPRequest struct {
	URL     string                     `json:"Url"`
	Method  string                     `json:"Method"`
	Headers map[string]json.RawMessage `json:"Headers"`
	Body    json.RawMessage            `json:"Body"`
}

// AzureHTTPResponse is the "res" output binding value.
type AzureHTTPResponse struct {
	StatusCode int               `json:"statusCode"`
	Body       string            `json:"body"`
	Headers    map[string]string `json:"headers"`
}

// AzureInvokeResponse is the custom-handler response envelope.
type AzureInvokeResponse struct {
	Outputs     map[string]AzureHTTPResponse `json:"Outputs"`
	Logs        []string                     `json:"Logs"`
	ReturnValue any                          `json:"ReturnValue"`
}

func (s *server) serveAzure(w http.ResponseWriter, r *http.Request, h *lab.Handler) {
	raw, err := readBody(w, r, s.cfg.MaxBodyBytes)
	if err != nil {
		writeJSONError(w, http.StatusRequestEntityTooLarge, err.Error())
		return
	}
	var env azureInvokeRequest
	if err := json.Unmarshal(raw, &env); err != nil {
		writeJSONError(w, http.StatusBadRequest, "malformed custom-handler envelope: "+err.Error())
		return
	}
	var hr azureHTTPRequest
	if t, ok := env.Data[AzureTriggerBinding]; ok {
		if err := json.Unmarshal(t, &hr); err != nil {
			writeJSONError(w, http.StatusBadRequest, "malformed HTTP trigger data: "+err.Error())
			return
		}
	}
	reqID := r.Header.Get("X-Azure-Functions-InvocationId")
	if reqID == "" {
		reqID = headerFromEnvelope(hr.Headers, requestIDHeaders)
	}
	if reqID == "" {
		reqID = uuid.NewString()
	}
	status, out := s.invoke(r.Context(), h, reqID, envelopeBody(hr.Body))
	resp := AzureInvokeResponse{
		Outputs: map[string]AzureHTTPResponse{AzureOutputBinding: {
			StatusCode: status,
			Body:       string(out),
			Headers:    map[string]string{"Content-Type": "application/json"},
		}},
		Logs: []string{},
	}
	b, err := json.Marshal(resp)
	if err != nil {
		writeJSONError(w, http.StatusInternalServerError, "encoding envelope: "+err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
}

// envelopeBody returns the HTTP body carried in the envelope: the host
// sends it as a JSON string, or (for JSON bodies, in some host versions)
// as the parsed JSON value itself.
func envelopeBody(raw json.RawMessage) []byte {
	t := bytes.TrimSpace(raw)
	if len(t) == 0 || bytes.Equal(t, []byte("null")) {
		return nil
	}
	if t[0] == '"' {
		var s string
		if err := json.Unmarshal(t, &s); err == nil {
			return []byte(s)
		}
	}
	return t
}

// headerFromEnvelope finds the first of names in envelope headers, whose
// values are strings or lists of strings.
func headerFromEnvelope(hs map[string]json.RawMessage, names []string) string {
	for _, n := range names {
		for k, v := range hs {
			if !strings.EqualFold(k, n) {
				continue
			}
			var one string
			if json.Unmarshal(v, &one) == nil && one != "" {
				return one
			}
			var many []string
			if json.Unmarshal(v, &many) == nil && len(many) > 0 {
				return many[0]
			}
		}
	}
	return ""
}

// RunConfig configures Run.
type RunConfig struct {
	// Addr is the listen address ("127.0.0.1:8080", ":8080", port 0 for
	// any free port).
	Addr string
	// Handler is the server from NewServer.
	Handler http.Handler
	// Logger receives the "listening" line (with the bound address) and
	// errors; nil means slog.Default().
	Logger *slog.Logger
}

// Run listens on cfg.Addr and serves until ctx is cancelled, then shuts
// down gracefully (in-flight invocations get up to 10 s). It logs the
// bound address ("lab http adapter listening", addr=...) once listening.
func Run(ctx context.Context, cfg RunConfig) error {
	logger := cfg.Logger
	if logger == nil {
		logger = slog.Default()
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("httpadapter: listen %s: %w", cfg.Addr, err)
	}
	srv := &http.Server{Handler: cfg.Handler, ReadHeaderTimeout: 30 * time.Second}
	logger.Info("lab http adapter listening", "addr", ln.Addr().String())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("httpadapter: serve: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("httpadapter: shutdown: %w", err)
	}
	return nil
}
