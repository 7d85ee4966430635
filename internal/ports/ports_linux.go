package ports

import (
	"fmt"
	"os"
	"syscall"
)

// reserve binds a socket to 127.0.0.1:port without SO_REUSEADDR — so it
// fails while anything at all is bound there: a listener, a connection, or
// another reservation — and then sets SO_REUSEADDR on it and never listens,
// so a child's listener with SO_REUSEADDR may bind beside it (Linux allows
// two SO_REUSEADDR sockets on one address while neither listens; the
// child's listen then succeeds and the reservation keeps everyone else
// out). The socket is close-on-exec: no child inherits it.
func reserve(port int) (*Reservation, error) {
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("ports: socket: %w", err)
	}
	sa := &syscall.SockaddrInet4{Port: port, Addr: [4]byte{127, 0, 0, 1}}
	if err := syscall.Bind(fd, sa); err != nil {
		_ = syscall.Close(fd)
		return nil, fmt.Errorf("ports: bind %s: %w", Addr(port), err)
	}
	if err := syscall.SetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_REUSEADDR, 1); err != nil {
		_ = syscall.Close(fd)
		return nil, fmt.Errorf("ports: SO_REUSEADDR on %s: %w", Addr(port), err)
	}
	return &Reservation{Port: port, hold: os.NewFile(uintptr(fd), "reservation "+Addr(port))}, nil
}
