package httpx

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptrace"
	"sync"
	"sync/atomic"
)

// Together makes a group of n concurrent requests hold their connections
// until every one of them has its response (or has failed), so that the
// group is sent over n distinct connections, which all go back to the idle
// pool afterwards: that is how a provider opens n connections ahead of a
// burst (providers.Preconnector). Without it, requests released together
// still share connections whenever one finishes before another is sent (an
// HTTP/1.1 connection is free again once its response body is read), and
// a dial still under way when the group returns is paid by the burst.
// A Together is used once.
type Together struct {
	mu      sync.Mutex
	waiting int
	all     chan struct{}
}

// NewTogether returns a Together for n requests (n ≥ 1).
func NewTogether(n int) *Together {
	return &Together{waiting: max(n, 1), all: make(chan struct{})}
}

// Arrive records that one request of the group has its response headers
// (its connection is still busy: the body is unread) or has failed, and
// waits until all have, or ctx ends.
func (g *Together) Arrive(ctx context.Context) {
	g.mu.Lock()
	g.waiting--
	if g.waiting == 0 {
		close(g.all)
	}
	g.mu.Unlock()
	select {
	case <-g.all:
	case <-ctx.Done():
	}
}

// Doer is the client interface of the AWS SDK (and of *http.Client).
type Doer interface {
	Do(*http.Request) (*http.Response, error)
}

// Client returns hc for one request of the group: its Do arrives at g
// between receiving the response headers and returning them, so the body —
// and the connection — stay busy until the whole group has its responses.
func (g *Together) Client(hc Doer) Doer { return togetherDoer{hc: hc, g: g} }

type togetherDoer struct {
	hc Doer
	g  *Together
}

func (d togetherDoer) Do(req *http.Request) (*http.Response, error) {
	resp, err := d.hc.Do(req)
	d.g.Arrive(req.Context())
	return resp, err
}

// PreopenAttempts bounds how often Preopen sends its group of requests
// before it gives up on leaving all n connections in the idle pool.
const PreopenAttempts = 5

// Preopen runs send n times concurrently, held together (see Together), so
// that n connections are opened, and returns once all n went back to the
// idle pool. send must make one request with the ctx it is given (its
// client trace counts the connections put back) and hold it with g
// (Together.Client).
//
// A connection that served a request does not always go back to the pool:
// the server may close it, and net/http drops a connection whose request
// write it has not yet seen completed 50 ms after the response was read
// (maxWriteWaitBeforeConnReuse, net/http's transport.go) — which happens on
// a loaded machine. A burst sent after such a group would open a fresh
// connection and wait for its handshake. So Preopen counts the connections
// put back (httptrace.ClientTrace.PutIdleConn) and sends the whole group
// again while fewer than n were, at most PreopenAttempts times: a smaller
// group would only reuse the idle connections it finds. The first failure
// of send is returned, and an error if the pool still lacks connections.
func Preopen(ctx context.Context, n int, send func(ctx context.Context, g *Together) error) error {
	n = max(n, 1)
	pooled := 0
	for range PreopenAttempts {
		var put atomic.Int64
		tctx := httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{PutIdleConn: func(err error) {
			if err == nil {
				put.Add(1)
			}
		}})
		g := NewTogether(n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[i] = send(tctx, g)
			}()
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			return err
		}
		if pooled = int(put.Load()); pooled >= n {
			return nil
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	return fmt.Errorf("opening connections ahead: %d of %d went back to the idle pool in each of %d attempts", pooled, n, PreopenAttempts)
}

// Preopen sends n GET requests to ep together (see Together and the
// function Preopen) and reads and closes their responses, leaving n
// connections to ep's host in the idle pool. ep must be a request the
// platform answers without invoking anything (a health or status
// endpoint). The statuses are not interpreted; the first transport failure
// is returned.
func (c *Caller) Preopen(ctx context.Context, ep *Endpoint, n int) error {
	return Preopen(ctx, n, func(ctx context.Context, g *Together) error {
		_, _, _, err := c.doTo(ctx, ep, nil, g)
		return err
	})
}
