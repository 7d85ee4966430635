package localfaas_test

import (
	"context"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/faas-benchmarker/faas-benchmarker/internal/ports"
	"github.com/faas-benchmarker/faas-benchmarker/localfaas"
)

// blockedPort binds a socket to a loopback port without listening on it
// and without SO_REUSEADDR: an HTTP function told to listen there fails
// with "address already in use", and nothing answers a connection to it
// (so readiness cannot be faked by someone else's listener). It is what
// another process's port probe looks like in the instant it holds a port.
func blockedPort(t *testing.T) int {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = syscall.Close(fd) })
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	return sa.(*syscall.SockaddrInet4).Port
}

// TestHTTPInstanceRebindsWhenItsPortIsTaken: an HTTP function whose port
// was taken before it could bind it is spawned again on a new port, and
// the invocation waiting for it succeeds as one cold start; when every port
// it is given is taken, the invocation fails after ports.Attempts spawns
// with an init error that says why.
func TestHTTPInstanceRebindsWhenItsPortIsTaken(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		takenFor  int32 // how many reservations hand out the blocked port
		wantCalls int32
		wantOK    bool
	}{
		{"taken once", 1, 2, true},
		{"always taken", 1 << 20, ports.Attempts, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			taken := blockedPort(t)
			cfg := localfaas.DefaultConfig()
			cfg.Functions = []localfaas.FunctionSpec{httpSpec(t, "web")}
			p, err := localfaas.New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			var calls atomic.Int32
			localfaas.SetReservePort(p, func() (*ports.Reservation, error) {
				if calls.Add(1) <= tc.takenFor {
					return &ports.Reservation{Port: taken}, nil
				}
				return ports.Reserve()
			})
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := p.Start(ctx); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() {
				ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
				defer cancel()
				_ = p.Close(ctx)
			})

			out := invoke(t, sdkClient(p), "web", map[string]any{"n": 1})
			failed := aws.ToString(out.FunctionError) != ""
			if failed == tc.wantOK {
				t.Fatalf("function error %q, payload %s; want success %v", aws.ToString(out.FunctionError), out.Payload, tc.wantOK)
			}
			if got := calls.Load(); got != tc.wantCalls {
				t.Errorf("%d ports reserved, want %d", got, tc.wantCalls)
			}
			var created, initDone, initErr int
			var detail string
			for _, e := range p.Events() {
				switch e.Kind {
				case localfaas.EventCreated:
					created++
				case localfaas.EventInitDone:
					initDone++
				case localfaas.EventInitError:
					initErr++
					detail = e.Detail
				}
			}
			if created != 1 {
				t.Errorf("%d instances created, want 1 (a rebind is the same instance)", created)
			}
			if tc.wantOK && (initDone != 1 || initErr != 0) {
				t.Errorf("init done %d, init errors %d; want 1 and 0", initDone, initErr)
			}
			if !tc.wantOK {
				if initErr != 1 {
					t.Errorf("%d init errors, want 1", initErr)
				}
				if !strings.Contains(string(out.Payload), "Runtime.ExitError") {
					t.Errorf("payload %s, want Runtime.ExitError", out.Payload)
				}
				if !strings.Contains(detail, "address already in use") {
					t.Errorf("init error detail %q does not say why", detail)
				}
			}
		})
	}
}
