package httpx

import (
	"context"
	"net/http"
	"sync"
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

// Preopen sends n GET requests to ep together (see Together) and reads and
// closes their responses, leaving n connections to ep's host in the idle
// pool. ep must be a request the platform answers without invoking
// anything (a health or status endpoint). The statuses are not
// interpreted; the first transport failure is returned.
func (c *Caller) Preopen(ctx context.Context, ep *Endpoint, n int) error {
	g := NewTogether(n)
	errs := make(chan error, n)
	for range n {
		go func() {
			_, _, _, err := c.doTo(ctx, ep, nil, g)
			errs <- err
		}()
	}
	var first error
	for range n {
		if err := <-errs; err != nil && first == nil {
			first = err
		}
	}
	return first
}
