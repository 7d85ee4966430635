//go:build windows

package localfaas

import (
	"os"
	"syscall"
)

// sysProcAttr has no process groups or parent-death signal on Windows: a
// killed platform may leave instances running.
func sysProcAttr() *syscall.SysProcAttr { return nil }

// killGroup kills the process pid (not its children).
func killGroup(pid int) error {
	p, err := os.FindProcess(pid)
	if err != nil {
		return nil
	}
	return p.Kill()
}

// maxRSSMB is unavailable on Windows.
func maxRSSMB(int) int { return 0 }

// pendingBytes is unavailable on Windows.
func pendingBytes(*os.File) int { return 0 }
