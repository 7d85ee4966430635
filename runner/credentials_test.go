package runner

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestSpacesCredentials(t *testing.T) {
	dir := t.TempDir()
	own := filepath.Join(dir, "own")
	if err := os.WriteFile(own, []byte("[default]\naws_access_key_id = AKIDDEFAULT\n[fb-spaces]\naws_access_key_id = OLD\n[lab]\naws_access_key_id = AKIDLAB\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	url := "s3://b?endpoint=https://fra1.digitaloceanspaces.com&region=us-east-1&s3ForcePathStyle=true&profile=fb-spaces"
	env := map[string]string{EnvSpacesAccessKey: "SPACESKEY", EnvSpacesSecretKey: "spaces-secret", "AWS_SHARED_CREDENTIALS_FILE": own}
	p, err := spacesCredentials(filepath.Join(dir, "creds"), url, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(p)
	st, _ := os.Stat(p)
	want := "[default]\naws_access_key_id = AKIDDEFAULT\n[lab]\naws_access_key_id = AKIDLAB\n\n[fb-spaces]\naws_access_key_id = SPACESKEY\naws_secret_access_key = spaces-secret\n"
	if string(got) != want || st.Mode().Perm() != 0o600 {
		t.Fatalf("credentials file (mode %v):\n%s\nwant:\n%s", st.Mode(), got, want)
	}
	for _, tc := range []struct {
		name, url string
		env       map[string]string
		errText   string
	}{
		{"no profile in the URL", "s3://b?region=eu-west-1", env, ""},
		{"file backend", "file:///tmp/x", env, ""},
		{"no Spaces keys: the user's own profile", url, map[string]string{}, ""},
		{"half a pair", url, map[string]string{EnvSpacesAccessKey: "x"}, "set both"},
	} {
		p, err := spacesCredentials(filepath.Join(dir, "creds"), tc.url, func(k string) string { return tc.env[k] })
		if p != "" || (err == nil) != (tc.errText == "") || err != nil && !strings.Contains(err.Error(), tc.errText) {
			t.Errorf("%s: %q, %v", tc.name, p, err)
		}
	}
}

// TestStaleCredentialsRemoved: a credentials file left by a killed fbrun
// (SIGKILL: no cleanup ran) is deleted by the next run's first Pulumi
// command; those of live processes stay.
func TestStaleCredentialsRemoved(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "creds")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"credentials-4242@lab@123", "credentials-777@lab@9", "credentials-4242@other-host@5",
		"credentials-12345", "credentials-x@lab@1", "other"} {
		if err := os.WriteFile(filepath.Join(dir, n), []byte("secret"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	// 4242 is gone on host lab; 777 is alive; other-host's files and
	// names of another format are not this host's to judge.
	removeStaleCredentials(dir, "lab", func(pid int) bool { return pid == 777 })
	var left []string
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		left = append(left, e.Name())
	}
	if want := []string{"credentials-12345", "credentials-4242@other-host@5", "credentials-777@lab@9", "credentials-x@lab@1", "other"}; !slices.Equal(left, want) {
		t.Errorf("left %v, want %v", left, want)
	}
	// spacesCredentials sweeps before it writes its own file.
	host, _ := os.Hostname()
	dead := filepath.Join(dir, credentialsPrefix(999999999, host)+"1")
	if err := os.WriteFile(dead, []byte("secret"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{EnvSpacesAccessKey: "id", EnvSpacesSecretKey: "secret", "AWS_SHARED_CREDENTIALS_FILE": filepath.Join(dir, "none")}
	p, err := spacesCredentials(dir, "s3://b?profile=fb-spaces", func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dead); !os.IsNotExist(err) {
		t.Errorf("stale file of a dead process still there: %v", err)
	}
	if !strings.HasPrefix(filepath.Base(p), credentialsPrefix(os.Getpid(), host)) {
		t.Errorf("credentials file %s does not carry this process's ID", p)
	}
}
