package lab

import (
	"context"
	"runtime"
	"sync/atomic"
	"time"
)

// iterationOps is the number of xorshift steps in one throughput
// iteration: enough that reading the clock once per iteration costs
// little, small enough that the loop overshoots the requested time by
// microseconds only.
const iterationOps = 1024

// throughputSink keeps the compiler from removing the busy loop.
var throughputSink atomic.Uint64

// throughput keeps one CPU busy for d of wall time (or until ctx is done)
// and reports the iterations completed (one iteration is iterationOps
// xorshift64 steps) and the CPU time the calling thread used. The
// goroutine is locked to its OS thread so that per-thread CPU time is
// meaningful.
func throughput(ctx context.Context, d time.Duration) (Throughput, error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	cpu0 := threadCPU()
	t0 := time.Now()
	deadline := t0.Add(d)
	x := uint64(t0.UnixNano()) | 1
	var iters int64
	var err error
	for {
		for range iterationOps {
			x ^= x << 13
			x ^= x >> 7
			x ^= x << 17
		}
		iters++
		if !time.Now().Before(deadline) {
			break
		}
		if iters%1024 == 0 && ctx.Err() != nil {
			err = ctx.Err()
			break
		}
	}
	throughputSink.Add(x)
	return Throughput{Iterations: iters, CPUS: (threadCPU() - cpu0).Seconds()}, err
}
