package httpx

import (
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/faas-benchmarker/faas-benchmarker/engine"
	"github.com/faas-benchmarker/faas-benchmarker/providers"
)

func TestClassifyStatus(t *testing.T) {
	tests := []struct {
		status int
		want   providers.Kind
	}{
		{429, providers.KindThrottled},
		{401, providers.KindAuth},
		{403, providers.KindAuth},
		{404, providers.KindNotFound},
		{408, providers.KindTimeout},
		{504, providers.KindTimeout},
		{400, providers.KindHTTP},
		{500, providers.KindHTTP},
		{502, providers.KindHTTP},
		{503, providers.KindHTTP},
	}
	for _, tt := range tests {
		if got := ClassifyStatus(tt.status); got != tt.want {
			t.Errorf("ClassifyStatus(%d) = %q, want %q", tt.status, got, tt.want)
		}
	}
}

func TestLabFunctionError(t *testing.T) {
	tests := []struct {
		name   string
		status int
		body   string
		want   string
	}{
		{"lab error with kind", 500, `{"schema_version":1,"function":"function1","error":{"kind":"workload","message":"panic"}}`, "HTTP 500: workload"},
		{"lab input error", 400, `{"schema_version":1,"error":{"kind":"input","message":"bad sleep"}}`, "HTTP 400: input"},
		{"lab error without kind", 502, `{"schema_version":1,"error":{}}`, "HTTP 502"},
		{"lab body without error", 500, `{"schema_version":1,"error":null}`, ""},
		{"lambda error object", 500, `{"errorMessage":"{\"schema_version\":1}","errorType":"input"}`, "HTTP 500: input"},
		{"lambda error object without type", 500, `{"errorMessage":"x","errorType":""}`, ""},
		{"not a lab body", 500, `{"error":{"kind":"x"}}`, ""},
		{"plain text", 502, `upstream connect error`, ""},
		{"empty", 500, ``, ""},
	}
	for _, tt := range tests {
		if got := LabFunctionError(tt.status, []byte(tt.body)); got != tt.want {
			t.Errorf("%s: LabFunctionError = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestCheckURL(t *testing.T) {
	tests := []struct {
		url    string
		secure bool
		ok     bool
	}{
		{"https://app.azurewebsites.net/api/f", true, true},
		{"http://127.0.0.1:8080/api/f", true, true},
		{"http://localhost:8080", true, true},
		{"http://[::1]:8080", true, true},
		{"http://app.example.com/api/f", true, false},
		{"http://app.example.com/api/f", false, true},
		{"ftp://x/y", false, false},
		{"/relative", false, false},
		{"://bad", false, false},
	}
	for _, tt := range tests {
		if err := CheckURL(tt.url, tt.secure); (err == nil) != tt.ok {
			t.Errorf("CheckURL(%q, %v) = %v, want ok=%v", tt.url, tt.secure, err, tt.ok)
		}
	}
}

func TestSafeURL(t *testing.T) {
	got := SafeURL("https://user:pw@host/api/f?code=SECRET#frag")
	if got != "https://host/api/f" {
		t.Errorf("SafeURL = %q", got)
	}
}

func TestPost(t *testing.T) {
	const secret = "top-secret-key"
	tests := []struct {
		name      string
		status    int
		body      string
		wantKind  providers.Kind // "" = reply
		wantFnErr string
	}{
		{"ok", 200, `{"schema_version":1,"error":null}`, "", ""},
		{"lab function failure kept", 500, `{"schema_version":1,"error":{"kind":"workload","message":"x"}}`, "", "HTTP 500: workload"},
		{"throttled", 429, `Too Many Requests`, providers.KindThrottled, ""},
		{"auth echoing the key", 401, `bad key ` + secret, providers.KindAuth, ""},
		{"not found", 404, `no such function`, providers.KindNotFound, ""},
		{"gateway error", 502, `bad gateway`, providers.KindHTTP, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.Header.Get("Content-Type") != "application/json" || r.Header.Get("X-Extra") != "1" || r.Method != http.MethodPost {
					t.Errorf("request %s with headers %v", r.Method, r.Header)
				}
				w.Header().Set("X-Call-Id", "call-1")
				w.WriteHeader(tt.status)
				w.Write([]byte(tt.body))
			}))
			defer srv.Close()
			c := &Caller{Platform: "test", Client: NewClient(ClientOptions{}), Secrets: []string{secret}, RequestIDHeaders: []string{"X-Call-Id"}}
			reply, err := c.Post(context.Background(), srv.URL+"/f?code="+secret, http.Header{"X-Extra": {"1"}}, []byte(`{}`))
			if tt.wantKind == "" {
				if err != nil {
					t.Fatalf("Post: %v", err)
				}
				if reply.StatusCode != tt.status || string(reply.Body) != tt.body || reply.FunctionError != tt.wantFnErr || reply.RequestID != "call-1" {
					t.Errorf("reply = %+v", reply)
				}
				return
			}
			var pe *providers.Error
			if !errors.As(err, &pe) || pe.Kind != tt.wantKind || pe.StatusCode != tt.status {
				t.Fatalf("error = %#v, want kind %s status %d", err, tt.wantKind, tt.status)
			}
			if !strings.HasPrefix(err.Error(), "test: ") || strings.Contains(err.Error(), secret) {
				t.Errorf("message = %q", err.Error())
			}
		})
	}
}

