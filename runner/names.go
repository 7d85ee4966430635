package runner

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/faas-benchmarker/faas-benchmarker/results"
)

var (
	stackNameRE = regexp.MustCompile(`^([a-z0-9][a-z0-9_.]*(?:-[a-z0-9_.]+)*)-([a-z0-9]+)-(` + results.RunIDPattern + `)$`)
	nameRE      = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]*$`)
	platformRE  = regexp.MustCompile(`^[a-z0-9]+$`)
)

// StackName returns the name of the stack of one experiment run:
// <experiment>-<platform>-<run id>. The experiment name may contain hyphens;
// the platform may not (it is a single word such as "aws" or "openfaas").
func StackName(experiment, platform, runID string) (string, error) {
	switch {
	case !nameRE.MatchString(experiment):
		return "", fmt.Errorf("runner: experiment name %q: want lower-case letters, digits, '-', '_' or '.'", experiment)
	case !platformRE.MatchString(platform):
		return "", fmt.Errorf("runner: platform name %q: want lower-case letters and digits", platform)
	}
	if _, ok := results.ParseRunID(runID); !ok {
		return "", fmt.Errorf("runner: run id %q: want the form produced by results.NewRunID", runID)
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
	started, ok := results.ParseRunID(m[3])
	if !ok {
		return StackInfo{}, false
	}
	return StackInfo{Experiment: m[1], Platform: m[2], RunID: m[3], Started: started}, true
}
