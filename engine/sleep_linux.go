package engine

import (
	"syscall"
	"time"
)

// preciseSleep blocks the calling thread for d with nanosleep(2), which
// the kernel wakes within tens of microseconds, instead of a Go timer. The
// runtime hands the goroutine's processor to other goroutines meanwhile.
// d is at most coarseWait.
func preciseSleep(d time.Duration) {
	ts := syscall.NsecToTimespec(int64(d))
	_ = syscall.Nanosleep(&ts, nil) // EINTR only shortens the sleep; the caller re-checks the time
}
