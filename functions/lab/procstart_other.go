//go:build !linux

package lab

import "time"

// processStart is unavailable off Linux: the caller falls back to the lab
// package's initialisation time.
func processStart(string, time.Time) (time.Time, bool) { return time.Time{}, false }
