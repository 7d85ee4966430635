package runner

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/faas-benchmarker/faas-benchmarker/internal/testtools"
	"github.com/faas-benchmarker/faas-benchmarker/stacks/permanent"
)

// fakeSSH is an ssh client stand-in: it logs its options and runs the
// remote command (its last argument) with /usr/local/bin and
// /etc/faas-benchmarker mapped into $FAKE_SSH_DIR; it refuses connections
// while $FAKE_SSH_DIR/refuse holds a number above 0 (a droplet still
// booting: one fewer each time) or while $FAKE_SSH_DIR/changed-key exists
// (ssh's changed-host-key refusal), answers the running study services
// and the missing tools from files, and `cloud-init status` from
// files (`--wait` sleeps while $FAKE_SSH_DIR/hang exists: cloud-init never
// finishing) and the log tail from a file.
const fakeSSH = `#!/bin/sh
for a; do cmd=$a; done
d=$FAKE_SSH_DIR
echo "$*" >> "$d/args"
echo "$cmd" >> "$d/log"
n=$(cat "$d/refuse" 2>/dev/null || echo 0)
if [ "$n" -gt 0 ]; then
  echo $((n-1)) > "$d/refuse"
  echo "ssh: connect to host 203.0.113.9 port 22: Connection refused" >&2; exit 255
fi
if [ -e "$d/changed-key" ]; then
  echo "@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@" >&2
  echo "@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @" >&2
  echo "Host key verification failed." >&2; exit 255
fi
case "$cmd" in
"systemctl list-units"*) cat "$d/active" 2>/dev/null || true ;;
"for t in"*) cat "$d/missing" 2>/dev/null || true ;;
"cloud-init status --wait"*) [ -e "$d/hang" ] && exec sleep 60; cat "$d/status"; exit "$(cat "$d/status-code")" ;;
"cloud-init status"*) cat "$d/status"; echo "(still running)"; exit 0 ;;
tail*) cat "$d/output-log" ;;
*) sh -c "$(echo "$cmd" | sed -e "s#/usr/local/bin#$d/root#g" -e "s#/etc/faas-benchmarker#$d/etc#g")" ;;
esac
`

// fakeFbrun stands in for the fbrun binary copied to the droplet: it
// records how it was called.
const fakeFbrun = "#!/bin/sh\necho \"$*\" >> \"$FAKE_SSH_DIR/fbrun-calls\"\necho \"enabled fbrun-study-nightly.timer\"\n"

// orchestratorFixture is a fake droplet in a temporary directory.
type orchestratorFixture struct {
	dir, ssh, study string
	bins            map[string]string
}

func newOrchestratorFixture(t *testing.T) orchestratorFixture {
	t.Helper()
	d := t.TempDir()
	t.Setenv("FAKE_SSH_DIR", d)
	f := orchestratorFixture{dir: d, ssh: filepath.Join(d, "ssh"), study: filepath.Join(d, "nightly.yaml"), bins: map[string]string{}}
	must(t, os.WriteFile(f.ssh, []byte(fakeSSH), 0o755))
	must(t, os.MkdirAll(filepath.Join(d, "root"), 0o755))
	must(t, os.MkdirAll(filepath.Join(d, "etc"), 0o755))
	f.setStatus(t, "status: done\n", "0")
	must(t, os.WriteFile(filepath.Join(d, "output-log"), []byte("Cloud-init v. 24.4 running\nE: Unable to locate package sqlite3\n"), 0o644))
	must(t, os.WriteFile(f.study, []byte("name: nightly\nschedule: daily 03:00\n"), 0o644))
	for _, b := range permanent.Binaries {
		p := filepath.Join(d, "build-"+b)
		body := "#!/bin/sh\n# binary " + b + "\n"
		if b == "fbrun" {
			body = fakeFbrun
		}
		must(t, os.WriteFile(p, []byte(body), 0o755))
		f.bins[b] = p
	}
	return f
}

func (f orchestratorFixture) setStatus(t *testing.T, status, code string) {
	t.Helper()
	must(t, os.WriteFile(filepath.Join(f.dir, "status"), []byte(status), 0o644))
	must(t, os.WriteFile(filepath.Join(f.dir, "status-code"), []byte(code), 0o644))
}

func (f orchestratorFixture) read(name string) string {
	b, _ := os.ReadFile(filepath.Join(f.dir, name))
	return string(b)
}

