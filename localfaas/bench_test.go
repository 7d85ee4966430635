package localfaas_test

import (
	"bytes"
	"io"
	"net/http"
	"os/exec"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/faas-benchmarker/faas-benchmarker/internal/testtools"
	"github.com/faas-benchmarker/faas-benchmarker/localfaas"
)

// benchClient reuses connections like a real load generator.
var benchClient = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4, DisableCompression: true}}

// post sends body to url and returns the round-trip time.
func post(b *testing.B, url string, body []byte) time.Duration {
	start := time.Now()
	resp, err := benchClient.Post(url, "application/json", bytes.NewReader(body))
	if err != nil {
		b.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	d := time.Since(start)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("X-Amz-Function-Error") != "" {
		b.Fatalf("%s: HTTP %d", url, resp.StatusCode)
	}
	return d
}

// reportPercentiles adds p50 and p99 (µs) of ds to b.
func reportPercentiles(b *testing.B, ds []time.Duration) {
	if len(ds) == 0 {
		return
	}
	slices.Sort(ds)
	at := func(q float64) float64 {
		return float64(ds[int(q*float64(len(ds)-1))]) / float64(time.Microsecond)
	}
	b.ReportMetric(at(0.5), "p50-µs")
	b.ReportMetric(at(0.99), "p99-µs")
}

// startDirectHTTP runs testruntime's HTTP echo as a plain process: the
// baseline with no platform in between.
func startDirectHTTP(b *testing.B) string {
	_, addrs := testtools.StartOnFreeAddrs(b, 1, 10*time.Second, func(addrs []string) *exec.Cmd {
		cmd := exec.Command(testRuntime(b), "http")
		cmd.Env = []string{"FB_HTTP_ADDR=" + addrs[0]}
		return cmd
	})
	return "http://" + addrs[0] + "/"
}

// startRIEEcho runs testruntime's Runtime API echo under the AWS Lambda
// Runtime Interface Emulator: the reference cost of the same three HTTP
// exchanges without localfaas.
func startRIEEcho(b *testing.B) string {
	_, addr := testtools.StartRIE(b, []string{testRuntime(b), "lambda"}, "AWS_LAMBDA_FUNCTION_NAME=echo")
	return "http://" + addr + testtools.RIEInvokePath
}

// BenchmarkWarmInvoke measures a warm echo invocation on loopback: direct
// to an HTTP echo process (no platform), through the platform's gateway to
// the same HTTP echo, through the Lambda Invoke API to a Runtime API echo,
// and the same Runtime API echo under the AWS emulator. The platform's
// added overhead is the difference of the p50s (gateway-http minus
// direct-http; invoke-lambda-runtime minus rie-lambda-runtime).
func BenchmarkWarmInvoke(b *testing.B) {
	payload := []byte(`{"k":"v"}`)
	cfg := testConfig(b)
	cfg.Functions = append(cfg.Functions, httpSpec(b, "web"))
	cfg.IdleTimeout = time.Hour
	cfg.MaxLifetime = 0
	p := startPlatform(b, cfg)
	cases := []struct {
		name string
		url  string
	}{
		{"direct-http", ""},
		{"gateway-http", p.URL() + "/function/web"},
		{"invoke-lambda-runtime", p.URL() + "/2015-03-31/functions/echo/invocations"},
		{"rie-lambda-runtime", "rie"},
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			url := tc.url
			switch url {
			case "":
				url = startDirectHTTP(b)
			case "rie":
				url = startRIEEcho(b)
			}
			for range 20 { // warm up: instance and connections
				post(b, url, payload)
			}
			ds := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for range b.N {
				ds = append(ds, post(b, url, payload))
			}
			b.StopTimer()
			reportPercentiles(b, ds)
		})
	}
}

// BenchmarkColdStart measures spawn → first response of the test runtime:
// each iteration retires the instance with a configuration update, then
// times one invocation (the client's view) and reports the platform's Init
// Duration too.
func BenchmarkColdStart(b *testing.B) {
	cfg := testConfig(b)
	cfg.ScaleBurst = 1 << 30
	coldStartBench(b, cfg, "echo")
}

// coldStartBench is shared with the lab-bootstrap benchmark.
func coldStartBench(b *testing.B, cfg localfaas.Config, fn string) {
	p := startPlatform(b, cfg)
	invokeURL := p.URL() + "/2015-03-31/functions/" + fn + "/invocations"
	configURL := p.URL() + "/2015-03-31/functions/" + fn + "/configuration"
	ds := make([]time.Duration, 0, b.N)
	var inits []time.Duration
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		req, _ := http.NewRequest(http.MethodPut, configURL,
			bytes.NewBufferString(`{"Environment":{"Variables":{"NONCE":"`+strconv.Itoa(i)+`"}}}`))
		resp, err := benchClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		resp.Body.Close()
		seq := lastSeq(p)
		b.StartTimer()
		ds = append(ds, post(b, invokeURL, []byte(`{}`)))
		b.StopTimer()
		for _, e := range p.Events() {
			if e.Seq > seq && e.Kind == localfaas.EventInitDone {
				inits = append(inits, time.Duration(e.InitDurationMS*float64(time.Millisecond)))
			}
		}
		b.StartTimer()
	}
	b.StopTimer()
	reportPercentiles(b, ds)
	if len(inits) > 0 {
		slices.Sort(inits)
		b.ReportMetric(float64(inits[len(inits)/2])/float64(time.Microsecond), "init-p50-µs")
	}
}
