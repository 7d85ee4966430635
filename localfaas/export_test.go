package localfaas

import "github.com/faas-benchmarker/faas-benchmarker/internal/ports"

// SetReservePort replaces how p reserves an HTTP function's port, so a test
// can hand out a port that something else holds.
func SetReservePort(p *Platform, f func() (*ports.Reservation, error)) { p.reservePort = f }
