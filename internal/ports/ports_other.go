//go:build !linux

package ports

import (
	"fmt"
	"net"
)

// reserve checks that port is free by listening on it and closing the
// listener. Outside Linux the port is not held: SO_REUSEADDR does not let
// a child bind beside a held socket everywhere, so there a child can lose
// the port to another binder, and the caller's retry (InUse) is what
// remains.
func reserve(port int) (*Reservation, error) {
	ln, err := net.Listen("tcp", Addr(port))
	if err != nil {
		return nil, fmt.Errorf("ports: %w", err)
	}
	if err := ln.Close(); err != nil {
		return nil, fmt.Errorf("ports: close probe listener: %w", err)
	}
	return &Reservation{Port: port}, nil
}
