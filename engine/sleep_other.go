//go:build !linux

package engine

import "time"

// fineTimer sleeps on a Go timer where no timerfd is available.
type fineTimer struct{}

func newFineTimer() *fineTimer { return &fineTimer{} }

func (*fineTimer) sleep(d time.Duration) { time.Sleep(d) }

func (*fineTimer) close() {}
