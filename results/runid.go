package results

import (
	"crypto/rand"
	"encoding/hex"
	"regexp"
	"time"
)

// RunIDTimeLayout is the UTC timestamp that starts a run id. Ids sort
// lexically in time order, and they are valid inside a Pulumi stack name
// and in cloud resource names (lower case, digits and '-').
const RunIDTimeLayout = "20060102-150405"

// legacyRunIDTimeLayout is the timestamp of the run ids that managed
// (cloud) runs were given before local and cloud runs shared one format
// ("20261126t054300-3fa9c1"). Runs, result files and stacks named that way
// are still read, listed and cleaned up.
const legacyRunIDTimeLayout = "20060102t150405"

// RunIDPattern is the regular expression (unanchored) of a run id: a UTC
// timestamp to the second and 6 random hex digits. It also matches the
// legacy form, with 't' between date and time.
const RunIDPattern = `[0-9]{8}[-t][0-9]{6}-[0-9a-f]{6}`

var runIDRE = regexp.MustCompile(`^` + RunIDPattern + `$`)

// NewRunID returns a fresh run id for a run starting at now, e.g.
// "20261126-054300-3fa9c1". Every run gets one, local or managed.
func NewRunID(now time.Time) string {
	var b [3]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never returns an error (Go ≥ 1.24)
	return now.UTC().Format(RunIDTimeLayout) + "-" + hex.EncodeToString(b[:])
}

// ParseRunID reports whether id is a run id (NewRunID's form or the legacy
// one) and returns the start time it carries (UTC, to the second).
func ParseRunID(id string) (time.Time, bool) {
	if !runIDRE.MatchString(id) {
		return time.Time{}, false
	}
	layout := RunIDTimeLayout
	if id[8] == 't' {
		layout = legacyRunIDTimeLayout
	}
	t, err := time.Parse(layout, id[:len(layout)])
	if err != nil {
		return time.Time{}, false
	}
	return t.UTC(), true
}
