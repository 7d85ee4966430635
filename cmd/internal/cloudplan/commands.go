package cloudplan

import (
	"errors"
	"io"
	"log/slog"
	"time"
)

// The cloud commands (up, down, cleanup, results pull) run in fbrun-cloud
// with the whole command line, which the same CLI package parses there;
// what it hands the cloud half is a Request and each command's typed
// options, and what comes back is typed too, for the CLI to print.

// EnvResultsKeyID and EnvResultsSecret hold the credentials of the results
// bucket (--results-bucket); they are read from the environment where the
// bucket is used, never put in a plan.
const (
	EnvResultsKeyID  = "FB_RESULTS_ACCESS_KEY_ID"
	EnvResultsSecret = "FB_RESULTS_SECRET_ACCESS_KEY"
)

// Request is the command-line context of a cloud command.
type Request struct {
	// Runner configures the Pulumi runner and the results bucket.
	Runner Runner
	// DB is the results database; shipped run files are kept in the
	// "runs" folder next to it.
	DB string
	// Logger receives the logs (the CLI's --log-level).
	Logger *slog.Logger
	// Progress receives Pulumi's output and progress lines (stderr).
	Progress io.Writer
}

// CleanupOptions select what `fbrun cleanup` destroys.
type CleanupOptions struct {
	// Stacks limits the cleanup to these stack names (none: every
	// experiment stack).
	Stacks []string
	// OlderThan skips runs that started more recently than this.
	OlderThan time.Duration
	// DryRun only lists what would be destroyed.
	DryRun bool
}

// CleanupItem is what `fbrun cleanup` did with one stack.
type CleanupItem struct {
	// Stack is the stack name.
	Stack string
	// Resources is the resource count the backend listed (-1 if unknown).
	Resources int
	// Action is "destroyed", "would destroy", "skipped" or "failed".
	Action string
	// Reason explains a skip or a failure.
	Reason string
}

// StackOutput is one output of the permanent stack.
type StackOutput struct {
	Key    string
	Value  any
	Secret bool
}

// PullReport is what `fbrun results pull` did.
type PullReport struct {
	// Objects is the number of run files found in the bucket.
	Objects int
	// Downloaded is how many of them were downloaded.
	Downloaded int
	// NewRuns are the run ids the merge added to the database.
	NewRuns []string
}

// UsageError is a cloud command's refusal of its input (exit code 2):
// nothing was started.
type UsageError struct{ Err error }

// Error implements error.
func (e *UsageError) Error() string { return e.Err.Error() }

// Unwrap returns the refused input's error.
func (e *UsageError) Unwrap() error { return e.Err }

// IsUsage reports whether err is (or wraps) a UsageError.
func IsUsage(err error) bool {
	var u *UsageError
	return errors.As(err, &u)
}
