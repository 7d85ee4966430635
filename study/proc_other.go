//go:build !linux

package study

import (
	"os/exec"

	"github.com/faas-benchmarker/faas-benchmarker/runowner"
)

// setDeathSignal: only Linux can tie a child's life to its parent; here a
// cell's process outlives a killed study (docs/studies.md).
func setDeathSignal(*exec.Cmd) {}

// processToken has no portable process start time: "" (pids are then
// compared alone).
func processToken(int) string { return "" }

// alive reports whether process pid exists (runowner.Exists).
func alive(pid int, _ string) bool { return runowner.Exists(pid) }
