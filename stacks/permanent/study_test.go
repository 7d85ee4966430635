package permanent

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/faas-benchmarker/faas-benchmarker/stacks/internal/stacktest"
	"github.com/faas-benchmarker/faas-benchmarker/stacks/stackcfg"
)

// TestStudyNotInUserData: fb:study changes nothing in the droplet's user
// data — a change there replaces the droplet (user_data is ForceNew in the
// DigitalOcean provider) and with it the orchestrator's results and
// schedule — and is handed to fbrun up permanent, which copies and
// schedules it over SSH (runner TestProvisionOrchestrator), as the
// studyFile output.
func TestStudyNotInUserData(t *testing.T) {
	study := "name: nightly\nplatforms:\n  - {name: l, platform: local}\nexperiments: [smoke]\nschedule: \"daily 03:00\"\n"
	path := filepath.Join(t.TempDir(), "nightly.yaml")
	if err := os.WriteFile(path, []byte(study), 0o644); err != nil {
		t.Fatal(err)
	}
	with, outs := run(t, config(t, "study="+path))
	without, _ := run(t, config(t))
	ud := stacktest.Str(t, with.OfType(typeDroplet)[0], "userData")
	if ud != stacktest.Str(t, without.OfType(typeDroplet)[0], "userData") {
		t.Errorf("fb:study changed the user data:\n%s", ud)
	}
	if strings.Contains(ud, StudyDir) || strings.Contains(ud, "study schedule") || strings.Contains(ud, ".fbrun-binaries-ready") {
		t.Errorf("user data mentions the study or waits for the binaries:\n%s", ud)
	}
	if outs[stackcfg.OutStudyFile].V != path {
		t.Errorf("studyFile output = %v, want %s", outs[stackcfg.OutStudyFile].V, path)
	}
	if got := ScheduleCommand(StudyPath(path)); got != "/usr/local/bin/fbrun --db /var/lib/faas-benchmarker/results.db study schedule "+StudyDir+"/nightly.yaml" {
		t.Errorf("schedule command = %q", got)
	}
}

func TestStudySettingRefused(t *testing.T) {
	dir := t.TempDir()
	big := filepath.Join(dir, "big.yaml")
	if err := os.WriteFile(big, make([]byte, stackcfg.MaxStudyFileBytes+1), 0o644); err != nil {
		t.Fatal(err)
	}
	for arg, want := range map[string]string{
		"study=" + filepath.Join(dir, "missing.yaml"): "no such file",
		"study=" + filepath.Join(dir, "n.txt"):        "end in .yaml",
		"study=" + big:                                "at most",
	} {
		c := stackcfg.DefaultPermanent()
		err := stackcfg.ApplyOverrides(&c, []string{"sshPublicKey=" + testKey, "sshCidrs=203.0.113.7/32", arg})
		if err == nil || !strings.Contains(err.Error(), "fb:study") || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want fb:study and %q", arg, err, want)
		}
	}
}
