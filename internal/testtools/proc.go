package testtools

import (
	"errors"
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

	"github.com/faas-benchmarker/faas-benchmarker/internal/ports"
)

// Proc is a child process started by Start in its own process group.
type Proc struct {
	Cmd *exec.Cmd
	Out *Buffer
	mu  sync.Mutex
	// done is closed when the process has been waited for.
	done chan struct{}
}

// Start starts cmd in a new process group with stdout and stderr captured,
// and registers a cleanup that kills the group and waits for the process.
// On test failure the output is logged.
func Start(t testing.TB, cmd *exec.Cmd) *Proc {
	t.Helper()
	p := &Proc{Cmd: cmd, Out: &Buffer{}, done: make(chan struct{})}
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

// Exited is closed when the process has exited and been waited for.
func (p *Proc) Exited() <-chan struct{} { return p.done }

// ListenErr is the error for a process that exited before it listened: it
// wraps ports.ErrInUse when its output says its address was taken.
func (p *Proc) ListenErr(addr string) error {
	err := fmt.Errorf("%s exited before listening on %s:\n%s", p.Cmd.Path, addr, p.Out.String())
	if ports.InUse(p.Out.String()) {
		return fmt.Errorf("%w: %w", ports.ErrInUse, err)
	}
	return err
}

// WaitTCP waits until addr accepts connections. It returns an error when
// the process exits first (wrapping ports.ErrInUse when the process said
// its address was taken) or when timeout passes.
func (p *Proc) WaitTCP(addr string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		select {
		case <-p.done:
			return p.ListenErr(addr)
		default:
		}
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			// A listener that answered while the process was dying on a
			// failed bind is someone else's.
			select {
			case <-p.done:
				return p.ListenErr(addr)
			default:
			}
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("%s did not listen on %s within %v:\n%s", p.Cmd.Path, addr, timeout, p.Out.String())
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

// OnFreeAddrs calls start with n loopback addresses reserved for children
// that must bind an address they are given (ports.Reserve: held until the
// test ends, so no other test process can take them). When start fails with
// ports.ErrInUse — a foreign program took an address anyway — start is
// called again with new addresses, at most ports.Attempts times in all; any
// other error, or the last one, fails the test. start must stop what it
// started before it returns an error.
func OnFreeAddrs(t testing.TB, n int, start func(addrs []string) error) {
	t.Helper()
	var err error
	for range ports.Attempts {
		rs, rerr := ports.ReserveN(n)
		if rerr != nil {
			t.Fatal(rerr)
		}
		addrs := make([]string, n)
		for i, r := range rs {
			addrs[i] = r.Addr()
		}
		if err = start(addrs); err == nil {
			t.Cleanup(func() { ports.CloseAll(rs) })
			return
		}
		ports.CloseAll(rs)
		if !errors.Is(err, ports.ErrInUse) {
			t.Fatal(err)
		}
		t.Logf("address taken, retrying on new ports: %v", err)
	}
	t.Fatalf("no free addresses after %d attempts: %v", ports.Attempts, err)
}

// StartOnFreeAddrs starts the command that newCmd builds for n reserved
// loopback addresses, waits until it accepts connections on addrs[0], and
// retries on new addresses when the process exits because one was taken
// (OnFreeAddrs). It returns the process and its addresses.
func StartOnFreeAddrs(t testing.TB, n int, timeout time.Duration, newCmd func(addrs []string) *exec.Cmd) (*Proc, []string) {
	t.Helper()
	var p *Proc
	var got []string
	OnFreeAddrs(t, n, func(addrs []string) error {
		p = Start(t, newCmd(addrs))
		if err := p.WaitTCP(addrs[0], timeout); err != nil {
			p.Kill()
			return err
		}
		got = addrs
		return nil
	})
	return p, got
}

// StartRIE runs the function command argv (a binary and its arguments) under the AWS Lambda Runtime
// Interface Emulator (skipping, or failing under FB_REQUIRE_TOOLS=1, when
// it is not installed), bound to loopback addresses — never its default
// 0.0.0.0:8080 — with env as its whole environment plus PATH. It returns
// the process and the emulator's address; invoke the function at
// "http://" + addr + RIEInvokePath. The emulator serves one request at a
// time: two overlapping requests crash it.
func StartRIE(t testing.TB, argv []string, env ...string) (p *Proc, addr string) {
	t.Helper()
	rie := Require(t, "aws-lambda-rie", "FB_RIE")
	p, addrs := StartOnFreeAddrs(t, 2, 30*time.Second, func(addrs []string) *exec.Cmd {
		args := append([]string{"--runtime-interface-emulator-address", addrs[0], "--runtime-api-address", addrs[1]}, argv...)
		cmd := exec.Command(rie, args...)
		cmd.Env = append([]string{"PATH=" + os.Getenv("PATH")}, env...)
		return cmd
	})
	return p, addrs[0]
}

// RIEInvokePath is the emulator's Invoke path: it serves one function,
// named "function".
const RIEInvokePath = "/2015-03-31/functions/function/invocations"
