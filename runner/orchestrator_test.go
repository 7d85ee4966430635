package runner

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/faas-benchmarker/faas-benchmarker/internal/testtools"
)

// fakeSSH is an ssh client stand-in: it runs the remote command (its last
// argument) with /usr/local/bin mapped into $FAKE_SSH_DIR/root, refuses
// the first connection (a droplet still booting), and answers
// `cloud-init status` and the log tail from files.
const fakeSSH = `#!/bin/sh
for a; do cmd=$a; done
d=$FAKE_SSH_DIR
echo "$cmd" >> "$d/log"
case "$cmd" in
true)
  n=$(cat "$d/boots" 2>/dev/null || echo 0); echo $((n+1)) > "$d/boots"
  [ "$n" -ge 1 ] || { echo "ssh: connect to host 203.0.113.9 port 22: Connection refused" >&2; exit 255; } ;;
"cloud-init status"*) cat "$d/status"; exit "$(cat "$d/status-code")" ;;
tail*) cat "$d/output-log" ;;
*) sh -c "$(echo "$cmd" | sed "s#/usr/local/bin#$d/root#g")" ;;
esac
`

func TestProvisionOrchestrator(t *testing.T) {
	for _, tc := range []struct {
		name, status, code, errText string
	}{
		{"cloud-init done", "status: done\n", "0", ""},
		{"cloud-init failed", "status: error\ndetail: ('scripts_user', RuntimeError('Runparts: 1 failures'))\n", "1",
			"cloud-init failed on the orchestrator 203.0.113.9"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := t.TempDir()
			t.Setenv("FAKE_SSH_DIR", d)
			ssh := filepath.Join(d, "ssh")
			must(t, os.WriteFile(ssh, []byte(fakeSSH), 0o755))
			must(t, os.MkdirAll(filepath.Join(d, "root"), 0o755))
			must(t, os.WriteFile(filepath.Join(d, "status"), []byte(tc.status), 0o644))
			must(t, os.WriteFile(filepath.Join(d, "status-code"), []byte(tc.code), 0o644))
			must(t, os.WriteFile(filepath.Join(d, "output-log"), []byte("Cloud-init v. 24.4 running\nE: Unable to locate package sqlite3\n"), 0o644))
			bins := map[string]string{}
			for _, b := range []string{"fbrun", "fbrun-cloud", "fbrun-lab"} {
				p := filepath.Join(d, "build-"+b)
				must(t, os.WriteFile(p, []byte("binary "+b), 0o755))
				bins[b] = p
			}
			out := &testtools.Buffer{}
			err := ProvisionOrchestrator(t.Context(), Orchestrator{Host: "203.0.113.9", SSH: ssh, Binaries: bins, Out: out,
				Retry: time.Millisecond})
			if tc.errText == "" && err != nil || tc.errText != "" && (err == nil || !strings.Contains(err.Error(), tc.errText)) {
				t.Fatalf("err %v, want %q", err, tc.errText)
			}
			if tc.errText != "" {
				for _, want := range []string{"status: error", "Runparts: 1 failures", "E: Unable to locate package sqlite3"} {
					if !strings.Contains(err.Error(), want) {
						t.Errorf("error lacks %q: %v", want, err)
					}
				}
			}
			for b := range bins {
				got, err := os.ReadFile(filepath.Join(d, "root", b))
				st, serr := os.Stat(filepath.Join(d, "root", b))
				if err != nil || string(got) != "binary "+b || serr != nil || st.Mode().Perm() != 0o755 {
					t.Errorf("%s on the orchestrator: %q, %v", b, got, err)
				}
			}
			if _, err := os.Stat(filepath.Join(d, "root", ".fbrun-binaries-ready")); err != nil {
				t.Errorf("ready marker: %v", err)
			}
			log, _ := os.ReadFile(filepath.Join(d, "log"))
			if !strings.Contains(string(log), "cloud-init status --wait") || strings.Count(string(log), "true\n") != 2 {
				t.Errorf("remote commands:\n%s", log)
			}
		})
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
