//go:build unix

package measure

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/faas-benchmarker/faas-benchmarker/bench/target"
	"github.com/faas-benchmarker/faas-benchmarker/engine"
	"github.com/faas-benchmarker/faas-benchmarker/functions/lab"
	httpprov "github.com/faas-benchmarker/faas-benchmarker/providers/http"
)

// targetChildEnv makes the test binary serve the minimal target instead of
// running tests (see TestMain), so that the benchmarks' CPU time and
// allocations belong to the load generator alone.
const targetChildEnv = "FB_MEASURE_TARGET_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(targetChildEnv) == "1" {
		os.Exit(serveTargetChild())
	}
	os.Exit(m.Run())
}

// serveTargetChild serves bench/target on a loopback port, prints its URL
// on stdout and returns when stdin is closed (the parent exited or is done).
func serveTargetChild() int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, "target child:", err)
		return 1
	}
	srv := &http.Server{Handler: target.New(target.Config{}), ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln) //nolint:errcheck // returns ErrServerClosed on Close
	fmt.Println("http://" + ln.Addr().String() + "/function1")
	_, _ = bufio.NewReader(os.Stdin).ReadString(0) // blocks until EOF
	_ = srv.Close()
	return 0
}

// startTargetProcess runs the minimal target in a child process of the
// test binary and returns its URL; it stops with the benchmark.
func startTargetProcess(b *testing.B) string {
	b.Helper()
	exe, err := os.Executable()
	if err != nil {
		b.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), targetChildEnv+"=1")
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		_ = stdin.Close()
		_ = cmd.Wait()
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		b.Fatalf("target child: %v", err)
	}
	return strings.TrimSpace(line)
}

// BenchmarkClosedLoop is the A/B comparison of fbrun's engine (http
// provider, records decoded and built, discarded by the sink) and vegeta's
// Attacker (whole bodies read, nothing decoded) in one process, in closed
// loop at fixed concurrency against the minimal target running in a child
// process. One op is one completed request; allocs/op, B/op and cpu-ns/op
// (getrusage of this process: the tool only, the target is the child's)
// are the numbers that survive a loaded machine; ns/op is the inverse
// throughput and does not.
//
//	go test -run '^$' -bench ClosedLoop -benchmem -count 5 ./bench/measure/
func BenchmarkClosedLoop(b *testing.B) {
	url := startTargetProcess(b)
	for _, c := range []int{1, 16, 64} {
		b.Run(fmt.Sprintf("tool=fbrun/c=%d", c), func(b *testing.B) { benchFBRun(b, url, c) })
		b.Run(fmt.Sprintf("tool=vegeta/c=%d", c), func(b *testing.B) { benchVegeta(b, url, c) })
	}
}

func benchFBRun(b *testing.B, url string, c int) {
	prov, err := httpprov.New(httpprov.Config{URLs: map[string]string{"function1": url}, HTTPTimeout: 30 * time.Second})
	if err != nil {
		b.Fatal(err)
	}
	bm, err := engine.New(engine.Config{RunID: "bench", Invoker: prov, Sink: &discardSink{}, Timeout: 30 * time.Second})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	var left atomic.Int64
	left.Store(int64(b.N))
	var failed atomic.Int64
	var wg sync.WaitGroup
	b.ReportAllocs()
	cpu0 := benchCPU(b)
	b.ResetTimer()
	for i := 0; i < c; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for left.Add(-1) >= 0 {
				if r := bm.Invoke(ctx, "function1", lab.Request{}); !r.OK() || r.Response == nil {
					failed.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	b.StopTimer()
	b.ReportMetric(float64(benchCPU(b)-cpu0)/float64(b.N), "cpu-ns/op")
	if n := failed.Load(); n > 0 {
		b.Fatalf("%d of %d requests failed", n, b.N)
	}
}

func benchVegeta(b *testing.B, url string, c int) {
	tgt := vegeta.Target{Method: http.MethodPost, URL: url, Body: []byte("{}"),
		Header: http.Header{"Content-Type": []string{"application/json"}}}
	var left atomic.Int64
	targeter := func(t *vegeta.Target) error {
		if left.Add(-1) < 0 {
			return vegeta.ErrNoTargets
		}
		*t = tgt
		return nil
	}
	// A stopped Attacker stays stopped, so each run has a new one (and
	// opens its connections inside the measurement, as fbrun's does).
	atk := vegeta.NewAttacker(vegeta.Timeout(30*time.Second), vegeta.Workers(uint64(c)), vegeta.MaxWorkers(uint64(c)))
	left.Store(int64(b.N))
	failed := 0
	b.ReportAllocs()
	cpu0 := benchCPU(b)
	b.ResetTimer()
	for res := range atk.Attack(targeter, vegeta.Rate{}, 0, "bench") {
		if res.Error != "" && res.Error != vegeta.ErrNoTargets.Error() || res.Error == "" && res.Code != http.StatusOK {
			failed++
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(benchCPU(b)-cpu0)/float64(b.N), "cpu-ns/op")
	if failed > 0 {
		b.Fatalf("%d of %d requests failed", failed, b.N)
	}
}

func benchCPU(b *testing.B) time.Duration {
	d, err := CPUTime()
	if err != nil {
		b.Skip(err)
	}
	return d
}
