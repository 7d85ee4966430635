package httpx

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"net/url"
	"sync/atomic"
	"testing"

	"github.com/faas-benchmarker/faas-benchmarker/providers"
)

// gotConn sends one GET to rawURL through tr and returns the connection it
// went out on, as the engine sees it (GotConnInfo).
func gotConn(t *testing.T, tr *http.Transport, rawURL string) httptrace.GotConnInfo {
	t.Helper()
	var info httptrace.GotConnInfo
	ctx := httptrace.WithClientTrace(context.Background(), &httptrace.ClientTrace{
		GotConn: func(i httptrace.GotConnInfo) { info = i },
	})
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := tr.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	return info
}

// setupOf returns the setup times of conn (unwrapped from TLS) and whether
// it reports them.
func setupOf(conn net.Conn) (dns, connect int64, ok bool) {
	if nc, isTLS := conn.(interface{ NetConn() net.Conn }); isTLS {
		conn = nc.NetConn()
	}
	cs, ok := conn.(providers.ConnSetup)
	if !ok {
		return 0, 0, false
	}
	d, c := cs.SetupTimes()
	return int64(d), int64(c), true
}

// TestTunedTransportTimesSetup checks that the connections a tuned transport
// opens time their DNS lookup and connect (plain and TLS, the default dialer
// and a dialer of the caller's own, as the AWS SDK sets one), and that a
// reused connection is the same one.
func TestTunedTransportTimesSetup(t *testing.T) {
	plain := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer plain.Close()
	secure := httptest.NewTLSServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer secure.Close()
	// "localhost" instead of the IP address, so that there is a lookup.
	byName := func(srv *httptest.Server) string {
		u, _ := url.Parse(srv.URL)
		return u.Scheme + "://localhost:" + u.Port() + "/"
	}
	var ownDials atomic.Int32
	tests := []struct {
		name string
		tr   func() *http.Transport
		url  string
	}{
		{"plain", func() *http.Transport { return NewClient(ClientOptions{}).Transport.(*http.Transport) }, byName(plain)},
		{"tls", func() *http.Transport {
			tr := NewClient(ClientOptions{}).Transport.(*http.Transport)
			tr.TLSClientConfig = secure.Client().Transport.(*http.Transport).TLSClientConfig.Clone()
			tr.TLSClientConfig.ServerName = "example.com" // the name httptest's certificate is for
			return tr
		}, byName(secure)},
		{"own dialer", func() *http.Transport {
			d := &net.Dialer{}
			tr := &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
				ownDials.Add(1)
				return d.DialContext(ctx, network, addr)
			}}
			TuneTransport(tr, 0)
			return tr
		}, byName(plain)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := tt.tr()
			defer tr.CloseIdleConnections()
			first := gotConn(t, tr, tt.url)
			dns, connect, ok := setupOf(first.Conn)
			if !ok {
				t.Fatalf("connection %T does not report its setup", first.Conn)
			}
			if first.Reused || dns <= 0 || connect <= 0 {
				t.Errorf("first request: reused %v, dns %d ns, connect %d ns; want a new connection with both timed", first.Reused, dns, connect)
			}
			second := gotConn(t, tr, tt.url)
			if !second.Reused || second.Conn != first.Conn {
				t.Errorf("second request: reused %v, same connection %v; want the first one reused", second.Reused, second.Conn == first.Conn)
			}
		})
	}
	if ownDials.Load() != 1 {
		t.Errorf("the caller's own dialer dialed %d times, want 1", ownDials.Load())
	}
}