// TestRedirectNotFollowed: a redirect is a failure, never followed, and
// the credential header never reaches the redirect target.
func TestRedirectNotFollowed(t *testing.T) {
	for _, status := range []int{301, 302, 307, 308} {
		hits := 0
		target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits++ }))
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, target.URL+"/elsewhere", status)
		}))
		c := &Caller{Platform: "test", Client: NewClient(ClientOptions{})}
		_, err := c.Post(context.Background(), srv.URL, http.Header{"X-Functions-Key": {"k"}}, []byte(`{}`))
		var pe *providers.Error
		if !errors.As(err, &pe) || pe.Kind != providers.KindHTTP || pe.StatusCode != status {
			t.Errorf("%d: error = %v", status, err)
		}
		if hits != 0 {
			t.Errorf("%d: redirect was followed", status)
		}
		srv.Close()
		target.Close()
	}
}

func TestTransportErrorRedacts(t *testing.T) {
	const secret = "key-in-query"
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	c := &Caller{Platform: "test", Client: NewClient(ClientOptions{}), Secrets: []string{"pw"}}
	_, err := c.Post(context.Background(), strings.Replace(url, "http://", "http://user:pw@", 1)+"/f?code="+secret, nil, []byte(`{}`))
	if providers.KindOf(err) != providers.KindTransport {
		t.Fatalf("kind = %q (%v)", providers.KindOf(err), err)
	}
	for _, e := range []error{err, errors.Unwrap(err)} {
		if strings.Contains(e.Error(), secret) || strings.Contains(e.Error(), ":pw@") {
			t.Errorf("error leaks a secret: %q", e.Error())
		}
	}
}

func TestBodyTooLarge(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		chunk := make([]byte, 1<<20)
		for i := 0; i <= MaxBodyBytes>>20; i++ {
			w.Write(chunk)
		}
	}))
	defer srv.Close()
	c := &Caller{Platform: "test", Client: NewClient(ClientOptions{})}
	_, err := c.Post(context.Background(), srv.URL, nil, []byte(`{}`))
	if providers.KindOf(err) != providers.KindHTTP || !strings.Contains(err.Error(), "larger than") {
		t.Fatalf("error = %v", err)
	}
}

func TestNewClientTuned(t *testing.T) {
	c := NewClient(ClientOptions{MaxConnsPerHost: 2000})
	tr := c.Transport.(*http.Transport)
	if tr.MaxIdleConnsPerHost != 2000 || tr.MaxConnsPerHost != 0 || tr.Protocols.HTTP2() || !tr.Protocols.HTTP1() || !tr.DisableCompression {
		t.Errorf("transport not tuned: idle/host=%d conns/host=%d protocols=%v no gzip=%v", tr.MaxIdleConnsPerHost, tr.MaxConnsPerHost,
			tr.Protocols, tr.DisableCompression)
	}
	if c.Timeout != DefaultTimeout {
		t.Errorf("timeout = %v", c.Timeout)
	}
}

