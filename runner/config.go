package runner

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/faas-benchmarker/faas-benchmarker/internal/hostdirs"
)

// Environment variables the runner reads.
const (
	// EnvPassphrase holds the passphrase that encrypts stack secrets. The
	// same passphrase is needed to destroy a stack later.
	EnvPassphrase = "PULUMI_CONFIG_PASSPHRASE"
	// EnvPassphraseFile names a file holding that passphrase instead.
	EnvPassphraseFile = "PULUMI_CONFIG_PASSPHRASE_FILE"
)

// ErrNoPassphrase is returned by New when no secrets passphrase is
// configured.
var ErrNoPassphrase = errors.New("runner: no secrets passphrase: set " + EnvPassphrase +
	" (or " + EnvPassphraseFile + ") — Pulumi encrypts stack secrets with it, and the same " +
	"passphrase is needed later to destroy the stacks, so keep it safe")

// DefaultBackendURL returns the default state backend: a local file backend
// under the data directory (hostdirs.DataDir), file://<data dir>/state.
func DefaultBackendURL() (string, error) {
	d, err := hostdirs.DataDir()
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
