package study

import (
	"os/exec"
	"syscall"
)

// setDeathSignal makes the kernel send SIGTERM to the cell's process when
// the study process dies (even by SIGKILL): the child then stops the way
// Ctrl-C stops `fbrun experiment` — its run is marked interrupted and its
// stack torn down — instead of running on unseen next to a resumed study.
func setDeathSignal(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
}
