// Package exitcode defines the exit codes of fbrun that callers act on: a
// study runs each cell as `fbrun experiment` and decides from the code
// whether to retry, give up or stop; scripts do the same.
package exitcode

const (
	// Failed: the command ran and failed (a failed run, a stack that
	// never came up, a database error).
	Failed = 1
	// Usage: bad input, reported before anything ran; retrying cannot help.
	Usage = 2
	// Teardown: a managed run's stack may be left behind (its teardown
	// failed); nothing further should be deployed until fbrun cleanup.
	Teardown = 3
	// CellsFailed: `fbrun study run` finished the study run, and some
	// cells failed after their retries (a scheduled study's service is
	// not restarted on it).
	CellsFailed = 4
	// Interrupted: stopped by Ctrl-C, SIGTERM or SIGHUP; everything
	// measured so far is stored (128 + SIGINT, the shell convention).
	Interrupted = 130
)
