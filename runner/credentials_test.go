package runner

import (
	"os"
	"path/filepath"
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
