// Package doctor is the preflight of a run: checks that create nothing and
// tell, one line each, whether what a run on a platform needs is there —
// the Pulumi CLI and provider plugins, the stack passphrase, the state
// backend, cloud credentials, account limits, the built function
// packages, the stack settings. `fbrun doctor [--platform P]` prints them;
// `fbrun experiment --platform P` runs the same checks before it creates a
// stack.
//
// The package does not link the Pulumi SDK (the light fbrun binary imports
// it): the Pulumi CLI is checked by running `pulumi version` and
// `pulumi plugin ls --json`.
//
// It is a library of checks: which ones a platform needs is said by the
// platform's descriptor (platforms.Platform.Preflight), so this package
// names no platform and imports no package of platforms/.
package doctor

import (
	"context"
	"fmt"
	"io"
	"time"
)

// Result is the outcome of one check.
type Result struct {
	// Name is the check's name, e.g. "aws credentials".
	Name string
	// OK is true when nothing is missing.
	OK bool
	// Detail says what was found (ok) or what is wrong (not ok).
	Detail string
	// Fix says how to fix a problem; empty when OK.
	Fix string
}

// Check is one preflight check.
type Check interface {
	// Name names the check.
	Name() string
	// Run performs the check. It creates nothing and returns promptly.
	Run(ctx context.Context) Result
}

// DefaultTimeout bounds each check.
const DefaultTimeout = 20 * time.Second

// Run runs the checks in order, writes one line per check to w ("ok
// <name>: <detail>" or "PROBLEM <name>: <detail> — fix: <fix>") and returns
// every result and the number of failed checks.
func Run(ctx context.Context, checks []Check, w io.Writer) ([]Result, int) {
	var out []Result
	failed := 0
	for _, c := range checks {
		cctx, cancel := context.WithTimeout(ctx, DefaultTimeout)
		r := c.Run(cctx)
		cancel()
		if r.Name == "" {
			r.Name = c.Name()
		}
		if r.OK {
			fmt.Fprintf(w, "ok       %s: %s\n", r.Name, r.Detail)
		} else {
			failed++
			fmt.Fprintf(w, "PROBLEM  %s: %s — fix: %s\n", r.Name, r.Detail, r.Fix)
		}
		out = append(out, r)
	}
	return out, failed
}

// checkFunc adapts a function to Check.
type checkFunc struct {
	name string
	run  func(ctx context.Context) Result
}

func (c checkFunc) Name() string                   { return c.name }
func (c checkFunc) Run(ctx context.Context) Result { r := c.run(ctx); r.Name = c.name; return r }

func ok(detail string) Result { return Result{OK: true, Detail: detail} }

func problem(detail, fix string) Result { return Result{Detail: detail, Fix: fix} }
