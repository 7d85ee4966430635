//go:build race

package testtools

// RaceEnabled reports whether the test binary was built with -race.
const RaceEnabled = true
