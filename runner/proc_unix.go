//go:build unix

package runner

import (
	"os"
	"os/exec"
	"syscall"
)

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
