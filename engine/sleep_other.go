//go:build !linux

package engine

import "time"

// preciseSleep sleeps for d on a Go timer where nanosleep(2) is not used.
func preciseSleep(d time.Duration) { time.Sleep(d) }
