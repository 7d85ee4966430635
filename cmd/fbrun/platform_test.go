package main

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/faas-benchmarker/faas-benchmarker/cmd/internal/fbcli"
	"github.com/faas-benchmarker/faas-benchmarker/platforms"
	"github.com/faas-benchmarker/faas-benchmarker/platforms/builtin"
	"github.com/faas-benchmarker/faas-benchmarker/platforms/platformtest"
)

// TestFakePlatformEndToEnd adds a platform the way a new one is added —
// its descriptor (platforms/platformtest) and one registry line — and runs
// it through fbrun's command line, in process, against an httptest server
// serving the lab functions: the smoke experiment runs and is stored under
// the new platform, `fbrun runs` filters by it, and `fbrun doctor` runs
// its preflight. Nothing else in the CLI knows the platform.
func TestFakePlatformEndToEnd(t *testing.T) {
	srv := platformtest.LabServer(t)
	reg, err := platforms.NewRegistry(append(builtin.All(),
		platformtest.Fake("fake", srv.URL, "aws-lambda-x86"), // the one registry line
	)...)
	if err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(t.TempDir(), "results.db")
	run := func(reg *platforms.Registry, args ...string) (int, string, string) {
		var out, errb bytes.Buffer
		code := fbcli.Run(append([]string{"fbrun", "--db", db}, args...), fbcli.Options{Platforms: reg, Stdout: &out, Stderr: &errb})
		return code, out.String(), errb.String()
	}

	code, out, stderr := run(reg, "experiment", "smoke", "--platform", "fake", "--json")
	if code != 0 {
		t.Fatalf("smoke on the fake platform: exit %d\n%s", code, stderr)
	}
	var sum struct {
		RunID    string `json:"run_id"`
		Platform string `json:"platform"`
		Status   string `json:"status"`
		Counts   struct {
			Invocations int64 `json:"invocations"`
			OK          int64 `json:"ok"`
			Nested      int64 `json:"nested"`
		} `json:"counts"`
	}
	if err := json.Unmarshal([]byte(out), &sum); err != nil {
		t.Fatalf("summary %q: %v", out, err)
	}
	if sum.Platform != "fake" || sum.Status != "ok" || sum.Counts.OK == 0 || sum.Counts.Nested == 0 {
		t.Fatalf("summary %+v", sum)
	}

	code, out, stderr = run(reg, "runs", "--platform", "fake")
	if code != 0 || !strings.Contains(out, sum.RunID) {
		t.Errorf("runs --platform fake: exit %d, output lacks %s:\n%s%s", code, sum.RunID, out, stderr)
	}

	code, _, stderr = run(reg, "doctor", "--platform", "fake")
	if code != 0 || !strings.Contains(stderr, "fake server") || !strings.Contains(stderr, "results directory") {
		t.Errorf("doctor --platform fake: exit %d\n%s", code, stderr)
	}

	// Without its registry line the platform does not exist.
	code, _, stderr = run(nil, "experiment", "smoke", "--platform", "fake")
	if code != 2 || !strings.Contains(stderr, `unknown platform "fake"`) {
		t.Errorf("built-in registry: exit %d\n%s", code, stderr)
	}
}
