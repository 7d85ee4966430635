//go:build !linux

package study

import (
	"os"
	"os/exec"
	"syscall"
)

// setDeathSignal: only Linux can tie a child's life to its parent; here a
// cell's process outlives a killed study (docs/studies.md).
func setDeathSignal(*exec.Cmd) {}

// processToken has no portable process start time: "" (pids are then
// compared alone).
func processToken(int) string { return "" }

// alive reports whether process pid exists.
func alive(pid int, _ string) bool {
	if pid <= 0 {
		return false
	}
	p, err := os.FindProcess(pid)
	if err != nil {
		return false
	}
	return p.Signal(syscall.Signal(0)) == nil
}
