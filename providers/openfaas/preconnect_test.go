package openfaas

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
)

// TestPreconnect: Preconnect(n) opens n TLS connections to the gateway
// (one handshake each, counted by the server) with requests that invoke
// nothing, and a cold burst of n invocations afterwards opens none.
func TestPreconnect(t *testing.T) {
	const n = 3
	var handshakes, invocations atomic.Int64
	var paths sync.Map
	var inBurst atomic.Bool
	var arrived sync.WaitGroup // the burst's invocations are in flight together
	arrived.Add(n)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		paths.Store(r.Method+" "+r.URL.Path, true)
		if r.URL.Path == "/function/f1" {
			invocations.Add(1)
			if inBurst.Load() {
				arrived.Done()
				arrived.Wait()
			}
			_, _ = w.Write([]byte(`{}`))
			return
		}
		_, _ = w.Write([]byte(`{"provider":{"provider":"faas-netes-ce"}}`))
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			handshakes.Add(1)
		}
	}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	p, err := New(Config{GatewayURL: srv.URL, Password: "pw"})
	if err != nil {
		t.Fatal(err)
	}
	tr := p.caller.Client.Transport.(*http.Transport)
	tr.TLSClientConfig = srv.Client().Transport.(*http.Transport).TLSClientConfig.Clone()
	t.Cleanup(tr.CloseIdleConnections)
	ctx := context.Background()
	if err := p.Preconnect(ctx, "f1", n); err != nil {
		t.Fatal(err)
	}
	if got, inv := handshakes.Load(), invocations.Load(); got != n || inv != 0 {
		t.Fatalf("Preconnect(%d): %d connections, %d invocations; want %d, 0", n, got, inv, n)
	}
	if _, ok := paths.Load("GET /system/info"); !ok {
		t.Error("Preconnect did not use GET /system/info")
	}
	inBurst.Store(true)
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := p.Invoke(ctx, "f1", []byte(`{}`)); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if got := handshakes.Load(); got != n {
		t.Errorf("the burst opened %d more connections, want 0", got-n)
	}
}
