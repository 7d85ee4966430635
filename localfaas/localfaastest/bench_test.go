package localfaastest_test

import (
	"bytes"
	"io"
	"net/http"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/faas-benchmarker/faas-benchmarker/localfaas"
	"github.com/faas-benchmarker/faas-benchmarker/localfaas/localfaastest"
)

var benchClient = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4, DisableCompression: true}}

func timedPost(b *testing.B, url string, body []byte) time.Duration {
	start := time.Now()
	resp, err := benchClient.Post(url, "application/json", bytes.NewReader(body))
	if err != nil {
		b.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	d := time.Since(start)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("X-Amz-Function-Error") != "" {
		b.Fatalf("%s: HTTP %d %s", url, resp.StatusCode, resp.Header.Get("X-Amz-Function-Error"))
	}
	return d
}

func percentiles(b *testing.B, ds []time.Duration, unit string) {
	slices.Sort(ds)
	at := func(q float64) float64 { return float64(ds[int(q*float64(len(ds)-1))]) / float64(time.Microsecond) }
	b.ReportMetric(at(0.5), "p50-"+unit)
	b.ReportMetric(at(0.99), "p99-"+unit)
}

// BenchmarkLabColdStart: spawn → first response of the real lab bootstrap
// (function1), cold-started the Lambda way (a configuration update), as the
// client sees it; init-p50-µs is the platform's Init Duration.
func BenchmarkLabColdStart(b *testing.B) {
	p := localfaastest.Start(b, localfaas.Config{ScaleBurst: 1 << 30})
	invokeURL := p.URL() + "/2015-03-31/functions/function1/invocations"
	configURL := p.URL() + "/2015-03-31/functions/function1/configuration"
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
		seq := int64(len(p.Events()))
		b.StartTimer()
		ds = append(ds, timedPost(b, invokeURL, []byte(`{}`)))
		b.StopTimer()
		evs, _ := p.EventsSince(seq)
		for _, e := range evs {
			if e.Kind == localfaas.EventInitDone {
				inits = append(inits, time.Duration(e.InitDurationMS*float64(time.Millisecond)))
			}
		}
		b.StartTimer()
	}
	b.StopTimer()
	percentiles(b, ds, "µs")
	if len(inits) > 0 {
		slices.Sort(inits)
		b.ReportMetric(float64(inits[len(inits)/2])/float64(time.Microsecond), "init-p50-µs")
	}
}

// BenchmarkLabWarmInvoke: a warm invocation of the real lab bootstrap
// through the platform.
func BenchmarkLabWarmInvoke(b *testing.B) {
	p := localfaastest.Start(b, localfaas.Config{})
	url := p.URL() + "/2015-03-31/functions/function1/invocations"
	for range 20 {
		timedPost(b, url, []byte(`{}`))
	}
	ds := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for range b.N {
		ds = append(ds, timedPost(b, url, []byte(`{}`)))
	}
	b.StopTimer()
	percentiles(b, ds, "µs")
}
