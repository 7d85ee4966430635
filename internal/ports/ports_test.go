package ports

import (
	"net"
	"strings"
	"testing"
)

func TestRangeBelowEphemeral(t *testing.T) {
	lo, hi := Range()
	if lo != lowest || hi <= lo+1000 {
		t.Fatalf("Range() = [%d, %d)", lo, hi)
	}
}

// TestReservationHoldsPortForChild: a reserved port is in range, a
// listener (what the child opens) binds it, and while reserved no other
// reservation — in this process or any other — gets it.
func TestReservationHoldsPortForChild(t *testing.T) {
	lo, hi := Range()
	for range 20 {
		r, err := Reserve()
		if err != nil {
			t.Fatal(err)
		}
		if r.Port < lo || r.Port >= hi {
			t.Fatalf("Reserve() = %d, outside [%d, %d)", r.Port, lo, hi)
		}
		if _, err := reserve(r.Port); err == nil {
			t.Fatalf("port %d reserved twice", r.Port)
		}
		ln, err := net.Listen("tcp", r.Addr())
		if err != nil {
			t.Fatalf("the child cannot bind its reserved port %d: %v", r.Port, err)
		}
		if _, err := reserve(r.Port); err == nil {
			t.Fatalf("port %d reserved while its child listens", r.Port)
		}
		ln.Close()
		if err := r.Close(); err != nil {
			t.Fatal(err)
		}
		if err := r.Close(); err != nil {
			t.Fatalf("second Close: %v", err)
		}
		again, err := reserve(r.Port)
		if err != nil {
			t.Fatalf("port %d not free after its reservation closed: %v", r.Port, err)
		}
		again.Close()
	}
}

// TestReserveSkipsBoundPorts: a port with a listener on it is never
// reserved.
func TestReserveSkipsBoundPorts(t *testing.T) {
	lo, _ := Range()
	ln, err := net.Listen("tcp", Addr(lo))
	if err != nil {
		t.Skipf("port %d busy: %v", lo, err)
	}
	defer ln.Close()
	if _, err := reserve(lo); err == nil {
		t.Fatalf("reserved port %d although a listener is bound", lo)
	}
}

func TestReserveNDistinct(t *testing.T) {
	rs, err := ReserveN(20)
	if err != nil {
		t.Fatal(err)
	}
	defer CloseAll(rs)
	seen := map[int]bool{}
	for _, r := range rs {
		if seen[r.Port] || !strings.HasPrefix(r.Addr(), "127.0.0.1:") {
			t.Fatalf("bad or repeated reservation %s", r.Addr())
		}
		seen[r.Port] = true
	}
}

func TestInUse(t *testing.T) {
	// A real bind failure's text, as a Go child prints it.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, bindErr := net.Listen("tcp", ln.Addr().String())
	if bindErr == nil {
		t.Fatal("second bind succeeded")
	}
	for _, tc := range []struct {
		out  string
		want bool
	}{
		{bindErr.Error(), true},
		{"[PANIC] (rapid) listen tcp 127.0.0.1:38381: bind: address already in use", true},
		{"ERROR Unable to start the server: Specified port is already in use", true},
		{"listen tcp 127.0.0.1:1: bind: permission denied", false},
		{"", false},
	} {
		if got := InUse(tc.out); got != tc.want {
			t.Errorf("InUse(%q) = %v, want %v", tc.out, got, tc.want)
		}
	}
}
