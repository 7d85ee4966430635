package engine

import (
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// fineTimer sleeps with microsecond precision: a timerfd(2) read through
// the Go netpoller. The runtime parks an idle process in epoll_wait with a
// timeout in whole milliseconds, so a Go timer can fire up to 1 ms late;
// a timerfd is an event that wakes epoll_wait when it expires, without
// blocking a thread the way nanosleep(2) would.
type fineTimer struct {
	fd int
	f  *os.File
}

func newFineTimer() *fineTimer {
	fd, err := unix.TimerfdCreate(unix.CLOCK_MONOTONIC, unix.TFD_NONBLOCK|unix.TFD_CLOEXEC)
	if err != nil {
		return &fineTimer{fd: -1}
	}
	return &fineTimer{fd: fd, f: os.NewFile(uintptr(fd), "timerfd")}
}

// sleep waits for d (at most coarseWait), falling back to a Go timer when
// the timerfd is not available.
func (t *fineTimer) sleep(d time.Duration) {
	if d <= 0 {
		return
	}
	if t.f == nil {
		time.Sleep(d)
		return
	}
	spec := unix.ItimerSpec{Value: unix.NsecToTimespec(int64(d))}
	if err := unix.TimerfdSettime(t.fd, 0, &spec, nil); err != nil {
		time.Sleep(d)
		return
	}
	// An armed timerfd always becomes readable, so the read returns.
	var buf [8]byte
	_, _ = t.f.Read(buf[:]) // the caller re-checks the time in any case
}

func (t *fineTimer) close() {
	if t.f != nil {
		t.f.Close()
	}
}
