package experiments_test

import (
	"context"
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/faas-benchmarker/faas-benchmarker/experiments"
	"github.com/faas-benchmarker/faas-benchmarker/localfaas"
	"github.com/faas-benchmarker/faas-benchmarker/localfaas/localfaastest"
	"github.com/faas-benchmarker/faas-benchmarker/providers/local"
	"github.com/faas-benchmarker/faas-benchmarker/results"
	"github.com/faas-benchmarker/faas-benchmarker/runner/session"
	"github.com/faas-benchmarker/faas-benchmarker/stats"
)

// slowHandshakeListener emulates a network round trip in every connection's
// set-up: the first read of each accepted connection (the TLS ClientHello)
// waits rtt, so a fresh connection costs the client at least rtt more than
// one already open — as every HTTPS platform's does.
type slowHandshakeListener struct {
	net.Listener
	rtt time.Duration
}

func (l slowHandshakeListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &slowFirstRead{Conn: c, rtt: l.rtt}, nil
}

type slowFirstRead struct {
	net.Conn
	rtt  time.Duration
	once sync.Once
}

func (c *slowFirstRead) Read(p []byte) (int, error) {
	c.once.Do(func() { time.Sleep(c.rtt) }) // the emulated network delay, not synchronisation
	return c.Conn.Read(p)
}

// tlsProxy puts an httptest TLS server whose handshakes cost rtt in front
// of the platform and returns its URL and the roots that trust it.
func tlsProxy(t *testing.T, plat *localfaas.Platform, rtt time.Duration) (string, *x509.CertPool) {
	t.Helper()
	target, err := url.Parse(plat.URL())
	if err != nil {
		t.Fatal(err)
	}
	rp := httputil.NewSingleHostReverseProxy(target)
	upstream := &http.Transport{MaxIdleConnsPerHost: 64}
	t.Cleanup(upstream.CloseIdleConnections)
	rp.Transport = upstream
	srv := httptest.NewUnstartedServer(rp)
	srv.Listener = slowHandshakeListener{Listener: srv.Listener, rtt: rtt}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate())
	return srv.URL, pool
}

