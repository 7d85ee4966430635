package runowner

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"strings"
)

// processStart returns "<boot id>/<start ticks>" of the live process pid.
// A zombie (exited, not yet reaped) counts as no process.
func processStart(pid int) (string, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if errors.Is(err, fs.ErrNotExist) {
		return "", errNoProcess
	}
	if err != nil {
		return "", fmt.Errorf("runowner: %w", err)
	}
	// pid (comm) state ppid ...: comm may contain spaces and parentheses,
	// so fields are counted after the last ')'.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return "", fmt.Errorf("runowner: unexpected /proc/%d/stat", pid)
	}
	f := strings.Fields(s[i+1:])
	// f[0] is field 3 (state); starttime is field 22.
	if len(f) < 20 {
		return "", fmt.Errorf("runowner: unexpected /proc/%d/stat", pid)
	}
	if f[0] == "Z" || f[0] == "X" {
		return "", errNoProcess
	}
	boot, err := os.ReadFile("/proc/sys/kernel/random/boot_id")
	if err != nil {
		return "", fmt.Errorf("runowner: boot id: %w", err)
	}
	return strings.TrimSpace(string(boot)) + "/" + f[19], nil
}

// Exists reports whether a process with pid runs on this host — any
// process: the pid may have been reused (Check tells the very process).
// A zombie counts as gone; when /proc cannot tell, it counts as running.
func Exists(pid int) bool {
	if pid <= 0 {
		return false
	}
	_, err := processStart(pid)
	return !errors.Is(err, errNoProcess)
}
