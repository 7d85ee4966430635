// Package testtools finds the external programs some tests need (the AWS
// Lambda Runtime Interface Emulator, the Pulumi CLI, MinIO, Chromium ...).
//
// A test asks for a tool by name; when the tool is missing the test is
// skipped with a message saying how to install it — unless the environment
// variable FB_REQUIRE_TOOLS=1 is set (scripts/test sets it), in which case the
// test fails, so CI can never pass by silently skipping.
package testtools

import (
	"bytes"
	"os"
	"os/exec"
	"sync"
	"testing"
)

// RequireEnv is the environment variable that turns a missing tool from a
// skip into a failure.
const RequireEnv = "FB_REQUIRE_TOOLS"

// Require returns the path of the named program. It looks at the environment
// variable envVar first (when non-empty), then on PATH. When the program is
// not found it skips t, or fails it when FB_REQUIRE_TOOLS=1.
func Require(t testing.TB, name, envVar string) string {
	t.Helper()
	if envVar != "" {
		if p := os.Getenv(envVar); p != "" {
			if _, err := os.Stat(p); err == nil {
				return p
			}
			missing(t, name, envVar+"="+p+" does not exist")
			return ""
		}
	}
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	missing(t, name, "not on PATH")
	return ""
}

// Required reports whether missing tools must fail tests.
func Required() bool { return os.Getenv(RequireEnv) == "1" }

func missing(t testing.TB, name, why string) {
	t.Helper()
	msg := name + " not found (" + why + "); install it with scripts/install-tools"
	if Required() {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// Buffer is a bytes.Buffer safe for concurrent use: a child process (or
// the code under test) writes while the test reads.
type Buffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write implements io.Writer.
func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns everything written so far.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// SimulationOnly skips a coverage simulation under the race detector. A
// simulation is pure, single-goroutine arithmetic over many seeded runs:
// the race detector finds nothing in it and makes it 5-10 times slower, so
// scripts/test runs every test named *Coverage* once more without -race
// (its "sim" phase), and there it runs in full.
func SimulationOnly(t testing.TB) {
	t.Helper()
	if RaceEnabled {
		t.Skip("coverage simulation: runs without -race (scripts/test, phase sim)")
	}
}

// PhaseEnv names the scripts/test phase a test binary runs in; "parallel"
// is the phase that runs every package's tests four packages at a time.
const PhaseEnv = "FB_TEST_PHASE"

// SerialOnly skips a load-sensitive live test in scripts/test's parallel
// phase (FB_TEST_PHASE=parallel): a test whose assertion rests on timings
// the machine's load stretches — the local platform's cold starts are the
// lab runtime's own start-up, CPU work that other packages' tests running
// beside it slow by a varying factor. scripts/test runs such tests once
// more afterwards, alone (its "serial" phase, tests named *Serial*), and
// there they run in full; so does a plain go test. Like SimulationOnly it
// depends on the phase only, never on measured noise.
func SerialOnly(t testing.TB) {
	t.Helper()
	if os.Getenv(PhaseEnv) == "parallel" {
		t.Skip("load-sensitive live test: runs alone after the parallel phase (scripts/test, phase serial)")
	}
}
