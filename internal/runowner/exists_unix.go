//go:build unix && !linux

package runowner

import (
	"errors"
	"syscall"
)

// Exists reports whether a process with pid runs on this host — any
// process: the pid may have been reused. Signal 0 checks without
// signalling; EPERM means it exists but belongs to another user.
func Exists(pid int) bool {
	if pid <= 0 {
		return false
	}
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
