package lab

import (
	"os"
	"path/filepath"
	"syscall"
	"time"
	"unsafe"
)

// clockTicks is USER_HZ, the unit of /proc/<pid>/stat times; it is 100 on
// every Linux architecture Go supports.
const clockTicks = 100

// clockBoottime is CLOCK_BOOTTIME, the clock /proc/<pid>/stat starttime
// is measured on.
const clockBoottime = 7

// processStart returns the kernel's start time of this process as wall
// time: now - (boottime(now) - starttime). Its resolution is one clock tick
// (10 ms).
func processStart(proc string, now time.Time) (time.Time, bool) {
	stat, err := os.ReadFile(filepath.Join(proc, "self/stat"))
	if err != nil {
		return time.Time{}, false
	}
	ticks, ok := statStartTicks(stat)
	if !ok {
		return time.Time{}, false
	}
	var ts syscall.Timespec
	if _, _, e := syscall.Syscall(syscall.SYS_CLOCK_GETTIME, clockBoottime, uintptr(unsafe.Pointer(&ts)), 0); e != 0 {
		return time.Time{}, false
	}
	uptime := time.Duration(ts.Nano())
	sinceStart := uptime - time.Duration(ticks)*time.Second/clockTicks
	if sinceStart < 0 {
		return time.Time{}, false
	}
	return now.Add(-sinceStart), true
}
