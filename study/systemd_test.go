package study

import (
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/faas-benchmarker/faas-benchmarker/internal/testtools"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func unitSpec(t *testing.T, src string) *Spec {
	t.Helper()
	s, err := Parse("/etc/faas-benchmarker/studies/nightly.yaml", []byte(src), testVocab())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestUnitsGolden pins the generated units (regenerate with -update).
func TestUnitsGolden(t *testing.T) {
	u, err := GenerateUnits(UnitConfig{Spec: unitSpec(t, goodStudy), StudyFile: "/etc/faas-benchmarker/studies/nightly.yaml",
		Fbrun: "/usr/local/bin/fbrun", DB: "/var/lib/faas-benchmarker/results.db", NeedsCredentials: true,
		ExtraArgs: []string{"--results-bucket=fb-results-1", "--results-endpoint=https://fra1.digitaloceanspaces.com"}})
	if err != nil {
		t.Fatal(err)
	}
	got := "# " + u.ServiceName + "\n" + u.Service + "\n# " + u.TimerName + "\n" + u.Timer
	golden := filepath.Join("testdata", "nightly.units.golden")
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("units differ from %s (go test ./study -run Golden -update):\n%s", golden, got)
	}
	for _, w := range []string{"User=fb\n", "EnvironmentFile=-/etc/faas-benchmarker/credentials\n", "ConditionPathExists=/etc/faas-benchmarker/credentials\n",
		"OnCalendar=*-*-* 03:00:00 UTC\n", "Persistent=true\n", "RestartPreventExitStatus=2 3 4\n"} {
		if !strings.Contains(got, w) {
			t.Errorf("units lack %q", w)
		}
	}
}

func TestUnitsRefused(t *testing.T) {
	spec := unitSpec(t, goodStudy)
	ok := UnitConfig{Spec: spec, StudyFile: "/s.yaml", Fbrun: "/fbrun", DB: "/r.db"}
	noSchedule := unitSpec(t, strings.Replace(goodStudy, `schedule: "daily 03:00"`, "", 1))
	tests := []struct {
		name string
		mod  func(*UnitConfig)
		want string
	}{
		{"no schedule", func(c *UnitConfig) { c.Spec = noSchedule }, "has no schedule"},
		{"root", func(c *UnitConfig) { c.User = "root" }, "must not run as root"},
		{"relative db", func(c *UnitConfig) { c.DB = "r.db" }, "must be absolute"},
		{"relative file", func(c *UnitConfig) { c.StudyFile = "s.yaml" }, "must be absolute"},
	}
	for _, tt := range tests {
		c := ok
		tt.mod(&c)
		if _, err := GenerateUnits(c); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want %q", tt.name, err, tt.want)
		}
	}
}

func TestSystemdQuote(t *testing.T) {
	for in, want := range map[string]string{
		"/usr/bin/fbrun":    "/usr/bin/fbrun",
		"/a dir/s.yaml":     `"/a dir/s.yaml"`,
		"100%":              "100%%",
		"$HOME":             "$$HOME",
		`a"b`:               `"a\"b"`,
		`--x=a\b`:           `"--x=a\\b"`,
		"s3://b?region=x&y": "s3://b?region=x&y",
	} {
		if got := systemdQuote(in); got != want {
			t.Errorf("systemdQuote(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestUnitsVerify runs systemd-analyze verify on generated units whose
// paths exist on this machine (User=nobody: a user that exists).
func TestUnitsVerify(t *testing.T) {
	analyze := testtools.Require(t, "systemd-analyze", "")
	dir := t.TempDir()
	bin, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "a study.yaml") // a space: quoting is checked too
	if err := os.WriteFile(file, []byte(goodStudy), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, sched := range []string{"daily 03:00", "every 6h", "every 15m"} {
		spec := unitSpec(t, strings.Replace(goodStudy, "daily 03:00", sched, 1))
		u, err := GenerateUnits(UnitConfig{Spec: spec, StudyFile: file, Fbrun: bin, DB: filepath.Join(dir, "r.db"), User: "nobody",
			EnvFile: filepath.Join(dir, "env"), CredentialsFile: filepath.Join(dir, "credentials"), WorkDir: dir, NeedsCredentials: true,
			ExtraArgs: []string{"--state=file://" + dir + "/state"}})
		if err != nil {
			t.Fatal(err)
		}
		unitDir := t.TempDir()
		paths, err := WriteUnits(unitDir, u)
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(analyze, append([]string{"verify"}, paths...)...)
		cmd.Env = append(os.Environ(), "SYSTEMD_LOG_LEVEL=warning")
		out, err := cmd.CombinedOutput()
		if err != nil || len(strings.TrimSpace(string(out))) > 0 {
			t.Errorf("%s: systemd-analyze verify: %v\n%s\n%s\n%s", sched, err, out, u.Service, u.Timer)
		}
		cal := exec.Command(analyze, "calendar", spec.Schedule.OnCalendar())
		if out, err := cal.CombinedOutput(); err != nil {
			t.Errorf("systemd-analyze calendar %q: %v\n%s", spec.Schedule.OnCalendar(), err, out)
		}
	}
}