// TestDefaultPoolHoldsMaxInFlight: by default the idle pool keeps a
// connection for every request the engine may have in flight, so the
// connections of a burst are reused, not closed and dialed again under load
// (see DefaultMaxConnsPerHost).
func TestDefaultPoolHoldsMaxInFlight(t *testing.T) {
	tr := NewClient(ClientOptions{}).Transport.(*http.Transport)
	if tr.MaxIdleConnsPerHost < engine.DefaultMaxInFlight || tr.MaxIdleConns < tr.MaxIdleConnsPerHost {
		t.Errorf("idle pool %d per host, %d in all; want at least engine.DefaultMaxInFlight = %d per host",
			tr.MaxIdleConnsPerHost, tr.MaxIdleConns, engine.DefaultMaxInFlight)
	}
}

// TestEndpointShared: one prepared endpoint serves concurrent requests
// (run with -race): every request carries the endpoint's headers and its
// own body, and the endpoint's template is never modified.
func TestEndpointShared(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" || r.Header.Get("X-Extra") != "1" ||
			r.Header.Get("Accept-Encoding") != "identity" || r.ContentLength != int64(len(body)) {
			t.Errorf("request %s %v length %d, body %q", r.Method, r.Header, r.ContentLength, body)
		}
		w.Write(body) // echo
	}))
	defer srv.Close()
	c := &Caller{Platform: "test", Client: NewClient(ClientOptions{})}
	header := http.Header{"X-Extra": {"1"}}
	ep, err := c.NewEndpoint(http.MethodPost, srv.URL+"/f", header, true)
	if err != nil {
		t.Fatal(err)
	}
	header.Set("X-Extra", "changed after preparing") // the endpoint has its own copy
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			for j := 0; j < 20; j++ {
				payload := []byte(fmt.Sprintf(`{"seq":%d}`, i*100+j))
				reply, err := c.PostTo(context.Background(), ep, payload)
				if err != nil || string(reply.Body) != string(payload) {
					t.Errorf("PostTo = %v, %v; want the echo of %s", reply, err, payload)
					return
				}
			}
		}(i)
	}
	wg.Wait()
	if got := ep.tmpl.Header; len(got) != 3 || got.Get("X-Extra") != "1" || ep.tmpl.Body != nil || ep.tmpl.Context() != context.Background() {
		t.Errorf("endpoint template modified: header %v body %v", got, ep.tmpl.Body)
	}
	if ep.URL() != srv.URL+"/f" {
		t.Errorf("URL() = %q", ep.URL())
	}
}

// TestAcceptEncoding: requests ask for the identity coding unless the
// caller's header says otherwise, and a body a server compresses anyway is
// kept as sent, not decompressed inside the measured latency.
func TestAcceptEncoding(t *testing.T) {
	tests := []struct {
		name   string
		header http.Header
		want   string
	}{
		{"default", nil, "identity"},
		{"caller's own", http.Header{"Accept-Encoding": {"br"}}, "br"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got string
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				got = r.Header.Get("Accept-Encoding")
				// A server that compresses whatever was asked.
				w.Header().Set("Content-Encoding", "gzip")
				zw := gzip.NewWriter(w)
				zw.Write([]byte(`{"schema_version":1}`))
				zw.Close()
			}))
			defer srv.Close()
			c := &Caller{Platform: "test", Client: NewClient(ClientOptions{})}
			reply, err := c.Post(context.Background(), srv.URL, tt.header, []byte(`{}`))
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("Accept-Encoding = %q, want %q", got, tt.want)
			}
			if len(reply.Body) < 2 || reply.Body[0] != 0x1f || reply.Body[1] != 0x8b {
				t.Errorf("body %q: want the gzip stream as sent", reply.Body)
			}
		})
	}
}

// TestEndpointBodies: an empty payload is sent as an explicit empty body,
// a nil one as none, and a request without a JSON body gets no
// Content-Type.
func TestEndpointBodies(t *testing.T) {
	type seen struct {
		length int64
		ctype  string
		te     []string
	}
	got := make(chan seen, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- seen{r.ContentLength, r.Header.Get("Content-Type"), r.TransferEncoding}
	}))
	defer srv.Close()
	c := &Caller{Platform: "test", Client: NewClient(ClientOptions{})}
	tests := []struct {
		name      string
		method    string
		body      []byte
		wantCType string
	}{
		{"empty payload", http.MethodPost, []byte{}, "application/json"},
		{"no body", http.MethodGet, nil, ""},
	}
	for _, tt := range tests {
		if _, _, _, err := c.Do(context.Background(), tt.method, srv.URL, nil, tt.body); err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		s := <-got
		if s.length != 0 || s.ctype != tt.wantCType || len(s.te) != 0 {
			t.Errorf("%s: server saw length %d, Content-Type %q, Transfer-Encoding %v", tt.name, s.length, s.ctype, s.te)
		}
	}
}

