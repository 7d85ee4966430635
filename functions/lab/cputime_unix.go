//go:build unix && !linux

package lab

import (
	"syscall"
	"time"
)

// threadCPU returns the process CPU time where per-thread usage is not
// available.
func threadCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
