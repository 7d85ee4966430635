//go:build !linux

package study

import "os/exec"

// setDeathSignal: only Linux can tie a child's life to its parent; here a
// cell's process outlives a killed study (docs/studies.md).
func setDeathSignal(*exec.Cmd) {}
