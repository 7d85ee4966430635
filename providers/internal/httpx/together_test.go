package httpx

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// inOrder is a RoundTripper that lets request i+1 start only once request
// i has its response headers: the worst case for opening connections
// ahead, in which a request released "together" with the others comes when
// an earlier one is already done with its connection.
type inOrder struct {
	rt   http.RoundTripper
	turn chan struct{}
}

func (o *inOrder) RoundTrip(req *http.Request) (*http.Response, error) {
	<-o.turn
	resp, err := o.rt.RoundTrip(req)
	o.turn <- struct{}{}
	return resp, err
}

// TestPreopenDistinctConnections: Preopen(n) leaves n connections open
// through a TLS server (counted by the server: one handshake each) even
// when its requests come one after another, and a burst of n concurrent
// requests afterwards opens none (every request gets a connection that
// already carried a request). When a connection of the group does not go
// back to the idle pool (here the server closes it, as net/http itself
// drops one whose request write it has not seen completed in time on a
// loaded machine), Preopen sends the group again.
func TestPreopenDistinctConnections(t *testing.T) {
	const n = 4
	for _, c := range []struct {
		name       string
		closeFirst int // the server closes the connections of the first k requests
		handshakes int64
	}{
		{"all pooled", 0, n},
		{"one closed", 1, n + 1},
		{"all closed once", n, 2 * n},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			preopenBurst(t, n, c.closeFirst, c.handshakes)
		})
	}
}

// TestPreopenGivesUp: a server that closes every connection leaves nothing
// in the pool; Preopen says so after PreopenAttempts groups.
func TestPreopenGivesUp(t *testing.T) {
	var requests atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		requests.Add(1)
		w.Header().Set("Connection", "close")
	}))
	t.Cleanup(srv.Close)
	c := &Caller{Platform: "test", Client: NewClient(ClientOptions{})}
	ep, err := c.NewEndpoint(http.MethodGet, srv.URL+"/healthz", nil, false)
	if err != nil {
		t.Fatal(err)
	}
	err = c.Preopen(context.Background(), ep, 2)
	if err == nil || !strings.Contains(err.Error(), "0 of 2 went back to the idle pool") {
		t.Errorf("Preopen against a closing server: %v", err)
	}
	if got := requests.Load(); got != 2*PreopenAttempts {
		t.Errorf("%d requests, want %d", got, 2*PreopenAttempts)
	}
}

func preopenBurst(t *testing.T, n, closeFirst int, wantHandshakes int64) {
	var handshakes, served atomic.Int64
	// In the burst all n requests are in flight at once: the server holds
	// each until all have arrived.
	var inBurst atomic.Bool
	var arrived sync.WaitGroup
	arrived.Add(n)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if inBurst.Load() {
			arrived.Done()
			arrived.Wait()
		} else if served.Add(1) <= int64(closeFirst) {
			w.Header().Set("Connection", "close")
		}
		_, _ = w.Write([]byte("ok"))
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			handshakes.Add(1)
		}
	}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	client := NewClient(ClientOptions{})
	tr := client.Transport.(*http.Transport)
	tr.TLSClientConfig = srv.Client().Transport.(*http.Transport).TLSClientConfig.Clone()
	t.Cleanup(tr.CloseIdleConnections)
	order := &inOrder{rt: tr, turn: make(chan struct{}, 1)}
	order.turn <- struct{}{}
	c := &Caller{Platform: "test", Client: &http.Client{Transport: order}}
	ep, err := c.NewEndpoint(http.MethodGet, srv.URL+"/healthz", nil, false)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := c.Preopen(ctx, ep, n); err != nil {
		t.Fatal(err)
	}
	if got := handshakes.Load(); got != wantHandshakes {
		t.Fatalf("Preopen(%d) opened %d connections, want %d", n, got, wantHandshakes)
	}
	inBurst.Store(true)
	burst := &Caller{Platform: "test", Client: client}
	var fresh atomic.Int64
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			trace := &httptrace.ClientTrace{GotConn: func(i httptrace.GotConnInfo) {
				if !i.Reused {
					fresh.Add(1)
				}
			}}
			if _, _, _, err := burst.DoTo(httptrace.WithClientTrace(ctx, trace), ep, nil); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if got := handshakes.Load(); got != wantHandshakes || fresh.Load() != 0 {
		t.Errorf("burst after Preopen: %d connections in all (want %d), %d requests on a connection that carried none", got, wantHandshakes, fresh.Load())
	}
}
