package permanent

import (
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/faas-benchmarker/faas-benchmarker/stacks/internal/stacktest"
	"github.com/faas-benchmarker/faas-benchmarker/stacks/stackcfg"
)

// TestCloudInitStudy: fb:study puts the study file on the droplet and
// schedules it after fbrun is installed; the user data stays valid YAML
// without credentials.
func TestCloudInitStudy(t *testing.T) {
	study := "name: nightly\nplatforms:\n  - {name: l, platform: local}\nexperiments: [smoke]\nschedule: \"daily 03:00\"\n"
	path := filepath.Join(t.TempDir(), "nightly.yaml")
	if err := os.WriteFile(path, []byte(study), 0o644); err != nil {
		t.Fatal(err)
	}
	m, _ := run(t, config(t, "study="+path))
	ud := stacktest.Str(t, m.OfType(typeDroplet)[0], "userData")
	var doc struct {
		WriteFiles []struct {
			Path, Encoding, Content string
		} `yaml:"write_files"`
		Runcmd []string `yaml:"runcmd"`
	}
	if err := yaml.Unmarshal([]byte(ud), &doc); err != nil {
		t.Fatalf("user data is not YAML: %v\n%s", err, ud)
	}
	var content string
	for _, f := range doc.WriteFiles {
		if f.Path == StudyDir+"/nightly.yaml" && f.Encoding == "b64" {
			b, err := base64.StdEncoding.DecodeString(f.Content)
			if err != nil {
				t.Fatal(err)
			}
			content = string(b)
		}
	}
	if content != study {
		t.Errorf("study file on the droplet = %q, want %q\n%s", content, study, ud)
	}
	last := doc.Runcmd[len(doc.Runcmd)-1]
	if last != "/usr/local/bin/fbrun --db /var/lib/faas-benchmarker/results.db study schedule "+StudyDir+"/nightly.yaml" {
		t.Errorf("last runcmd = %q", last)
	}
	// fbrun is copied by fbrun up permanent, never compiled on the droplet:
	// the study is scheduled only after the wait for the copied binaries.
	all := strings.Join(doc.Runcmd, "\n")
	if i := strings.Index(all, ReadyMarker); i < 0 || i > strings.Index(all, "study schedule") {
		t.Error("the study is scheduled before the wait for the fbrun binaries")
	}
	// Without fb:study nothing of it appears.
	m, _ = run(t, config(t))
	if ud := stacktest.Str(t, m.OfType(typeDroplet)[0], "userData"); strings.Contains(ud, "study") {
		t.Errorf("user data without fb:study mentions a study:\n%s", ud)
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
