// Package cloudplan is what crosses from fbrun to fbrun-cloud for a run
// that deploys a stack: a Plan that fbrun has resolved once — the
// experiment and every parameter's value, the platform and its stack
// settings, the local platform it started, the database and the runner's
// settings — and the Outcome fbrun-cloud hands back. fbrun-cloud runs a
// plan without parsing a command line or calling back into the CLI;
// fbrun prints the summary from the outcome and the results database.
//
// Both sides are versioned: a plan of another Version or Build is
// refused, so a stale fbrun-cloud never runs half a version apart.
package cloudplan

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/faas-benchmarker/faas-benchmarker/experiments"
	"github.com/faas-benchmarker/faas-benchmarker/runner/session"
)

// Version is the format of Plan and Outcome.
const Version = 1

// Command is the argument under which fbrun-cloud reads a Plan on stdin
// and writes the Outcome on stdout (its progress and logs go to stderr).
const Command = "run-plan"

// Plan is one resolved run on a stack deployed for it.
type Plan struct {
	// Version is the format (Version).
	Version int `json:"version"`
	// Build identifies the fbrun that made the plan (session.BuildID);
	// empty when the build records none.
	Build string `json:"build"`
	// Experiment is the experiment's name.
	Experiment string `json:"experiment"`
	// Params holds every parameter's resolved value (experiments.Params.Map).
	Params map[string]string `json:"params"`
	// RunID is the run's id, chosen by the caller (fbrun experiment
	// --run-id, which a study sets before its cell starts); "" for a new one.
	RunID string `json:"run_id,omitempty"`
	// Platform is the platform's name; it deploys a stack.
	Platform string `json:"platform"`
	// LocalEndpoint is the local platform the stack deploys to (a
	// platform that embeds it: fbrun started it, or --local-endpoint).
	LocalEndpoint string `json:"local_endpoint,omitempty"`
	// StackSets are the checked "key=value" stack settings.
	StackSets []string `json:"stack_sets,omitempty"`
	// Keep keeps the stack after the run.
	Keep bool `json:"keep,omitempty"`
	// DB is the results database the run is merged into; RunsDir
	// receives the standalone run file.
	DB      string `json:"db"`
	RunsDir string `json:"runs_dir"`
	// TimeoutNS bounds one invocation (engine.Config.Timeout).
	TimeoutNS time.Duration `json:"timeout_ns"`
	// LogLevel is slog's level name.
	LogLevel string `json:"log_level"`
	// Progress draws the live progress display on stderr.
	Progress bool `json:"progress,omitempty"`
	// Runner configures the Pulumi runner and results shipping.
	Runner Runner `json:"runner"`
}

// Runner is the runner's configuration (the cloud-stack flags).
type Runner struct {
	State            string `json:"state,omitempty"`
	Pulumi           string `json:"pulumi,omitempty"`
	ResultsBucket    string `json:"results_bucket,omitempty"`
	ResultsEndpoint  string `json:"results_endpoint,omitempty"`
	ResultsRegion    string `json:"results_region,omitempty"`
	ResultsPathStyle bool   `json:"results_path_style,omitempty"`
}

// Outcome is what running a Plan produced.
type Outcome struct {
	// Version is the format (Version).
	Version int `json:"version"`
	// RunID is the run; empty when nothing ran (the stack never came up).
	RunID     string                `json:"run_id,omitempty"`
	Status    string                `json:"status,omitempty"`
	Estimates experiments.Estimates `json:"estimates,omitempty"`
	Rows      int64                 `json:"rows,omitempty"`
	Started   time.Time             `json:"started"`
	Ended     time.Time             `json:"ended"`
	// RunError is the experiment's own error.
	RunError string `json:"run_error,omitempty"`
	// Error is a failure besides the experiment's (stack, shipping ...),
	// or why nothing ran.
	Error string `json:"error,omitempty"`
	// Notes are printed on stderr after the summary.
	Notes []string `json:"notes,omitempty"`
	// ExitCode overrides the exit code derived from the status when not 0.
	ExitCode int `json:"exit_code,omitempty"`
}

// Session returns the run's session outcome, nil when nothing ran.
func (o Outcome) Session() *session.Outcome {
	if o.RunID == "" {
		return nil
	}
	s := &session.Outcome{RunID: o.RunID, Status: o.Status, Estimates: o.Estimates, Rows: o.Rows, Started: o.Started, Ended: o.Ended}
	if o.RunError != "" {
		s.Err = errors.New(o.RunError)
	}
	return s
}

// Err returns Error as an error (nil when empty).
func (o Outcome) Err() error {
	if o.Error == "" {
		return nil
	}
	return errors.New(o.Error)
}

// FromSession fills the run's fields from s (nil: nothing ran).
func (o *Outcome) FromSession(s *session.Outcome) {
	if s == nil {
		return
	}
	o.RunID, o.Status, o.Estimates, o.Rows, o.Started, o.Ended = s.RunID, s.Status, s.Estimates, s.Rows, s.Started, s.Ended
	if s.Err != nil {
		o.RunError = s.Err.Error()
	}
}

// ReadPlan decodes a plan and refuses another format or build (own is
// the reader's build; empty skips the check).
func ReadPlan(r io.Reader, own string) (Plan, error) {
	var p Plan
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return p, fmt.Errorf("cloudplan: reading the plan: %w", err)
	}
	if p.Version != Version {
		return p, fmt.Errorf("cloudplan: plan format %d, this fbrun-cloud reads %d: install fbrun and fbrun-cloud from one checkout (go install ./cmd/...)", p.Version, Version)
	}
	if p.Build != "" && own != "" && p.Build != own {
		return p, fmt.Errorf("cloudplan: the plan comes from fbrun build %q but this fbrun-cloud is build %q: install both from one checkout with go install ./cmd/... (or remove the stale fbrun-cloud)", p.Build, own)
	}
	return p, nil
}

// ReadOutcome decodes an outcome of this format.
func ReadOutcome(r io.Reader) (Outcome, error) {
	var o Outcome
	if err := json.NewDecoder(r).Decode(&o); err != nil {
		return o, fmt.Errorf("cloudplan: reading the outcome: %w", err)
	}
	if o.Version != Version {
		return o, fmt.Errorf("cloudplan: outcome format %d, want %d", o.Version, Version)
	}
	return o, nil
}

// BuildID identifies the build of this binary: the module version and the
// VCS revision ("+dirty" for a modified tree) it was built from; "" when
// the build records neither (go build -buildvcs=false outside a module
// version), and then no check is possible. fbrun and fbrun-cloud share the
// results database, its schema and the plan format, so they must be one
// build.
func BuildID() string {
	v, rev := session.ToolVersion(), session.GitCommit()
	if rev == "" && v == "(devel)" {
		return ""
	}
	return v + " " + rev
}
