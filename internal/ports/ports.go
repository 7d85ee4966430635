// Package ports gives a child process that must bind a TCP port number
// itself (the AWS Lambda Runtime Interface Emulator, MinIO, an HTTP custom
// handler on the local platform) a loopback port, holds it for the child,
// and recognises the one way that can still go wrong, so the caller can
// start the child again on another port.
//
// Why not listen on 127.0.0.1:0 and hand the number over: the kernel gives
// :0 listeners and the local ends of outgoing connections ports from the
// same ephemeral range (net.ipv4.ip_local_port_range). Once the finding
// listener is closed, the next outgoing connection or :0 listener anywhere
// on the machine may take the port before the child binds it — on a busy
// machine running test packages in parallel, that happens (issue 23).
//
// Reserve instead chooses at random from below the ephemeral range, where
// the kernel never allocates a port on its own, and on Linux keeps a socket
// bound to it (SO_REUSEADDR, never listening) until the Reservation is
// closed. The child's listener (which sets SO_REUSEADDR, as Go's, Node's
// and most servers' do) binds beside it, while every other Reserve, in this
// process or another, sees the port taken and draws again. Only a foreign
// program that binds an explicit port in this range with SO_REUSEADDR could
// still take it; the child then exits saying so, InUse recognises that, and
// the caller retries with a new port, at most Attempts times in all.
package ports

import (
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
)

// Attempts is how many times a caller starts a child on fresh ports before
// it gives up: a collision needs another binder to choose the same port of
// thousands in the same instant, so five in a row do not happen.
const Attempts = 5

// ErrInUse marks an error of a child that could not bind its port because
// something else had it. Callers retry on errors.Is(err, ErrInUse).
var ErrInUse = errors.New("address already in use")

// lowest is the bottom of the range Pick draws from: above the registered
// ports of common local services (databases, brokers) and below every
// platform's default ephemeral range (Linux 32768, BSD/macOS/Windows 49152).
const lowest = 20000

// Range returns the half-open range [lo, hi) that Pick draws from: from
// 20000 up to the start of this machine's ephemeral range (Linux:
// /proc/sys/net/ipv4/ip_local_port_range), or 32768 where it cannot be read.
func Range() (lo, hi int) {
	hi = 32768
	if b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err == nil {
		if f := strings.Fields(string(b)); len(f) == 2 {
			if n, err := strconv.Atoi(f[0]); err == nil && n > lowest+1000 {
				hi = n
			}
		}
	}
	return lowest, hi
}

// Reservation holds a loopback port for a child process that will bind it.
type Reservation struct {
	// Port is the reserved port.
	Port int
	// hold is what keeps the port (a bound socket); nil where the
	// platform has no way to hold a port (see reserve).
	hold io.Closer
}

// Addr is the reserved loopback address, "127.0.0.1:port".
func (r *Reservation) Addr() string { return Addr(r.Port) }

// Close gives the port up. It is safe to call more than once.
func (r *Reservation) Close() error {
	if r == nil || r.hold == nil {
		return nil
	}
	err := r.hold.Close()
	r.hold = nil
	return err
}

// Reserve returns a reservation of a loopback TCP port below the ephemeral
// range that nothing was bound to.
func Reserve() (*Reservation, error) {
	lo, hi := Range()
	var last error
	for range 200 {
		p := lo + rand.IntN(hi-lo)
		r, err := reserve(p)
		if err == nil {
			return r, nil
		}
		last = err
	}
	return nil, fmt.Errorf("ports: no free port in [%d, %d) after 200 tries: %w", lo, hi, last)
}

// ReserveN reserves n distinct ports; on error it closes what it reserved.
func ReserveN(n int) ([]*Reservation, error) {
	rs := make([]*Reservation, 0, n)
	for len(rs) < n {
		r, err := Reserve()
		if err != nil {
			CloseAll(rs)
			return nil, err
		}
		rs = append(rs, r)
	}
	return rs, nil
}

// CloseAll closes every reservation in rs.
func CloseAll(rs []*Reservation) {
	for _, r := range rs {
		_ = r.Close()
	}
}

// Addr is the loopback address of port.
func Addr(port int) string { return "127.0.0.1:" + strconv.Itoa(port) }

// InUse reports whether a child's output says that it could not bind its
// address because something else had it: Go's and the C library's
// "address already in use" (EADDRINUSE), and the "port is already in use"
// of servers that translate it (MinIO).
func InUse(output string) bool {
	return strings.Contains(strings.ToLower(output), "already in use")
}
