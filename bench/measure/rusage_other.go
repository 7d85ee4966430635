//go:build !unix

package measure

import (
	"errors"
	"time"
)

// cpuTimes is not available on this system.
func cpuTimes() (user, sys time.Duration, err error) {
	return 0, 0, errors.New("getrusage is not available on this system")
}

// CPUTime is not available on this system.
func CPUTime() (time.Duration, error) {
	u, s, err := cpuTimes()
	return u + s, err
}
