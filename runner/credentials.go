package runner

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/faas-benchmarker/faas-benchmarker/internal/runowner"
)

// Two accounts, one set of AWS variables: the permanent stack's Spaces
// bucket (the state backend) and the AWS account the Lambda and EKS stacks
// deploy to both speak the S3/AWS API, and the Pulumi CLI, its provider
// plugins and kubectl's `aws eks get-token` all read AWS_ACCESS_KEY_ID.
// The state backend URL therefore names a shared-credentials profile
// (stackcfg.SpacesProfile, `profile=` in the URL), which the backend reads
// instead of those variables; fbrun fills that profile from the dedicated
// SPACES_ACCESS_KEY_ID/SPACES_SECRET_ACCESS_KEY, for the Pulumi CLI only.

// backendProfile returns the shared-credentials profile an s3:// backend
// URL names ("" for none).
func backendProfile(backendURL string) string {
	if !strings.HasPrefix(backendURL, "s3://") {
		return ""
	}
	u, err := url.Parse(backendURL)
	if err != nil {
		return ""
	}
	return u.Query().Get("profile")
}

// spacesCredentials writes, into dir, the shared-credentials file the
// Pulumi CLI gets (as AWS_SHARED_CREDENTIALS_FILE) when the backend names
// profile and the Spaces key pair is set: the user's own credentials file
// (AWS_SHARED_CREDENTIALS_FILE, else ~/.aws/credentials) unchanged but for
// a section of that profile, plus that profile with the Spaces keys. So
// AWS_PROFILE and every other profile keep working for the providers,
// while the backend reads the Spaces pair. It returns the file, or ""
// when there is nothing to provide (no profile in the URL, or no Spaces
// keys: then the user's own profile of that name is used).
func spacesCredentials(dir, backendURL string, getenv func(string) string) (string, error) {
	profile := backendProfile(backendURL)
	id, secret := getenv(EnvSpacesAccessKey), getenv(EnvSpacesSecretKey)
	if profile == "" || (id == "" && secret == "") {
		return "", nil
	}
	if id == "" || secret == "" {
		return "", fmt.Errorf("runner: set both %s and %s (the Spaces key pair of the state backend), or neither",
			EnvSpacesAccessKey, EnvSpacesSecretKey)
	}
	own := getenv("AWS_SHARED_CREDENTIALS_FILE")
	if own == "" {
		if home, err := os.UserHomeDir(); err == nil {
			own = filepath.Join(home, ".aws", "credentials")
		}
	}
	var b bytes.Buffer
	if own != "" {
		src, err := os.ReadFile(own)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return "", fmt.Errorf("runner: read %s: %w", own, err)
		}
		b.Write(withoutSection(src, profile))
	}
	fmt.Fprintf(&b, "\n[%s]\naws_access_key_id = %s\naws_secret_access_key = %s\n", profile, id, secret)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("runner: credentials directory: %w", err)
	}
	host, _ := os.Hostname()
	removeStaleCredentials(dir, host, runowner.Exists)
	f, err := os.CreateTemp(dir, credentialsPrefix(os.Getpid(), host))
	if err != nil {
		return "", fmt.Errorf("runner: credentials file: %w", err)
	}
	if _, err := f.Write(b.Bytes()); err != nil {
		f.Close()
		os.Remove(f.Name())
		return "", fmt.Errorf("runner: credentials file: %w", err)
	}
	if err := f.Close(); err != nil {
		os.Remove(f.Name())
		return "", fmt.Errorf("runner: credentials file: %w", err)
	}
	return f.Name(), nil
}

// credentialsPrefix starts the name of a credentials file written by the
// process pid on host: credentials-<pid>@<host>@<random> ('@' is in no
// host name).
func credentialsPrefix(pid int, host string) string {
	return fmt.Sprintf("credentials-%d@%s@", pid, host)
}

// removeStaleCredentials deletes the credentials files in dir written on
// host by a process that is gone: each file is removed when its Pulumi
// command ends, but a process killed with SIGKILL cannot, and the Spaces
// keys must not stay on disk longer than the next run. Only files of this
// host are judged (a home directory may be shared with other machines, whose
// processes alive cannot tell), and only files named by credentialsPrefix.
func removeStaleCredentials(dir, host string, alive func(pid int) bool) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		rest, ok := strings.CutPrefix(e.Name(), "credentials-")
		if !ok {
			continue
		}
		parts := strings.SplitN(rest, "@", 3)
		if len(parts) != 3 || parts[1] != host {
			continue
		}
		if pid, err := strconv.Atoi(parts[0]); err == nil && !alive(pid) {
			_ = os.Remove(filepath.Join(dir, e.Name()))
		}
	}
}

// withoutSection returns an INI file without the section [name] (its
// header and lines up to the next section).
func withoutSection(src []byte, name string) []byte {
	var out bytes.Buffer
	skip := false
	sc := bufio.NewScanner(bytes.NewReader(src))
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if t := strings.TrimSpace(line); strings.HasPrefix(t, "[") && strings.HasSuffix(t, "]") {
			skip = strings.TrimSpace(t[1:len(t)-1]) == name
		}
		if !skip {
			out.WriteString(line + "\n")
		}
	}
	return out.Bytes()
}
