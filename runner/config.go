package runner

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
)

// Environment variables the runner reads.
const (
	// EnvPassphrase holds the passphrase that encrypts stack secrets. The
	// same passphrase is needed to destroy a stack later.
	EnvPassphrase = "PULUMI_CONFIG_PASSPHRASE"
	// EnvPassphraseFile names a file holding that passphrase instead.
	EnvPassphraseFile = "PULUMI_CONFIG_PASSPHRASE_FILE"
	// EnvPulumi is an explicit path to the Pulumi CLI (like --pulumi).
	EnvPulumi = "FB_PULUMI"
	// EnvToolsDir is where scripts/install-tools puts the pinned tools.
	EnvToolsDir = "FB_TOOLS_DIR"
)

// ErrNoPassphrase is returned by New when no secrets passphrase is
// configured.
var ErrNoPassphrase = errors.New("runner: no secrets passphrase: set " + EnvPassphrase +
	" (or " + EnvPassphraseFile + ") — Pulumi encrypts stack secrets with it, and the same " +
	"passphrase is needed later to destroy the stacks, so keep it safe")

// ErrNoPulumi is returned (wrapped) by FindPulumi when no Pulumi CLI is found.
var ErrNoPulumi = errors.New("runner: Pulumi CLI not found")

// DataDir returns the per-user data directory of faas-benchmarker:
// $XDG_DATA_HOME/faas-benchmarker or ~/.local/share/faas-benchmarker on
// Linux, ~/Library/Application Support/faas-benchmarker on macOS and
// %LocalAppData%\faas-benchmarker on Windows.
func DataDir() (string, error) {
	if d := os.Getenv("XDG_DATA_HOME"); d != "" && runtime.GOOS != "windows" {
		return filepath.Join(d, "faas-benchmarker"), nil
	}
	switch runtime.GOOS {
	case "windows":
		if d := os.Getenv("LocalAppData"); d != "" {
			return filepath.Join(d, "faas-benchmarker"), nil
		}
	case "darwin":
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("runner: data dir: %w", err)
		}
		return filepath.Join(home, "Library", "Application Support", "faas-benchmarker"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("runner: data dir: %w", err)
	}
	return filepath.Join(home, ".local", "share", "faas-benchmarker"), nil
}

// DefaultBackendURL returns the default state backend: a local file backend
// under DataDir, file://<data dir>/state.
func DefaultBackendURL() (string, error) {
	d, err := DataDir()
	if err != nil {
		return "", err
	}
	return FileBackendURL(filepath.Join(d, "state")), nil
}

// FileBackendURL returns the file:// backend URL of directory dir.
func FileBackendURL(dir string) string {
	return "file://" + filepath.ToSlash(dir)
}

// checkBackendURL accepts the self-managed backends the runner supports: a
// local directory (file://) or an S3-compatible bucket (s3://, e.g. the
// permanent stack's Spaces bucket with ?endpoint=<region>.digitaloceanspaces.com).
func checkBackendURL(u string) error {
	switch {
	case strings.HasPrefix(u, "file://") && len(u) > len("file://"):
		return nil
	case strings.HasPrefix(u, "s3://") && len(u) > len("s3://"):
		return nil
	}
	return fmt.Errorf("runner: state backend %q: want file://<dir> or s3://<bucket>[?endpoint=...&region=...]", u)
}

// fileBackendDir returns the directory of a file:// backend, "" otherwise.
func fileBackendDir(u string) string {
	if !strings.HasPrefix(u, "file://") {
		return ""
	}
	return filepath.FromSlash(strings.TrimPrefix(u, "file://"))
}

// passphraseFromEnv returns the env var pair that carries the secrets
// passphrase to the Pulumi CLI, or ErrNoPassphrase.
func passphraseFromEnv(getenv func(string) string) (string, string, error) {
	if p := getenv(EnvPassphrase); p != "" {
		return EnvPassphrase, p, nil
	}
	if f := getenv(EnvPassphraseFile); f != "" {
		if _, err := os.Stat(f); err != nil {
			return "", "", fmt.Errorf("runner: %s=%s: %w", EnvPassphraseFile, f, err)
		}
		return EnvPassphraseFile, f, nil
	}
	return "", "", ErrNoPassphrase
}

// FindPulumi returns the Pulumi CLI to use: explicit (a --pulumi flag) when
// non-empty, else $FB_PULUMI, else `pulumi` on PATH, else the pinned build
// in $FB_TOOLS_DIR/bin (default ~/.cache/faas-benchmarker/tools/bin). The
// error says how to install it.
func FindPulumi(explicit string) (string, error) {
	if explicit == "" {
		explicit = os.Getenv(EnvPulumi)
	}
	if explicit != "" {
		if fi, err := os.Stat(explicit); err != nil || fi.IsDir() {
			return "", fmt.Errorf("%w at %s (given by --pulumi or %s)", ErrNoPulumi, explicit, EnvPulumi)
		}
		return filepath.Abs(explicit)
	}
	if p, err := exec.LookPath("pulumi"); err == nil {
		return filepath.Abs(p)
	}
	var tried []string
	tools := os.Getenv(EnvToolsDir)
	if tools == "" {
		if c, err := os.UserCacheDir(); err == nil {
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
	return "", fmt.Errorf("%w on PATH%s: install Pulumi (https://www.pulumi.com/docs/install/), "+
		"or build the pinned version with scripts/tools/30-pulumi.sh, or pass --pulumi /path/to/pulumi",
		ErrNoPulumi, triedSuffix(tried))
}

func triedSuffix(tried []string) string {
	if len(tried) == 0 {
		return ""
	}
	return " nor at " + strings.Join(tried, ", ")
}
