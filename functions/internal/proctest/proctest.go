// Package proctest builds lab function binaries once per test binary, for
// tests that run them as real processes (started with testtools.Start or
// testtools.StartRIE, which kill the whole process group when the test
// ends).
package proctest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// Builder builds Go main packages into a temporary directory, once per
// package path and tag set. Close removes the directory.
type Builder struct {
	dir   string
	mu    sync.Mutex
	built map[string]string
}

// NewBuilder creates the build directory.
func NewBuilder() (*Builder, error) {
	dir, err := os.MkdirTemp("", "fb-proctest-")
	if err != nil {
		return nil, err
	}
	return &Builder{dir: dir, built: map[string]string{}}, nil
}

// Close removes every binary built.
func (b *Builder) Close() error { return os.RemoveAll(b.dir) }

// Build compiles pkg (a full import path) with CGO_ENABLED=0 and the given
// build tags, named name, and returns the binary's path.
func (b *Builder) Build(t testing.TB, pkg, name string, tags ...string) string {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	key := pkg + "|" + strings.Join(tags, ",")
	if p, ok := b.built[key]; ok {
		return p
	}
	sub := filepath.Join(b.dir, fmt.Sprint(len(b.built)))
	if err := os.MkdirAll(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(sub, name)
	args := []string{"build", "-o", out}
	if len(tags) > 0 {
		args = append(args, "-tags", strings.Join(tags, ","))
	}
	cmd := exec.Command("go", append(args, pkg)...)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, msg)
	}
	b.built[key] = out
	return out
}
