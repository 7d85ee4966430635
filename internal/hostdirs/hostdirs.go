// Package hostdirs says where faas-benchmarker keeps its files on this
// host and finds the Pulumi CLI: the one answer both binaries (fbrun and
// fbrun-cloud) and the preflight use, so that the results database and
// the Pulumi state land in one data directory, and `fbrun doctor` checks
// the very Pulumi CLI a run would use. It imports nothing of the project.
package hostdirs

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
)

// Environment variables read here.
const (
	// EnvPulumi is an explicit path to the Pulumi CLI (like --pulumi).
	EnvPulumi = "FB_PULUMI"
	// EnvToolsDir is where scripts/install-tools puts the pinned tools.
	EnvToolsDir = "FB_TOOLS_DIR"
)

// Env is what the answers depend on: the operating system, the
// environment and the user's directories. System returns this host's.
type Env struct {
	// GOOS is runtime.GOOS.
	GOOS string
	// Getenv reads a variable.
	Getenv func(string) string
	// Home is os.UserHomeDir.
	Home func() (string, error)
	// CacheDir is os.UserCacheDir.
	CacheDir func() (string, error)
	// LookPath is exec.LookPath.
	LookPath func(string) (string, error)
}

// System returns this host's Env.
func System() Env {
	return Env{GOOS: runtime.GOOS, Getenv: os.Getenv, Home: os.UserHomeDir, CacheDir: os.UserCacheDir, LookPath: exec.LookPath}
}

// DataDir returns the per-user data directory of faas-benchmarker (the
// results database, run files, Pulumi state, logs), by the operating
// system's convention: $XDG_DATA_HOME/faas-benchmarker when set (not on
// Windows), else ~/Library/Application Support/faas-benchmarker on macOS,
// %LocalAppData%\faas-benchmarker on Windows, and
// ~/.local/share/faas-benchmarker elsewhere.
func (e Env) DataDir() (string, error) {
	if d := e.Getenv("XDG_DATA_HOME"); d != "" && e.GOOS != "windows" {
		return filepath.Join(d, "faas-benchmarker"), nil
	}
	if d := e.Getenv("LocalAppData"); d != "" && e.GOOS == "windows" {
		return filepath.Join(d, "faas-benchmarker"), nil
	}
	home, err := e.Home()
	if err != nil {
		return "", fmt.Errorf("data directory: %w", err)
	}
	if e.GOOS == "darwin" {
		return filepath.Join(home, "Library", "Application Support", "faas-benchmarker"), nil
	}
	return filepath.Join(home, ".local", "share", "faas-benchmarker"), nil
}

// DataDir is System().DataDir().
func DataDir() (string, error) { return System().DataDir() }

// ErrNoPulumi is returned (wrapped) by FindPulumi when no Pulumi CLI is
// found.
var ErrNoPulumi = errors.New("the Pulumi CLI was not found")

// FindPulumi returns the absolute path of the Pulumi CLI to use: explicit
// (a --pulumi flag) when non-empty, else $FB_PULUMI, else `pulumi` on
// PATH, else the pinned build in $FB_TOOLS_DIR/bin (default
// <user cache>/faas-benchmarker/tools/bin). An explicit path that is not
// a file is an error, not a fall-through. The error says how to install
// it.
func (e Env) FindPulumi(explicit string) (string, error) {
	if explicit == "" {
		explicit = e.Getenv(EnvPulumi)
	}
	if explicit != "" {
		if fi, err := os.Stat(explicit); err != nil || fi.IsDir() {
			return "", fmt.Errorf("%w at %s (given by --pulumi or %s)", ErrNoPulumi, explicit, EnvPulumi)
		}
		return filepath.Abs(explicit)
	}
	if p, err := e.LookPath("pulumi"); err == nil {
		return filepath.Abs(p)
	}
	var tried []string
	tools := e.Getenv(EnvToolsDir)
	if tools == "" {
		if c, err := e.CacheDir(); err == nil {
			tools = filepath.Join(c, "faas-benchmarker", "tools")
		}
	}
	if tools != "" {
		p := filepath.Join(tools, "bin", "pulumi")
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
		tried = append(tried, p)
	}
	nor := ""
	if len(tried) > 0 {
		nor = " nor at " + strings.Join(tried, ", ")
	}
	return "", fmt.Errorf("%w on PATH%s: install Pulumi (https://www.pulumi.com/docs/install/), "+
		"or build the pinned version with scripts/tools/30-pulumi.sh, or pass --pulumi /path/to/pulumi", ErrNoPulumi, nor)
}

// FindPulumi is System().FindPulumi(explicit).
func FindPulumi(explicit string) (string, error) { return System().FindPulumi(explicit) }