// TestReadBody covers the three ways a body arrives: with a Content-Length
// (read into one exact buffer), chunked (read up to the limit), and cut
// short of its Content-Length (a transport error, not a short body).
func TestReadBody(t *testing.T) {
	const want = `{"schema_version":1,"error":null}`
	tests := []struct {
		name     string
		handler  http.HandlerFunc
		wantKind providers.Kind // "" = body want
	}{
		{"content length", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", fmt.Sprint(len(want)))
			w.Write([]byte(want))
		}, ""},
		{"chunked", func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte(want[:10]))
			w.(http.Flusher).Flush()
			w.Write([]byte(want[10:]))
		}, ""},
		{"cut short", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", fmt.Sprint(len(want)+10))
			w.Write([]byte(want))
			w.(http.Flusher).Flush()
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				conn.Close()
			}
		}, providers.KindTransport},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(tt.handler)
			defer srv.Close()
			c := &Caller{Platform: "test", Client: NewClient(ClientOptions{})}
			reply, err := c.Post(context.Background(), srv.URL, nil, []byte(`{}`))
			if tt.wantKind != "" {
				if providers.KindOf(err) != tt.wantKind {
					t.Fatalf("error = %v, want kind %s", err, tt.wantKind)
				}
				return
			}
			if err != nil || string(reply.Body) != want || cap(reply.Body) < len(want) {
				t.Fatalf("Post = %+v, %v", reply, err)
			}
		})
	}
}

// TestClientTimeoutBoundsRequest: the Client's Timeout still bounds a
// request (headers and body) although requests go straight to its
// Transport, and an earlier deadline in ctx wins.
func TestClientTimeoutBoundsRequest(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/body" {
			w.Header().Set("Content-Length", "100")
			w.Write([]byte("partial"))
			w.(http.Flusher).Flush()
		}
		select { // hold the request until the client gives up (or 5 s)
		case <-r.Context().Done():
		case <-release:
		case <-time.After(5 * time.Second):
		}
	}))
	defer srv.Close()
	defer close(release) // before Close, which waits for the handlers
	tests := []struct {
		name          string
		path          string
		clientTimeout time.Duration
		ctxTimeout    time.Duration // 0: none
	}{
		{"client timeout, headers", "/", 50 * time.Millisecond, 0},
		{"client timeout, body", "/body", 50 * time.Millisecond, 0},
		{"earlier context deadline", "/", time.Hour, 50 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &Caller{Platform: "test", Client: NewClient(ClientOptions{Timeout: tt.clientTimeout})}
			ctx := context.Background()
			if tt.ctxTimeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tt.ctxTimeout)
				defer cancel()
			}
			_, err := c.Post(ctx, srv.URL+tt.path, nil, []byte(`{}`))
			if providers.KindOf(err) != providers.KindTimeout || !strings.HasPrefix(err.Error(), "test: ") {
				t.Fatalf("error = %v, want a timeout", err)
			}
		})
	}
}

// TestBasicAuthFromURL: user info in the URL becomes an Authorization
// header, as http.Client would send it, unless one is given.
func TestBasicAuthFromURL(t *testing.T) {
	got := make(chan string, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- r.Header.Get("Authorization")
	}))
	defer srv.Close()
	c := &Caller{Platform: "test", Client: NewClient(ClientOptions{})}
	withUser := strings.Replace(srv.URL, "http://", "http://admin:pw@", 1)
	for _, tt := range []struct {
		header http.Header
		want   string
	}{
		{nil, "Basic YWRtaW46cHc="}, // admin:pw
		{http.Header{"Authorization": {"Bearer t"}}, "Bearer t"},
	} {
		if _, err := c.Post(context.Background(), withUser, tt.header, []byte(`{}`)); err != nil {
			t.Fatal(err)
		}
		if a := <-got; a != tt.want {
			t.Errorf("Authorization = %q, want %q", a, tt.want)
		}
	}
}
