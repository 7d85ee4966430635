package runner

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"regexp"
	"strings"
	"time"
)

// runIDTimeLayout is the UTC timestamp part of a run id. It sorts
// lexically in time order and is valid inside a Pulumi stack name.
const runIDTimeLayout = "20060102t150405"

// runIDPattern matches a run id: a UTC timestamp and 6 random hex digits.
const runIDPattern = `[0-9]{8}t[0-9]{6}-[0-9a-f]{6}`

var (
	stackNameRE = regexp.MustCompile(`^([a-z0-9][a-z0-9_.]*(?:-[a-z0-9_.]+)*)-([a-z0-9]+)-(` + runIDPattern + `)$`)
	runIDRE     = regexp.MustCompile(`^` + runIDPattern + `$`)
	nameRE      = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]*$`)
	platformRE  = regexp.MustCompile(`^[a-z0-9]+$`)
)

// NewRunID returns a fresh run id for a run starting at now: the UTC time to
// the second and 6 random hex digits, e.g. "20261126t054300-3fa9c1".
func NewRunID(now time.Time) (string, error) {
	var b [3]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("runner: random run id: %w", err)
	}
	return now.UTC().Format(runIDTimeLayout) + "-" + hex.EncodeToString(b[:]), nil
}

// StackName returns the name of the stack of one experiment run:
// <experiment>-<platform>-<run id>. The experiment name may contain hyphens;
// the platform may not (it is a single word such as "aws" or "openfaas").
func StackName(experiment, platform, runID string) (string, error) {
	switch {
	case !nameRE.MatchString(experiment):
		return "", fmt.Errorf("runner: experiment name %q: want lower-case letters, digits, '-', '_' or '.'", experiment)
	case !platformRE.MatchString(platform):
		return "", fmt.Errorf("runner: platform name %q: want lower-case letters and digits", platform)
	case !runIDRE.MatchString(runID):
		return "", fmt.Errorf("runner: run id %q: want the form produced by NewRunID", runID)
	}
	return experiment + "-" + platform + "-" + runID, nil
}

// StackInfo is what an experiment stack's name says about it.
type StackInfo struct {
	// Experiment is the experiment name.
	Experiment string
	// Platform is the platform name.
	Platform string
	// RunID is the run id.
	RunID string
	// Started is the run's start time, taken from the run id (UTC).
	Started time.Time
}

// ParseStackName reports whether name is an experiment stack name made by
// StackName, and what it says. Other stacks (the permanent stack, stacks
// of other tools sharing the backend) are never matched, so Cleanup never
// touches them.
func ParseStackName(name string) (StackInfo, bool) {
	// Stack names listed by a backend may be qualified (org/project/stack).
	if i := strings.LastIndexByte(name, '/'); i >= 0 {
		name = name[i+1:]
	}
	m := stackNameRE.FindStringSubmatch(name)
	if m == nil {
		return StackInfo{}, false
	}
	started, err := time.Parse(runIDTimeLayout, m[3][:len(runIDTimeLayout)])
	if err != nil {
		return StackInfo{}, false
	}
	return StackInfo{Experiment: m[1], Platform: m[2], RunID: m[3], Started: started.UTC()}, true
}
