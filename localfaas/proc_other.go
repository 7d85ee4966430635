//go:build unix && !linux

package localfaas

import (
	"os"
	"syscall"
)

// sysProcAttr puts every instance in its own process group. Outside Linux
// there is no parent-death signal: a killed platform may leave instances.
func sysProcAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true} }

// killGroup sends SIGKILL to the process group of pid.
func killGroup(pid int) error {
	err := syscall.Kill(-pid, syscall.SIGKILL)
	if err == syscall.ESRCH {
		return nil
	}
	return err
}

// maxRSSMB is unavailable outside Linux.
func maxRSSMB(int) int { return 0 }

// pendingBytes is unavailable outside Linux.
func pendingBytes(*os.File) int { return 0 }
