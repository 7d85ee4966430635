package httpx

import (
	"context"
	"net"
	"net/http"
	"net/http/httptrace"
	"sync"
	"time"

	"github.com/faas-benchmarker/faas-benchmarker/providers"
)

// timeDials makes every connection tr opens time its own setup: the
// transport's dialer runs with DNS and connect hooks of its own, and the
// connection it returns is a *timedConn (providers.ConnSetup). So the engine
// needs no per-request hooks for setup, which happens once per connection.
// A nil DialContext is net/http's default dialer.
func timeDials(tr *http.Transport) {
	dial := tr.DialContext
	if dial == nil {
		// What http.DefaultTransport dials with.
		dial = (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	}
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		tc := newTimedConn()
		conn, err := dial(httptrace.WithClientTrace(ctx, &tc.trace), network, addr)
		if err != nil {
			return nil, err
		}
		tc.Conn = conn
		return tc, nil
	}
}

// timedConn is a connection that knows how long its DNS lookup and connect
// took. The hooks run in the dialing goroutines (a dual-stack dial races two
// connects, and the loser may report after the dial returned), hence the
// mutex.
type timedConn struct {
	net.Conn
	mu                  sync.Mutex
	dnsStart, connStart time.Time
	dns, connect        time.Duration
	trace               httptrace.ClientTrace
}

var _ providers.ConnSetup = (*timedConn)(nil)

// SetupTimes returns the connection's DNS and connect durations.
func (c *timedConn) SetupTimes() (dns, connect time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.dns, c.connect
}

// newTimedConn returns a timedConn whose trace hooks record into it; its
// Conn is set once the dial succeeds.
func newTimedConn() *timedConn {
	c := &timedConn{}
	c.trace = httptrace.ClientTrace{
		DNSStart: func(httptrace.DNSStartInfo) { c.mu.Lock(); c.dnsStart = time.Now(); c.mu.Unlock() },
		DNSDone: func(httptrace.DNSDoneInfo) {
			c.mu.Lock()
			if !c.dnsStart.IsZero() {
				c.dns += time.Since(c.dnsStart)
			}
			c.mu.Unlock()
		},
		ConnectStart: func(string, string) { c.mu.Lock(); c.connStart = time.Now(); c.mu.Unlock() },
		ConnectDone: func(string, string, error) {
			c.mu.Lock()
			if !c.connStart.IsZero() {
				c.connect += time.Since(c.connStart)
			}
			c.mu.Unlock()
		},
	}
	return c
}
