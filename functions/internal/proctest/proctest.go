// Package proctest helps tests run lab function binaries as real
// processes: it builds them once per test binary, starts them in their own
// process group and always kills the whole group when the test ends, so no
// child (or grandchild, like the function under the Lambda emulator)
// outlives the test.
package proctest

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/faas-benchmarker/faas-benchmarker/internal/testtools"
)

// Builder builds Go main packages into a temporary directory, once per
// package path and tag set. Close removes the directory.
type Builder struct {
	dir   string
	mu    sync.Mutex
	built map[string]string
}

// NewBuilder creates the build directory.
func NewBuilder() (*Builder, error) {
	dir, err := os.MkdirTemp("", "fb-proctest-")
	if err != nil {
		return nil, err
	}
	return &Builder{dir: dir, built: map[string]string{}}, nil
}

// Close removes every binary built.
func (b *Builder) Close() error { return os.RemoveAll(b.dir) }

// Build compiles pkg (a full import path) with CGO_ENABLED=0 and the given
// build tags, named name, and returns the binary's path.
func (b *Builder) Build(t testing.TB, pkg, name string, tags ...string) string {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	key := pkg + "|" + strings.Join(tags, ",")
	if p, ok := b.built[key]; ok {
		return p
	}
	sub := filepath.Join(b.dir, fmt.Sprint(len(b.built)))
	if err := os.MkdirAll(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(sub, name)
	args := []string{"build", "-o", out}
	if len(tags) > 0 {
		args = append(args, "-tags", strings.Join(tags, ","))
	}
	cmd := exec.Command("go", append(args, pkg)...)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, msg)
	}
	b.built[key] = out
	return out
}

// Output is a goroutine-safe buffer for a process's output.
type Output = testtools.Buffer

// Proc is a started process group.
type Proc struct {
	Cmd *exec.Cmd
	Out *Output
	mu  sync.Mutex
	// done is closed when the process has been waited for.
	done chan struct{}
}

// Start starts cmd in a new process group with stdout and stderr captured,
// and registers a cleanup that kills the group and waits for the process.
// On test failure the output is logged.
func Start(t testing.TB, cmd *exec.Cmd) *Proc {
	t.Helper()
	p := &Proc{Cmd: cmd, Out: &Output{}, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = p.Out, p.Out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", cmd.Path, err)
	}
	go func() {
		_ = cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.Kill()
		if t.Failed() {
			t.Logf("output of %s:\n%s", filepath.Base(cmd.Path), p.Out.String())
		}
	})
	return p
}

// Kill kills the process group (the process and its children) and waits
// for the process to exit. It is idempotent.
func (p *Proc) Kill() {
	p.mu.Lock()
	defer p.mu.Unlock()
	select {
	case <-p.done:
	default:
		_ = syscall.Kill(-p.Cmd.Process.Pid, syscall.SIGKILL)
		<-p.done
	}
	// Children that outlived the leader are in the same group.
	_ = syscall.Kill(-p.Cmd.Process.Pid, syscall.SIGKILL)
}

// FreeAddr returns a loopback address with a port that was free a moment
// ago.
func FreeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// WaitTCP waits until addr accepts connections or the process exits.
func (p *Proc) WaitTCP(t testing.TB, addr string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		select {
		case <-p.done:
			t.Fatalf("%s exited before listening on %s:\n%s", p.Cmd.Path, addr, p.Out.String())
		default:
		}
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s did not listen on %s within %v:\n%s", p.Cmd.Path, addr, timeout, p.Out.String())
}

// WaitOutput waits until the output contains substr and returns the
// output, or fails the test.
func (p *Proc) WaitOutput(t testing.TB, substr string, timeout time.Duration) string {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if s := p.Out.String(); strings.Contains(s, substr) {
			return s
		}
		select {
		case <-p.done:
			t.Fatalf("%s exited before printing %q:\n%s", p.Cmd.Path, substr, p.Out.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	t.Fatalf("%s did not print %q within %v:\n%s", p.Cmd.Path, substr, timeout, p.Out.String())
	return ""
}
