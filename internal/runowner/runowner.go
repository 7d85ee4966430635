// Package runowner identifies the process that owns a run — its host, pid
// and the start of that very process — and tells whether it is still
// alive, so that a run left "running" by a process that died (SIGKILL, a
// power cut, an OOM kill) can be shown as crashed instead of running
// forever.
//
// The start makes the identity survive pid reuse: a new process that got
// the same pid has a different start. On Linux the start is the boot id
// and the process start time in clock ticks since boot (/proc/PID/stat
// field 22), so a reboot changes it too. Elsewhere it is empty and
// liveness is Unknown.
package runowner

import (
	"errors"
	"os"
)

// Owner identifies one process on one host.
type Owner struct {
	// Host is the owner's os.Hostname().
	Host string
	// PID is the owner's process id (0: no owner recorded).
	PID int
	// Start identifies this process among all that had PID (opaque; empty
	// when the platform cannot tell).
	Start string
}

// State is what can be known about an owner.
type State int

// States of an owner.
const (
	// Unknown: no owner recorded, another host, or no way to check here.
	Unknown State = iota
	// Alive: the very process still runs.
	Alive
	// Gone: the process has exited (or its pid now belongs to another
	// process).
	Gone
)

// String names the state.
func (s State) String() string {
	switch s {
	case Alive:
		return "alive"
	case Gone:
		return "gone"
	default:
		return "unknown"
	}
}

// errNoProcess means no (live) process has the pid.
var errNoProcess = errors.New("runowner: no such process")

// Self returns the identity of the calling process.
func Self() Owner {
	o, err := Of(os.Getpid())
	if err != nil { // cannot happen on Linux; elsewhere Start stays empty
		host, _ := os.Hostname()
		return Owner{Host: host, PID: os.Getpid()}
	}
	return o
}

// Of returns the identity of the live process pid on this host.
func Of(pid int) (Owner, error) {
	host, _ := os.Hostname()
	start, err := processStart(pid)
	if err != nil {
		return Owner{}, err
	}
	return Owner{Host: host, PID: pid, Start: start}, nil
}

// Check tells whether o still runs. Only owners on this host can be
// checked; an owner without a recorded start is Alive only if that is
// certain, i.e. never: a process with its pid exists, but may be another.
func Check(o Owner) State {
	if o.PID <= 0 || o.Host == "" {
		return Unknown
	}
	if host, err := os.Hostname(); err != nil || host != o.Host {
		return Unknown
	}
	start, err := processStart(o.PID)
	switch {
	case errors.Is(err, errNoProcess):
		return Gone
	case err != nil, o.Start == "" || start == "":
		return Unknown
	case start != o.Start:
		return Gone // the pid was reused
	default:
		return Alive
	}
}
