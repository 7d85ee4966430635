package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/faas-benchmarker/faas-benchmarker/cmd/internal/cloudplan"
	"github.com/faas-benchmarker/faas-benchmarker/experiments"
)

// TestManagedRunHandsOverAPlan: for a run that deploys a stack, fbrun
// resolves everything once, runs the preflight itself, and hands
// fbrun-cloud a typed plan on stdin — not its command line — then ends
// with the exit code of the outcome fbrun-cloud answers with.
func TestManagedRunHandsOverAPlan(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("the fake fbrun-cloud is a shell script")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "fbrun")
	if err := os.Link(fbrunBin, bin); err != nil {
		copyFile(t, fbrunBin, bin)
	}
	write := func(name, script string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(script), 0o755); err != nil {
			t.Fatal(err)
		}
		return p
	}
	write("fbrun-cloud", `#!/bin/sh
d=$(dirname "$0")
printf '%s\n' "$@" > "$d/args"
cat > "$d/plan"
echo '{"version":1,"error":"the fake cloud ran nothing","exit_code":7}'
`)
	pulumi := write("pulumi", "#!/bin/sh\nif [ \"$1\" = plugin ]; then echo '[]'; else echo v3.274.1; fi\n")
	db := filepath.Join(dir, "data", "results.db")
	r := fbrunAt(t, bin, "PULUMI_CONFIG_PASSPHRASE=x", "FB_PULUMI="+pulumi,
		"--db", db, "experiment", "smoke", "-p", "local-stack", "--local-endpoint", "http://127.0.0.1:1",
		"--set", "sequential=2", "--state", "file://"+filepath.Join(dir, "state"), "--keep", "--timeout", "7s")
	if r.code != 7 || !strings.Contains(r.stderr, "the fake cloud ran nothing") {
		t.Fatalf("exit %d, want the outcome's 7\nstderr:\n%s", r.code, r.stderr)
	}
	if !strings.Contains(r.stderr, "pulumi cli") {
		t.Errorf("fbrun ran no preflight:\n%s", r.stderr)
	}
	args, err := os.ReadFile(filepath.Join(dir, "args"))
	if err != nil || string(args) != cloudplan.Command+"\n" {
		t.Fatalf("fbrun-cloud arguments %q (%v), want only %q", args, err, cloudplan.Command)
	}
	raw, err := os.ReadFile(filepath.Join(dir, "plan"))
	if err != nil {
		t.Fatal(err)
	}
	p, err := cloudplan.ReadPlan(strings.NewReader(string(raw)), "")
	if err != nil {
		t.Fatalf("%v\n%s", err, raw)
	}
	want, err := experiments.Resolve(experiments.Smoke{}, map[string]string{"sequential": "2"})
	if err != nil {
		t.Fatal(err)
	}
	wantParams, _ := json.Marshal(want.Map())
	gotParams, _ := json.Marshal(p.Params)
	if p.Experiment != "smoke" || p.Platform != "local-stack" || p.LocalEndpoint != "http://127.0.0.1:1" || !p.Keep ||
		p.DB != db || p.RunsDir != filepath.Join(dir, "data", "runs") || p.TimeoutNS.Seconds() != 7 ||
		p.Runner.State != "file://"+filepath.Join(dir, "state") || string(gotParams) != string(wantParams) {
		t.Errorf("plan %+v\nparams %s, want %s", p, gotParams, wantParams)
	}
}