func (f orchestratorFixture) config(out *testtools.Buffer) Orchestrator {
	// A space in the path, as in macOS's ~/Library/Application Support.
	return Orchestrator{Host: "203.0.113.9", KnownHosts: filepath.Join(f.dir, "known hosts", "4711", "known_hosts"), SSH: f.ssh,
		Binaries: f.bins, Study: f.study, Out: out, Retry: time.Millisecond, BootTimeout: time.Minute, CloudInitTimeout: time.Minute}
}

func TestProvisionOrchestrator(t *testing.T) {
	for _, tc := range []struct {
		name, status, code string
		missing            string // tools cloud-init did not install
		hang               bool
		errText            []string // empty: success
	}{
		{name: "cloud-init done", status: "status: done\n", code: "0"},
		{name: "cloud-init done with recoverable errors", status: "status: done\nextended_status: degraded done\n", code: "2"},
		{name: "cloud-init failed", status: "status: error\ndetail: ('scripts_user', RuntimeError('Runparts: 1 failures'))\n", code: "1",
			errText: []string{"cloud-init failed on the orchestrator 203.0.113.9", "status: error", "Runparts: 1 failures",
				"E: Unable to locate package sqlite3", "cloud-init clean --logs --reboot"}},
		{name: "cloud-init done but a tool missing", status: "status: done\n", code: "0", missing: "aws\n",
			errText: []string{"did not install aws", "cloud-init clean --logs --reboot"}},
		{name: "cloud-init never finishes", status: "status: running\n", code: "0", hang: true,
			errText: []string{"cloud-init did not finish within 300ms", "status: running", "E: Unable to locate package sqlite3"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newOrchestratorFixture(t)
			f.setStatus(t, tc.status, tc.code)
			must(t, os.WriteFile(filepath.Join(f.dir, "refuse"), []byte("1"), 0o644))
			if tc.hang {
				must(t, os.WriteFile(filepath.Join(f.dir, "hang"), nil, 0o644))
			}
			must(t, os.WriteFile(filepath.Join(f.dir, "missing"), []byte(tc.missing), 0o644))
			out := &testtools.Buffer{}
			cfg := f.config(out)
			if tc.hang {
				cfg.CloudInitTimeout = 300 * time.Millisecond
			}
			err := ProvisionOrchestrator(t.Context(), cfg)
			if len(tc.errText) == 0 && err != nil {
				t.Fatalf("err %v", err)
			}
			for _, want := range tc.errText {
				if err == nil || !strings.Contains(err.Error(), want) {
					t.Errorf("error lacks %q: %v", want, err)
				}
			}
			for b := range f.bins {
				want, _ := os.ReadFile(f.bins[b])
				got, err := os.ReadFile(filepath.Join(f.dir, "root", b))
				st, serr := os.Stat(filepath.Join(f.dir, "root", b))
				if err != nil || string(got) != string(want) || serr != nil || st.Mode().Perm() != 0o755 {
					t.Errorf("%s on the orchestrator: %q, %v", b, got, err)
				}
			}
			log := f.read("log")
			if !strings.Contains(log, "cloud-init status --wait") || strings.Count(log, "true\n") != 2 {
				t.Errorf("remote commands:\n%s", log)
			}
			// Every connection trusts host keys in this droplet's own file.
			for _, line := range strings.Split(strings.TrimSpace(f.read("args")), "\n") {
				if !strings.Contains(line, "StrictHostKeyChecking=accept-new") || !strings.Contains(line, `UserKnownHostsFile="`+cfg.KnownHosts+`" `) {
					t.Errorf("ssh options: %s", line)
				}
			}
			if st, err := os.Stat(filepath.Dir(cfg.KnownHosts)); err != nil || st.Mode().Perm() != 0o700 {
				t.Errorf("known_hosts directory: %v %v", st, err)
			}
			// The study is scheduled only once cloud-init is done.
			calls := f.read("fbrun-calls")
			if len(tc.errText) != 0 {
				if calls != "" {
					t.Errorf("study scheduled although cloud-init did not finish: %s", calls)
				}
				return
			}
			// (the fake maps /etc/faas-benchmarker into its directory)
			remote := strings.Replace(permanent.StudyDir, "/etc/faas-benchmarker", filepath.Join(f.dir, "etc"), 1)
			if want := "--db " + permanent.ResultsDB + " study schedule " + remote + "/nightly.yaml\n"; calls != want {
				t.Errorf("fbrun on the droplet: %q, want %q", calls, want)
			}
			if got := f.read("etc/studies/nightly.yaml"); got != "name: nightly\nschedule: daily 03:00\n" {
				t.Errorf("study file on the droplet: %q", got)
			}
			if !strings.Contains(out.String(), "enabled fbrun-study-nightly.timer") {
				t.Errorf("output lacks the schedule's answer:\n%s", out)
			}
		})
	}
}

