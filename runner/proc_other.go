//go:build !unix

package runner

import (
	"os"
	"os/exec"
)

// ownProcessGroup does nothing here: console signals are not sent to
// process groups the way a Unix terminal sends them.
func ownProcessGroup(*exec.Cmd) {}

// interrupt cannot deliver an interrupt here; the process is killed.
func interrupt(p *os.Process) error { return p.Kill() }

// wasKilled cannot tell here.
func wasKilled(*os.ProcessState) bool { return false }
