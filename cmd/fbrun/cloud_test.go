package main

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/faas-benchmarker/faas-benchmarker/internal/testtools"
	"github.com/faas-benchmarker/faas-benchmarker/localfaas"
	"github.com/faas-benchmarker/faas-benchmarker/localfaas/localfaastest"
	"github.com/faas-benchmarker/faas-benchmarker/results"
	"github.com/faas-benchmarker/faas-benchmarker/results/blobstore"
	"github.com/faas-benchmarker/faas-benchmarker/results/blobstore/miniotest"
)

// cloudEnv is the environment of a managed run on the local-stack
// platform: the pinned Pulumi CLI, an offline file backend, and MinIO
// credentials for shipping. No fblocal plugin is built or installed, as
// after a user's `go install ./cmd/...`: fbrun-cloud serves it itself.
func cloudEnv(t *testing.T, minio *miniotest.Server) []string {
	t.Helper()
	pulumi := testtools.Require(t, "pulumi", "FB_PULUMI")
	env := testEnv(t)
	for i, e := range env {
		if strings.HasPrefix(e, "PATH=") {
			env[i] = "PATH=" + filepath.Dir(pulumi) + string(os.PathListSeparator) + strings.TrimPrefix(e, "PATH=")
		}
	}
	env = append(env, "PULUMI_CONFIG_PASSPHRASE=cli-test", "PULUMI_SKIP_UPDATE_CHECK=true",
		"PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true", "PULUMI_HOME="+t.TempDir(),
		"FB_PULUMI="+pulumi)
	if minio != nil { // nil: no shipping (the study tests)
		env = append(env, envResultsKeyID+"="+minio.AccessKey, envResultsSecret+"="+minio.SecretKey)
	}
	return env
}

func fbrunEnv(t *testing.T, env []string, args ...string) cliResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, fbrunBin, args...)
	cmd.Env = env
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("running fbrun: %v", err)
	}
	return cliResult{code, out.String(), errb.String()}
}

