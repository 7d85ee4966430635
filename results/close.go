package results

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/faas-benchmarker/faas-benchmarker/internal/runowner"
)

// CloseOptions select the runs CloseCrashedRuns closes.
type CloseOptions struct {
	// IDs names the runs to close; none means every run stored as running
	// whose owner process is known to be gone.
	IDs []string
	// Force also closes named runs whose owner cannot be checked here
	// (another host, or no owner recorded).
	Force bool
	// Now is the time written into the reason.
	Now time.Time
}

// CloseCrashedRuns stores crashed runs as StatusCrashed (CloseCrashed) and
// returns the ids it closed, in order. A named run is refused when it is
// not running, when its owner is alive, or when its owner cannot be
// checked and Force is not set; the runs closed before the refusal stay
// closed. Without IDs only runs whose owner is known to be gone are
// closed, and nothing is refused.
func (d *DB) CloseCrashedRuns(ctx context.Context, opts CloseOptions) ([]string, error) {
	runs, err := d.Runs(ctx, RunFilter{IDs: opts.IDs})
	if err != nil {
		return nil, err
	}
	named := len(opts.IDs) > 0
	var closed []string
	for _, r := range runs {
		if r.StoredStatus != StatusRunning || !r.EndedAt.IsZero() {
			if named {
				return closed, fmt.Errorf("run %s is %s, not running: nothing to close", r.ID, r.Status)
			}
			continue
		}
		state := runowner.Check(r.Owner)
		switch {
		case state == runowner.Gone:
		case !named:
			continue // only runs known to have crashed
		case state == runowner.Alive:
			return closed, fmt.Errorf("run %s is still running (pid %d on this host): stop it with Ctrl-C or kill %d", r.ID, r.Owner.PID, r.Owner.PID)
		case !opts.Force:
			return closed, fmt.Errorf("cannot tell whether run %s is still running (%s): pass --force if you know it is not", r.ID, ownerWhere(r.Owner))
		}
		at := opts.Now.UTC().Format(time.RFC3339)
		reason := fmt.Sprintf("crashed: owner process is gone (%s); closed by fbrun runs close at %s", ownerWhere(r.Owner), at)
		if state == runowner.Unknown {
			reason = fmt.Sprintf("closed as crashed with --force by fbrun runs close at %s (%s)", at, ownerWhere(r.Owner))
		}
		if err := d.CloseCrashed(ctx, r.ID, reason); err != nil {
			return closed, err
		}
		closed = append(closed, r.ID)
	}
	return closed, nil
}

// StatusText is r's status for people: its status, or for a run stored as
// running and not ended, "running (pid N)" when its owner is alive here,
// "running on HOST" when its owner is on another host, else "running (or
// crashed)".
func (r Run) StatusText() string {
	if r.Status != StatusRunning || !r.EndedAt.IsZero() {
		return r.Status
	}
	if runowner.Check(r.Owner) == runowner.Alive {
		return fmt.Sprintf("running (pid %d)", r.Owner.PID)
	}
	if me, err := os.Hostname(); r.Owner.Host != "" && (err != nil || me != r.Owner.Host) {
		return "running on " + r.Owner.Host
	}
	return "running (or crashed)"
}

// ownerWhere describes a run's owner for messages.
func ownerWhere(o runowner.Owner) string {
	if o.PID == 0 {
		return "no owner recorded"
	}
	return fmt.Sprintf("pid %d on %s", o.PID, o.Host)
}