// TestColdStartOverTLS: the local platform with a known extra init delay
// behind a TLS proxy whose handshakes cost a 250 ms round trip. A cold burst
// opens fresh connections while warm samples reuse one; cold_minus_warm
// must still equal what the platform spent initialising (its own record of
// every Init Duration, the ground truth), within the estimate's interval,
// at concurrency 1 and 3; no measured request waits for a handshake.
//
// At concurrency 3 a request of a burst may still land on the instance a
// neighbour's request has just finished with, however the burst is sent
// (how goroutines are scheduled on a loaded machine decides it); such a
// request is not a cold start by either signal, and the estimator counts it
// in not_cold instead of the cold estimates. The first request of every
// burst finds no instance (the cold start was forced), so each burst gives
// at least one sample cold by both signals and 6 bursts give the 6 the
// difference needs: the assertions hold whatever the scheduling.
func TestColdStartOverTLS(t *testing.T) {
	const (
		initDelay = 40 * time.Millisecond
		rtt       = 250 * time.Millisecond
		// slack covers what the client's side adds to a cold burst beyond
		// a warm sample when both use open connections: three responses
		// through the proxy at once instead of one — well under a
		// millisecond idle, a few on a loaded 2-core machine.
		slack = 5.0
	)
	// The fewest samples that give the difference an interval: 6 cold and
	// 6 warm (stats.MinDiffSamples).
	for _, c := range []struct{ conc, samples int }{{1, 6}, {3, 6}} {
		t.Run(fmt.Sprintf("concurrency=%d", c.conc), func(t *testing.T) {
			t.Parallel()
			plat := localfaastest.Start(t, localfaas.Config{ExtraInitDelay: initDelay})
			endpoint, roots := tlsProxy(t, plat, rtt)
			inv, err := local.New(local.Config{Endpoint: endpoint, RootCAs: roots})
			if err != nil {
				t.Fatal(err)
			}
			exp := experiments.ColdStart{}
			params, err := experiments.Resolve(exp, map[string]string{
				"samples": strconv.Itoa(c.samples), "warm": "1", "concurrency": strconv.Itoa(c.conc)})
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			db, err := results.Open(ctx, filepath.Join(t.TempDir(), "results.db"))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			out, err := session.Run(ctx, session.Config{DB: db, Experiment: exp, Params: params, Invoker: inv})
			if err != nil || out.Status != results.StatusOK {
				t.Fatalf("run: %v %v", err, out.Err)
			}
			est := out.Estimates
			t.Logf("estimates: %v", est)
			// Ground truth: what the platform itself spent on each
			// invocation — its wait from receipt to delivery (acquiring,
			// and for a cold one spawning and initialising, an instance;
			// its own event) plus the run it reported (REPORT Duration:
			// a new process's first run is slower, tens of ms on a loaded
			// machine while the burst's other instances start beside it)
			// — median over the cold samples minus that over the warm
			// ones. What the client adds on top (proxy, network, its own
			// scheduling) is alike for both when the connections are: the
			// property under test. The Init Duration alone is less: a
			// platform on a loaded machine also spends time before the
			// spawn and between the instance's readiness and the delivery.
			waits := map[string]float64{}
			var inits []float64
			for _, e := range plat.Events() {
				switch {
				case e.Function != "function1":
				case e.Kind == localfaas.EventInitDone:
					inits = append(inits, e.InitDurationMS)
				case e.Kind == localfaas.EventInvoked:
					waits[e.RequestID] = e.WaitMS
				}
			}
			invs, err := db.Invocations(ctx, out.RunID)
			if err != nil {
				t.Fatal(err)
			}
			var coldSpent, warmSpent []float64
			for _, in := range invs {
				w, ok := waits[in.RequestID]
				if !ok || in.Report == nil || in.Cold == nil {
					continue
				}
				switch spent := w + in.Report.DurationMS; {
				case in.Phase == "cold" && *in.Cold:
					coldSpent = append(coldSpent, spent)
				case in.Phase == "warm" && !*in.Cold:
					warmSpent = append(warmSpent, spent)
				}
			}
			if len(coldSpent) == 0 || len(warmSpent) == 0 {
				t.Fatalf("no platform record for the cold (%d) or warm (%d) samples", len(coldSpent), len(warmSpent))
			}
			truth := stats.Median(stats.Sorted(coldSpent)) - stats.Median(stats.Sorted(warmSpent))
			t.Logf("platform spent %.1f ms more on a cold invocation (%d cold, %d warm samples)", truth, len(coldSpent), len(warmSpent))
			d := need(t, est, "cold_minus_warm_p50_ms")
			lo, hi := need(t, est, "cold_minus_warm_p50_ms_low"), need(t, est, "cold_minus_warm_p50_ms_high")
			if truth < lo-slack || truth > hi+slack {
				t.Errorf("cold−warm %.1f ms [%.1f, %.1f] does not contain what the platform added to a cold start, %.1f ms (±%v ms)", d, lo, hi, truth, slack)
			}
			// Two noisy medians: the init median may exceed the point
			// cold−warm under load (328.5 against 300.2 [125, 475] once),
			// but not its interval.
			if m := stats.Median(stats.Sorted(inits)); m < float64(initDelay.Milliseconds()) || hi < m-slack {
				t.Errorf("platform init median %.1f ms: below the configured %v, or above cold−warm %.1f [%.1f, %.1f] ms", m, initDelay, d, lo, hi)
			}
			// Every measured request went over a connection opened ahead
			// (Benchmarker.Preconnect): none waited for a handshake.
			if n := need(t, est, "fresh_connections"); n != 0 {
				t.Errorf("fresh_connections = %v, want 0 (connections opened before the measured requests)", n)
			}
			if v := need(t, est, "cold_failed"); v != 0 {
				t.Errorf("cold_failed = %v, want 0", v)
			}
			// Every burst request is either a cold start by both signals
			// or counted as not cold; the platform started one instance
			// per cold sample.
			n, notCold := need(t, est, "samples"), need(t, est, "not_cold")
			if n+notCold != float64(c.samples*c.conc) {
				t.Errorf("samples %v + not_cold %v != %d×%d burst requests", n, notCold, c.samples, c.conc)
			}
			if created := float64(len(inits)); created != n {
				t.Errorf("%v instances initialised, want one per cold sample (%v)", created, n)
			}
		})
	}
}
