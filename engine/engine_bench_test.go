//go:build unix

package engine

import (
	"context"
	"fmt"
	"sort"
	"syscall"
	"testing"
	"time"

	fastjson "github.com/segmentio/encoding/json"

	"github.com/faas-benchmarker/faas-benchmarker/functions/lab"
	"github.com/faas-benchmarker/faas-benchmarker/providers"
	"github.com/faas-benchmarker/faas-benchmarker/results"
)

// discard is a Sink that drops records.
type discard struct{}

func (discard) Add(results.Invocation) error   { return nil }
func (discard) AddMetric(results.Metric) error { return nil }

func benchBench(b *testing.B, inv providers.Invoker) *Benchmarker {
	b.Helper()
	bm, err := New(Config{RunID: "bench", Invoker: inv, Sink: discard{}})
	if err != nil {
		b.Fatal(err)
	}
	return bm
}

// BenchmarkInvokeAtRate measures the open-loop scheduler alone (an invoker
// that answers at once): one op is one due request, so an op takes 1/rate;
// the lateness percentiles (send time - due time) are the numbers to read.
func BenchmarkInvokeAtRate(b *testing.B) {
	reply := labReply(b, lab.Response{Instance: lab.Instance{ID: "x"}})
	inv := &fakeInvoker{fn: func(context.Context, string, []byte) (*providers.Reply, error) { return reply, nil }}
	for _, rate := range []float64{1000, 5000, 10000} {
		b.Run(fmt.Sprintf("rate=%g", rate), func(b *testing.B) {
			bm := benchBench(b, inv)
			d := time.Duration(float64(b.N) / rate * float64(time.Second))
			cpu0 := cpuTime(b)
			b.ResetTimer()
			rep := bm.InvokeAtRate(context.Background(), "f", ConstantPacer{Rate: rate}, d, lab.Request{})
			b.StopTimer()
			b.ReportMetric(float64(cpuTime(b)-cpu0)/float64(b.N), "cpu-ns/op")
			late := make([]float64, 0, len(rep.Results))
			for _, r := range rep.Results {
				late = append(late, float64(r.Record.SentNS-r.Record.ScheduledNS)/1e3)
			}
			if len(late) == 0 {
				return
			}
			sort.Float64s(late)
			b.ReportMetric(late[len(late)/2], "p50-late-µs")
			b.ReportMetric(late[len(late)*99/100], "p99-late-µs")
			b.ReportMetric(100*float64(rep.Late)/float64(len(late)), "%late>1ms")
		})
	}
}

// BenchmarkInvoke measures the engine's own cost per invocation around an
// invoker that answers at once with a lab response (decode and record
// included).
func BenchmarkInvoke(b *testing.B) {
	reply := labReply(b, lab.Response{Instance: lab.Instance{ID: "0b7c5a7e-3f7e-4c55-9a3b-7f1e2d3c4b5a", Platform: "local",
		Hostname: "h", BootID: "b", CPUModel: "AMD EPYC", CPUs: 2, MemoryLimitMB: 128, Runtime: "go"},
		Function: "function1", RequestID: "abc", Timing: lab.Timing{Start: 1, End: 2}})
	inv := &fakeInvoker{fn: func(context.Context, string, []byte) (*providers.Reply, error) { return reply, nil }}
	bm := benchBench(b, inv)
	ctx := context.Background()
	b.ReportAllocs()
	cpu0 := cpuTime(b)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if r := bm.Invoke(ctx, "function1", lab.Request{}); !r.OK() {
			b.Fatal(r.Err)
		}
	}
	b.StopTimer()
	// CPU time per op is steadier than wall time on a loaded machine.
	b.ReportMetric(float64(cpuTime(b)-cpu0)/float64(b.N), "cpu-ns/op")
}

// cpuTime returns the process's user+system CPU time.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Skip("getrusage:", err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkDecodeResponse compares the fast path for lab function output
// (with the string cache a Benchmarker uses) with the general decoder it
// falls back to (segmentio/encoding/json), on the same body.
func BenchmarkDecodeResponse(b *testing.B) {
	body := []byte(labBody)
	b.Run("path=fast", func(b *testing.B) {
		var strs stringCache // as a Benchmarker decodes
		b.ReportAllocs()
		cpu0 := cpuTime(b)
		for i := 0; i < b.N; i++ {
			if r := decodeResponse(body, &strs); r == nil {
				b.Fatal("not decoded")
			}
		}
		b.ReportMetric(float64(cpuTime(b)-cpu0)/float64(b.N), "cpu-ns/op")
	})
	b.Run("path=general", func(b *testing.B) {
		b.ReportAllocs()
		cpu0 := cpuTime(b)
		for i := 0; i < b.N; i++ {
			var r lab.Response
			if err := fastjson.Unmarshal(body, &r); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(cpuTime(b)-cpu0)/float64(b.N), "cpu-ns/op")
	})
}
