//go:build unix

package runner

import (
	"errors"
	"os"
	"os/exec"
	"syscall"
)

// pidAlive reports whether a local process with this pid exists.
func pidAlive(pid int) bool {
	if pid <= 0 {
		return false
	}
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// ownProcessGroup makes cmd the leader of a new process group, so that
// signals a terminal sends to fbrun's foreground group do not reach it.
func ownProcessGroup(cmd *exec.Cmd) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setpgid = true
}

// interrupt asks a process to stop gracefully (SIGINT).
func interrupt(p *os.Process) error { return p.Signal(os.Interrupt) }

// wasKilled reports whether the process ended by SIGKILL.
func wasKilled(ps *os.ProcessState) bool {
	if ps == nil {
		return false
	}
	ws, ok := ps.Sys().(syscall.WaitStatus)
	return ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL
}
