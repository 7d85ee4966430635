//go:build unix

package main

import (
	"net"
	"testing"

	"golang.org/x/sys/unix"
)

// TestAbortiveCloseListener: the target's accepted connections close with
// a reset (SO_LINGER on, 0 s), so no measurement leaves TIME_WAIT behind.
func TestAbortiveCloseListener(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := abortiveCloseListener{ln}
	defer l.Close()
	client, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	c, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	raw, err := c.(*net.TCPConn).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var lg *unix.Linger
	var gerr error
	if err := raw.Control(func(fd uintptr) { lg, gerr = unix.GetsockoptLinger(int(fd), unix.SOL_SOCKET, unix.SO_LINGER) }); err != nil || gerr != nil {
		t.Fatal(err, gerr)
	}
	if lg.Onoff == 0 || lg.Linger != 0 {
		t.Errorf("SO_LINGER = %+v, want on with 0 s", *lg)
	}
}
