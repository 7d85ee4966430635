package engine

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/faas-benchmarker/faas-benchmarker/functions/lab"
	"github.com/faas-benchmarker/faas-benchmarker/providers"
)

// setupConn is a connection that reports fixed setup times, as the
// providers' transports make them (providers.ConnSetup).
type setupConn struct{ net.Conn }

const fakeDNS, fakeConnect = 7 * time.Millisecond, 9 * time.Millisecond

func (setupConn) SetupTimes() (time.Duration, time.Duration) { return fakeDNS, fakeConnect }

// tlsInvoker POSTs to a TLS test server through its own transport, whose
// connections are setupConns (when setup is set), passing ctx down as every
// provider must.
type tlsInvoker struct {
	url string
	tr  *http.Transport
}

func newTLSInvoker(t *testing.T, setup bool) *tlsInvoker {
	t.Helper()
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		_, _ = w.Write(labReply(t, lab.Response{Function: "f"}).Body)
	}))
	t.Cleanup(srv.Close)
	tr := srv.Client().Transport.(*http.Transport).Clone()
	if setup {
		d := &net.Dialer{}
		tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := d.DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			return setupConn{c}, nil
		}
	}
	t.Cleanup(tr.CloseIdleConnections)
	return &tlsInvoker{url: srv.URL, tr: tr}
}

func (i *tlsInvoker) Platform() string { return "tls" }

func (i *tlsInvoker) Invoke(ctx context.Context, _ string, payload []byte) (*providers.Reply, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, i.url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := i.tr.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	return &providers.Reply{StatusCode: resp.StatusCode, Body: body}, nil
}

// TestConnectionSetupRecorded checks the connection fields of a record: the
// request that opened a connection gets its DNS and connect times from the
// connection (unwrapped from TLS) and its own TLS handshake time; the next
// request reuses the connection and records no setup. A connection that
// does not report its setup records zero DNS and connect times.
func TestConnectionSetupRecorded(t *testing.T) {
	type conn struct {
		reused       bool
		dns, connect time.Duration
		tls          bool // a TLS handshake time > 0
	}
	tests := []struct {
		name          string
		setup         bool
		first, second conn
	}{
		{"connection reports its setup", true,
			conn{dns: fakeDNS, connect: fakeConnect, tls: true}, conn{reused: true}},
		{"connection does not", false,
			conn{tls: true}, conn{reused: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, _ := newBench(t, newTLSInvoker(t, tt.setup), Config{})
			for i, want := range []conn{tt.first, tt.second} {
				r := b.Invoke(context.Background(), "f", lab.Request{})
				if !r.OK() {
					t.Fatalf("request %d: %v", i+1, r.Err)
				}
				rec := r.Record
				got := conn{reused: rec.ConnReused, dns: time.Duration(rec.DNSNS), connect: time.Duration(rec.ConnectNS), tls: rec.TLSNS > 0}
				if got != want {
					t.Errorf("request %d: %+v, want %+v", i+1, got, want)
				}
			}
		})
	}
}