// TestLocalStackLifecycle runs the whole cloud workflow through the CLI
// with the real Pulumi engine: stack up (fblocal functions on the embedded
// platform) → smoke experiment → results stored and merged → shipped to
// MinIO → stack destroyed; then --keep leaves a stack that fbrun cleanup
// removes.
func TestLocalStackLifecycle(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a provider plugin and runs the Pulumi engine")
	}
	minio := miniotest.Start(t)
	env := cloudEnv(t, minio)
	dir := t.TempDir()
	db := filepath.Join(dir, "data", "results.db")
	state := "file://" + filepath.Join(dir, "state")
	ctx := context.Background()
	store, err := blobstore.New(ctx, blobstore.Config{Bucket: "fb-results", Endpoint: minio.Endpoint,
		AccessKeyID: minio.AccessKey, SecretAccessKey: minio.SecretKey, UsePathStyle: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := store.EnsureBucket(ctx); err != nil {
		t.Fatal(err)
	}
	ship := []string{"--results-bucket", "fb-results", "--results-endpoint", minio.Endpoint, "--results-path-style"}

	// A platform outside fbrun, so that a kept stack's functions outlive
	// the run and cleanup can be checked against it.
	plat := localfaastest.Start(t, localfaas.Config{})
	baseline := len(plat.Functions())
	args := append([]string{"--db", db, "experiment", "smoke", "--platform", "local-stack", "--state", state, "--json",
		"--local-endpoint", plat.URL()}, ship...)
	r := fbrunEnv(t, env, args...)
	if r.code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	var s jsonSummary
	if err := json.Unmarshal([]byte(r.stdout), &s); err != nil {
		t.Fatalf("stdout: %v\n%s", err, r.stdout)
	}
	if s.Status != "ok" || s.Platform != "local-stack" || s.Counts.Invocations != 20 {
		t.Errorf("summary = %+v", s)
	}
	if !strings.Contains(r.stderr, "no resources left") {
		t.Errorf("no teardown confirmation in stderr:\n%s", r.stderr)
	}
	// Merged into the user's database, and the standalone file shipped.
	rdb, err := results.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := rdb.CountInvocations(ctx, s.RunID); n != 22 {
		t.Errorf("%d invocation rows in the results database, want 22", n)
	}
	rdb.Close()
	objs, err := store.List(ctx, "runs/")
	if err != nil || len(objs) != 1 || !strings.Contains(objs[0].Key, s.RunID) {
		t.Fatalf("shipped objects = %+v, %v", objs, err)
	}
	if obj, err := store.Stat(ctx, objs[0].Key); err != nil || len(obj.SHA256) != 64 {
		t.Errorf("shipped object without its SHA-256: %+v, %v", obj, err)
	}
	if n := len(plat.Functions()); n != baseline {
		t.Errorf("platform has %d functions after the run, %d before", n, baseline)
	}
	// The state holds no stack.
	if left, _ := filepath.Glob(filepath.Join(dir, "state", ".pulumi", "stacks", "*", "*.json")); len(left) > 0 {
		t.Errorf("stack state left: %v", left)
	}
	// Pulling into a fresh database adds the run once; again adds nothing.
	db2 := filepath.Join(dir, "other", "results.db")
	for i, want := range []string{"1 new runs", "0 new runs"} {
		r := fbrunEnv(t, env, append([]string{"--db", db2, "results", "pull"}, ship...)...)
		if r.code != 0 || !strings.Contains(r.stdout, want) {
			t.Errorf("pull %d: exit %d, want %q:\n%s%s", i, r.code, want, r.stdout, r.stderr)
		}
	}

	// --keep leaves the stack; cleanup finds and destroys it.
	r = fbrunEnv(t, env, "--db", db, "experiment", "smoke", "--platform", "local-stack", "--state", state, "--keep", "--json",
		"--local-endpoint", plat.URL())
	if r.code != 0 || !strings.Contains(r.stderr, "KEPT") {
		t.Fatalf("--keep: exit %d\n%s", r.code, r.stderr)
	}
	if n := len(plat.Functions()); n != baseline+4 {
		t.Errorf("kept stack: platform has %d functions, want %d", n, baseline+4)
	}
	r = fbrunEnv(t, env, "cleanup", "--state", state, "--dry-run")
	if r.code != 0 || !strings.Contains(r.stdout, "would destroy") {
		t.Errorf("cleanup --dry-run: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = fbrunEnv(t, env, "cleanup", "--state", state)
	if r.code != 0 || !strings.Contains(r.stdout, "destroyed") {
		t.Errorf("cleanup: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if n := len(plat.Functions()); n != baseline {
		t.Errorf("after cleanup the platform has %d functions, want %d", n, baseline)
	}
	r = fbrunEnv(t, env, "cleanup", "--state", state)
	if r.code != 0 || !strings.Contains(r.stderr, "no experiment stacks") {
		t.Errorf("second cleanup: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

// TestManagedRunErrors: managed runs refuse clearly before creating
// anything when a prerequisite is missing.
func TestManagedRunErrors(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name string
		env  []string
		args []string
		want string
	}{
		{"no passphrase", nil, []string{"experiment", "smoke", "--platform", "local-stack", "--state", "file://" + dir}, "PULUMI_CONFIG_PASSPHRASE"},
		// The preflight calls STS and Lambda with these keys: AWS_ENDPOINT_URL
		// keeps those calls on loopback (nothing listens there).
		{"no pulumi", []string{"PULUMI_CONFIG_PASSPHRASE=x", "FB_PULUMI=" + filepath.Join(dir, "nope"), "AWS_ACCESS_KEY_ID=AKIDTEST", "AWS_SECRET_ACCESS_KEY=test",
			"AWS_ENDPOINT_URL=http://127.0.0.1:9"},
			[]string{"experiment", "smoke", "--platform", "aws", "--state", "file://" + dir}, "pulumi"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env := append(testEnv(t), tc.env...)
			r := fbrunEnv(t, env, append([]string{"--db", filepath.Join(dir, "r.db")}, tc.args...)...)
			if r.code == 0 || !strings.Contains(r.stderr, tc.want) {
				t.Errorf("exit %d, stderr lacks %q:\n%s", r.code, tc.want, r.stderr)
			}
			noStackTrace(t, r)
		})
	}
}
