package runowner

import (
	"os"
	"os/exec"
	"runtime"
	"testing"
	"time"
)

func TestCheck(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("process start times are read on Linux only")
	}
	self := Self()
	host, _ := os.Hostname()
	if self.PID != os.Getpid() || self.Host != host || self.Start == "" {
		t.Fatalf("Self() = %+v", self)
	}
	// A real child, alive, then killed and reaped.
	child := exec.Command("sleep", "60")
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	owner, err := Of(child.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	if got := Check(owner); got != Alive {
		t.Errorf("live child: %v, want alive", got)
	}
	if err := child.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = child.Wait()
	tests := []struct {
		name  string
		owner Owner
		want  State
	}{
		{"self", self, Alive},
		{"killed child", owner, Gone},
		{"pid reused", Owner{Host: host, PID: self.PID, Start: self.Start + "0"}, Gone},
		{"another host", Owner{Host: host + ".elsewhere", PID: owner.PID, Start: owner.Start}, Unknown},
		{"no owner recorded", Owner{}, Unknown},
		{"no start recorded", Owner{Host: host, PID: self.PID}, Unknown},
	}
	for _, tc := range tests {
		if got := Check(tc.owner); got != tc.want {
			t.Errorf("%s: Check(%+v) = %v, want %v", tc.name, tc.owner, got, tc.want)
		}
	}
}

// TestZombieIsGone: a killed child not yet reaped by its parent still has
// a /proc entry; it is gone all the same.
func TestZombieIsGone(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("Linux only")
	}
	child := exec.Command("sleep", "60")
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	defer child.Wait()
	owner, err := Of(child.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	if err := child.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	// Until Wait, the child is a zombie; poll until the kernel has killed it.
	for i := 0; Check(owner) != Gone; i++ {
		if i > 1000 {
			t.Fatal("killed child still alive after 10 s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestExists: this process exists; a reaped child and pid 0 do not.
func TestExists(t *testing.T) {
	if !Exists(os.Getpid()) {
		t.Fatal("this process does not exist")
	}
	child := exec.Command("true")
	if err := child.Run(); err != nil {
		t.Skip("no true command:", err)
	}
	if Exists(child.Process.Pid) {
		t.Errorf("reaped child %d still exists", child.Process.Pid)
	}
	if Exists(0) || Exists(-1) {
		t.Error("pid 0 or -1 exists")
	}
}
