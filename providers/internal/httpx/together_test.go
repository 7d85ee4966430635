package httpx

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
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
// already carried a request).
func TestPreopenDistinctConnections(t *testing.T) {
	const n = 4
	var handshakes atomic.Int64
	// In the burst all n requests are in flight at once: the server holds
	// each until all have arrived.
	var inBurst atomic.Bool
	var arrived sync.WaitGroup
	arrived.Add(n)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if inBurst.Load() {
			arrived.Done()
			arrived.Wait()
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
	if got := handshakes.Load(); got != n {
		t.Fatalf("Preopen(%d) opened %d connections", n, got)
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
	if got := handshakes.Load(); got != n || fresh.Load() != 0 {
		t.Errorf("burst after Preopen: %d connections in all (want %d), %d requests on a connection that carried none", got, n, fresh.Load())
	}
}
