package runner

import (
	"testing"
)

func TestStaleLocks(t *testing.T) {
	const msg = "error: the stack is currently locked by 1 lock(s). Either wait for the other process(es) to end " +
		"or delete the lock file with `pulumi cancel`.\n  file:///s/.pulumi/locks/organization/p/s/x.json: " +
		"created by root@box (pid 4242) at 2026-11-26T06:00:00Z"
	two := msg + "\n  file:///s/.pulumi/locks/organization/p/s/y.json: created by root@box (pid 4343) at 2026-11-26T06:00:01Z"
	dead := func(int) bool { return false }
	for _, tc := range []struct {
		name  string
		msg   string
		host  string
		alive func(int) bool
		want  bool
	}{
		{"dead local holder", msg, "box", dead, true},
		{"live local holder", msg, "box", func(int) bool { return true }, false},
		{"other host", msg, "elsewhere", dead, false},
		{"two dead holders", two, "box", dead, true},
		{"one of two alive", two, "box", func(p int) bool { return p == 4343 }, false},
		{"no holder listed", "the stack is currently locked by 1 lock(s).", "box", dead, false},
		{"unknown hostname", msg, "", dead, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := staleLocks(tc.msg, tc.host, tc.alive); got != tc.want {
				t.Fatalf("staleLocks = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestPendingOperations(t *testing.T) {
	dep := []byte(`{"resources":[],"pending_operations":[{"resource":{"urn":"urn:pulumi:s::p::fblocal:index:Function::fn1","type":"fblocal:index:Function"},"type":"creating"}]}`)
	got := pendingOperations(dep)
	if len(got) != 1 || got[0] != "creating fblocal:index:Function urn:pulumi:s::p::fblocal:index:Function::fn1" {
		t.Fatalf("pendingOperations = %q", got)
	}
	if got := pendingOperations([]byte(`{"resources":[]}`)); len(got) != 0 {
		t.Fatalf("no pending operations: %q", got)
	}
}
