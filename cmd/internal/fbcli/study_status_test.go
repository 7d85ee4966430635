package fbcli

import (
	"bytes"
	"testing"

	"github.com/faas-benchmarker/faas-benchmarker/study"
)

// TestStudyUntestedText: `fbrun study status` lists the estimates the
// change detector could not judge in the shown study run, per reason and
// platform, and nothing for other study runs.
func TestStudyUntestedText(t *testing.T) {
	u := func(platform, key, to string) study.UntestedStatus {
		c := study.ComparisonStatus{Platform: platform, Experiment: "cold-start", Estimate: key, FromRun: "s1", ToRun: to}
		return study.UntestedStatus{ComparisonStatus: c, Reason: study.UntestedReason}
	}
	list := []study.UntestedStatus{u("a", "cold_p50_ms", "s2"), u("b", "cold_p50_ms", "s2"), u("a", "init_p50_ms", "s2"), u("a", "old_ms", "s1")}
	var buf bytes.Buffer
	studyUntestedText(&buf, list, "s2")
	want := "Not tested in s2 (3 estimates):\n  " + study.UntestedReason + ":\n    a: cold_p50_ms, init_p50_ms\n    b: cold_p50_ms\n"
	if buf.String() != want {
		t.Errorf("text =\n%s\nwant\n%s", buf.String(), want)
	}
	buf.Reset()
	studyUntestedText(&buf, list, "s3")
	if buf.Len() != 0 {
		t.Errorf("a study run without untested estimates: %q", buf.String())
	}
}
