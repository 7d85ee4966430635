package runner

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"

	"github.com/faas-benchmarker/faas-benchmarker/results"
	"github.com/faas-benchmarker/faas-benchmarker/stacks/stackcfg"
)

func TestStackNamesRoundTrip(t *testing.T) {
	now := time.Date(2026, 11, 26, 5, 43, 0, 0, time.UTC)
	id := results.NewRunID(now)
	if id2 := results.NewRunID(now); id == id2 {
		t.Fatalf("two run ids in the same second are equal: %s", id)
	}
	// Stacks named by earlier versions (run ids with 't') are still
	// recognised, so Cleanup still removes a leftover one.
	legacy := "20261126t054300-3fa9c1"
	for _, tc := range []struct{ exp, platform, id string }{
		{"cold-start", "aws", id},
		{"idle_timeout", "azure", id},
		{"scaling.v2", "openfaas", id},
		{"x", "fblocal", id},
		{"cold-start", "aws", legacy},
		{"idle-timeout", "localstack", legacy},
	} {
		id := tc.id
		name, err := StackName(tc.exp, tc.platform, id)
		if err != nil {
			t.Fatal(err)
		}
		info, ok := ParseStackName(name)
		if !ok || info.Experiment != tc.exp || info.Platform != tc.platform || info.RunID != id || !info.Started.Equal(now) {
			t.Fatalf("ParseStackName(%s) = %+v, %v", name, info, ok)
		}
		if info, ok := ParseStackName("organization/faas-benchmarker/" + name); !ok || info.RunID != id {
			t.Fatalf("qualified name not parsed: %+v", info)
		}
	}
}

func TestStackNameRejects(t *testing.T) {
	id := results.NewRunID(time.Now())
	for _, tc := range []struct{ exp, platform, id string }{
		{"", "aws", id},
		{"Cold", "aws", id},
		{"cold start", "aws", id},
		{"cold", "aws-x", id},
		{"cold", "aws", "123"},
		{"cold", "", id},
	} {
		if n, err := StackName(tc.exp, tc.platform, tc.id); err == nil {
			t.Errorf("StackName(%q,%q,%q) = %s, want error", tc.exp, tc.platform, tc.id, n)
		}
	}
	for _, n := range []string{"permanent", "dev", "cold-aws", "cold-aws-20261126t054300", "cold-aws-20261126t054300-XYZ123",
		"cold-aws-20261126-054300", "cold-aws-20261126x054300-3fa9c1", "cold-aws-20261126-054300-3fa9c"} {
		if _, ok := ParseStackName(n); ok {
			t.Errorf("ParseStackName(%q) matched: Cleanup would touch it", n)
		}
	}
}

func TestPassphrase(t *testing.T) {
	pf := filepath.Join(t.TempDir(), "pass")
	if err := os.WriteFile(pf, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		env     map[string]string
		wantKey string
		wantErr error
	}{
		{"env", map[string]string{EnvPassphrase: "s3cret"}, EnvPassphrase, nil},
		{"file", map[string]string{EnvPassphraseFile: pf}, EnvPassphraseFile, nil},
		{"missing", map[string]string{}, "", ErrNoPassphrase},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k, _, err := passphraseFromEnv(func(k string) string { return tc.env[k] })
			if !errors.Is(err, tc.wantErr) || k != tc.wantKey {
				t.Fatalf("got %q, %v; want %q, %v", k, err, tc.wantKey, tc.wantErr)
			}
		})
	}
	_, _, err := passphraseFromEnv(func(k string) string {
		if k == EnvPassphraseFile {
			return filepath.Join(t.TempDir(), "absent")
		}
		return ""
	})
	if err == nil {
		t.Fatal("missing passphrase file accepted")
	}
}

func TestNewRequiresPassphrase(t *testing.T) {
	t.Setenv(EnvPassphrase, "")
	t.Setenv(EnvPassphraseFile, "")
	_, err := New(Config{BackendURL: FileBackendURL(t.TempDir()), LogDir: t.TempDir()})
	if !errors.Is(err, ErrNoPassphrase) {
		t.Fatalf("want ErrNoPassphrase, got %v", err)
	}
	if !strings.Contains(err.Error(), EnvPassphrase) {
		t.Fatalf("error does not name %s: %v", EnvPassphrase, err)
	}
}

