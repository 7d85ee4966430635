//go:build unix

package measure

import (
	"fmt"
	"syscall"
	"time"
)

// cpuTimes returns the user and system CPU time this process used so far.
func cpuTimes() (user, sys time.Duration, err error) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, 0, fmt.Errorf("getrusage: %w", err)
	}
	return time.Duration(ru.Utime.Nano()), time.Duration(ru.Stime.Nano()), nil
}

// CPUTime returns the user plus system CPU time this process used so far.
func CPUTime() (time.Duration, error) {
	u, s, err := cpuTimes()
	return u + s, err
}
