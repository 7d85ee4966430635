package runner

import (
	"os"
	"regexp"
	"strconv"
)

// lockHolderRE matches the lock holders a self-managed (diy) backend lists
// when a stack is locked: "created by <user>@<host> (pid <pid>)".
var lockHolderRE = regexp.MustCompile(`created by [^@\s]*@(\S+) \(pid (\d+)\)`)

// staleLocks reports whether every lock listed in a "stack is locked"
// error message was taken by a process of this host that no longer runs —
// a Pulumi CLI killed in the middle of an operation (the Automation API
// kills the CLI when it has not stopped 10 s after an interrupt). Such
// locks are safe to remove. alive tells whether a local pid runs.
func staleLocks(msg, hostname string, alive func(pid int) bool) bool {
	m := lockHolderRE.FindAllStringSubmatch(msg, -1)
	if len(m) == 0 || hostname == "" {
		return false
	}
	for _, h := range m {
		pid, err := strconv.Atoi(h[2])
		if err != nil || h[1] != hostname || alive(pid) {
			return false
		}
	}
	return true
}

func hostname() string {
	h, _ := os.Hostname()
	return h
}
