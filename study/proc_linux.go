package study

import (
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
)

// setDeathSignal makes the kernel send SIGTERM to the cell's process when
// the study process dies (even by SIGKILL): the child then stops the way
// Ctrl-C stops `fbrun experiment` — its run is marked interrupted and its
// stack torn down — instead of running on unseen next to a resumed study.
func setDeathSignal(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
}

// processToken returns the start time of process pid (field 22 of
// /proc/PID/stat, in clock ticks since boot), which tells a reused pid
// apart; "" when the process does not exist.
func processToken(pid int) string {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return ""
	}
	// The command name (field 2) may contain spaces: count after ")".
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return ""
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 20 {
		return ""
	}
	return f[19] // field 22 overall: 2 fields (pid, comm) before the ")"
}

// alive reports whether the process pid with start token token runs.
func alive(pid int, token string) bool {
	if pid <= 0 {
		return false
	}
	t := processToken(pid)
	return t != "" && (token == "" || t == token)
}