// TestProvisionOrchestratorAgain: a first `up permanent` that failed (the
// droplet never answered over SSH in time) is finished by running it
// again, and a second run after a change of the study file installs and
// schedules the new file.
func TestProvisionOrchestratorAgain(t *testing.T) {
	f := newOrchestratorFixture(t)
	must(t, os.WriteFile(filepath.Join(f.dir, "refuse"), []byte("1000000"), 0o644))
	cfg := f.config(&testtools.Buffer{})
	cfg.BootTimeout = 200 * time.Millisecond
	err := ProvisionOrchestrator(t.Context(), cfg)
	if err == nil || !strings.Contains(err.Error(), "did not answer over SSH within 200ms") || !strings.Contains(err.Error(), "Connection refused") {
		t.Fatalf("first run: %v", err)
	}
	if f.read("fbrun-calls") != "" {
		t.Fatal("study scheduled although the droplet never answered")
	}
	must(t, os.WriteFile(filepath.Join(f.dir, "refuse"), []byte("0"), 0o644))
	cfg.BootTimeout = time.Minute
	if err := ProvisionOrchestrator(t.Context(), cfg); err != nil {
		t.Fatalf("second run: %v", err)
	}
	must(t, os.WriteFile(f.study, []byte("name: nightly\nschedule: daily 04:00\n"), 0o644))
	if err := ProvisionOrchestrator(t.Context(), cfg); err != nil {
		t.Fatalf("third run: %v", err)
	}
	if got := strings.Count(f.read("fbrun-calls"), "study schedule"); got != 2 {
		t.Errorf("study scheduled %d times, want 2:\n%s", got, f.read("fbrun-calls"))
	}
	if got := f.read("etc/studies/nightly.yaml"); !strings.Contains(got, "04:00") {
		t.Errorf("study file on the droplet after the change: %q", got)
	}
}

func TestOrchestratorKnownHosts(t *testing.T) {
	t.Setenv("XDG_DATA_HOME", "/data")
	if p, err := OrchestratorKnownHosts("4711"); err != nil || p != "/data/faas-benchmarker/orchestrator/4711/known_hosts" {
		t.Errorf("OrchestratorKnownHosts = %q, %v", p, err)
	}
	if _, err := OrchestratorKnownHosts(""); err == nil || !strings.Contains(err.Error(), "dropletId") {
		t.Errorf("no droplet ID: %v", err)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestProvisionOrchestratorRefuses: nothing is copied while a study runs
// (its cells would mix two builds), and a changed host key stops at once
// instead of being retried for the boot timeout.
func TestProvisionOrchestratorRefuses(t *testing.T) {
	t.Run("study running", func(t *testing.T) {
		f := newOrchestratorFixture(t)
		must(t, os.WriteFile(filepath.Join(f.dir, "active"), []byte("fbrun-study-nightly.service loaded active running faas-benchmarker study nightly\n"), 0o644))
		err := ProvisionOrchestrator(t.Context(), f.config(&testtools.Buffer{}))
		if err == nil || !strings.Contains(err.Error(), "a study is running on the orchestrator (fbrun-study-nightly.service)") {
			t.Fatalf("err %v", err)
		}
		if _, err := os.Stat(filepath.Join(f.dir, "root", "fbrun")); err == nil {
			t.Error("a binary was copied while a study ran")
		}
	})
	t.Run("host key changed", func(t *testing.T) {
		f := newOrchestratorFixture(t)
		must(t, os.WriteFile(filepath.Join(f.dir, "changed-key"), nil, 0o644))
		cfg := f.config(&testtools.Buffer{})
		cfg.BootTimeout = time.Hour // a retry would hang the test
		err := ProvisionOrchestrator(t.Context(), cfg)
		if err == nil || !strings.Contains(err.Error(), "presents another host key") || !strings.Contains(err.Error(), cfg.KnownHosts) {
			t.Fatalf("err %v", err)
		}
		if n := strings.Count(f.read("log"), "true\n"); n != 1 {
			t.Errorf("%d connection attempts, want 1", n)
		}
	})
}
