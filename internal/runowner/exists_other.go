//go:build !unix

package runowner

import "os"

// Exists reports whether a process with pid runs on this host — any
// process: the pid may have been reused. On Windows finding a process
// opens it, which fails when there is none; where that cannot tell, it
// counts as running.
func Exists(pid int) bool {
	if pid <= 0 {
		return false
	}
	p, err := os.FindProcess(pid)
	if err != nil {
		return false
	}
	_ = p.Release()
	return true
}
