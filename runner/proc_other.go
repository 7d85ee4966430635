//go:build !unix

package runner

import (
	"os"
	"os/exec"
)

// pidAlive cannot tell on this system: report every process as alive, so
// that no lock is ever treated as stale.
func pidAlive(int) bool { return true }

// ownProcessGroup does nothing here: console signals are not sent to
// process groups the way a Unix terminal sends them.
func ownProcessGroup(*exec.Cmd) {}

// interrupt cannot deliver an interrupt here; the process is killed.
func interrupt(p *os.Process) error { return p.Kill() }

// wasKilled cannot tell here.
func wasKilled(*os.ProcessState) bool { return false }