func TestBackendURLs(t *testing.T) {
	for _, tc := range []struct {
		u  string
		ok bool
	}{
		{"file:///tmp/state", true},
		{"s3://bucket?endpoint=nyc3.digitaloceanspaces.com&region=us-east-1", true},
		{"file://", false},
		{"https://api.pulumi.com", false},
		{"", false},
	} {
		if err := checkBackendURL(tc.u); (err == nil) != tc.ok {
			t.Errorf("checkBackendURL(%q) = %v", tc.u, err)
		}
	}
	t.Setenv("XDG_DATA_HOME", "/data")
	if u, err := DefaultBackendURL(); err != nil || u != "file:///data/faas-benchmarker/state" {
		t.Fatalf("DefaultBackendURL = %s, %v", u, err)
	}
}

func TestCountResources(t *testing.T) {
	for _, tc := range []struct {
		dep  string
		want int
	}{
		{``, 0},
		{`{"manifest":{}}`, 0},
		{`{"resources":null}`, 0},
		{`{"resources":[{"urn":"a"},{"urn":"b"}]}`, 2},
	} {
		if got, err := countResources([]byte(tc.dep)); err != nil || got != tc.want {
			t.Errorf("countResources(%s) = %d, %v", tc.dep, got, err)
		}
	}
	if _, err := countResources([]byte(`{`)); err == nil {
		t.Error("bad JSON accepted")
	}
}

func TestSpacesStoreConfig(t *testing.T) {
	outs := auto.OutputMap{
		"bucketName":   {Value: "fb-results-abc"},
		"spacesRegion": {Value: "fra1"},
	}
	t.Setenv(EnvSpacesAccessKey, "")
	t.Setenv(EnvSpacesSecretKey, "")
	if _, err := SpacesStoreConfig(outs); err == nil || !strings.Contains(err.Error(), EnvSpacesAccessKey) {
		t.Fatalf("missing keys: %v", err)
	}
	t.Setenv(EnvSpacesAccessKey, "AK")
	t.Setenv(EnvSpacesSecretKey, "SK")
	cfg, err := SpacesStoreConfig(outs)
	if err != nil || cfg.Bucket != "fb-results-abc" || cfg.Endpoint != "https://fra1.digitaloceanspaces.com" || !cfg.NoServerChecksum {
		t.Fatalf("cfg %+v, %v", cfg, err)
	}
	if _, err := SpacesStoreConfig(auto.OutputMap{}); err == nil {
		t.Fatal("no bucket output accepted")
	}
}

// TestOpenFaaSPasswordFromEnvOrGenerated: a managed openfaas run needs no
// password setting: it comes from FB_OPENFAAS_GATEWAY_PASSWORD, or a
// random one is generated per run; an explicit --stack-set still wins.
func TestOpenFaaSPasswordFromEnvOrGenerated(t *testing.T) {
	sets := []string{"image=ghcr.io/me/lab:1", "monolithImage=ghcr.io/me/mono:1", "gatewayCidrs=203.0.113.7/32"}
	pw := func(t *testing.T, overrides []string) string {
		t.Helper()
		s, err := Settings("openfaas", "cold-start", "20261126-054300-3fa9c1", overrides)
		if err != nil {
			t.Fatal(err)
		}
		return s.(*stackcfg.OpenFaaS).GatewayPassword
	}
	t.Setenv("FB_OPENFAAS_GATEWAY_PASSWORD", "")
	a, b := pw(t, sets), pw(t, sets)
	if len(a) != 32 || a == b {
		t.Fatalf("generated passwords %q, %q: want a new random one per run", a, b)
	}
	t.Setenv("FB_OPENFAAS_GATEWAY_PASSWORD", "from-the-environment")
	if got := pw(t, sets); got != "from-the-environment" {
		t.Fatalf("password %q, want the environment's", got)
	}
	if got := pw(t, append(sets, "gatewayPassword=explicit-setting")); got != "explicit-setting" {
		t.Fatalf("password %q, want the explicit setting", got)
	}
}
