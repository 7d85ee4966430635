package localfaas

import (
	"errors"
	"os/exec"
	"runtime"
)

// spawner starts every instance process from one OS thread that lives as
// long as the platform. On Linux the parent-death signal (Pdeathsig) fires
// when the *thread* that forked the child exits, not the process; the Go
// runtime may end a thread when a goroutine locked to it exits, so
// spawning from arbitrary goroutines would make Pdeathsig unreliable.
type spawner struct {
	reqs chan spawnReq
	done chan struct{}
}

type spawnReq struct {
	cmd *exec.Cmd
	err chan error
}

var errSpawnerStopped = errors.New("localfaas: the platform is closed")

func newSpawner() *spawner {
	s := &spawner{reqs: make(chan spawnReq), done: make(chan struct{})}
	go s.loop()
	return s
}

func (s *spawner) loop() {
	// Stay on this thread for the platform's life; when the loop returns
	// the thread exits with it (every child is dead by then).
	runtime.LockOSThread()
	for {
		select {
		case r := <-s.reqs:
			r.err <- r.cmd.Start()
		case <-s.done:
			return
		}
	}
}

// start runs cmd.Start on the spawner's thread.
func (s *spawner) start(cmd *exec.Cmd) error {
	r := spawnReq{cmd: cmd, err: make(chan error, 1)}
	select {
	case s.reqs <- r:
		return <-r.err
	case <-s.done:
		return errSpawnerStopped
	}
}

// stop ends the spawner; later starts fail.
func (s *spawner) stop() { close(s.done) }
