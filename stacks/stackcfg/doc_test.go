package stackcfg

import (
	"os"
	"strings"
	"testing"
)

// TestDocsListEveryKey keeps docs/infrastructure.md in step with the keys:
// each platform's table must have a row for every key it accepts.
func TestDocsListEveryKey(t *testing.T) {
	b, err := os.ReadFile("../../docs/infrastructure.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	for _, p := range Platforms() {
		_, section, ok := strings.Cut(doc, "#### "+string(p)+"\n")
		if !ok {
			t.Errorf("docs/infrastructure.md has no key table for %s", p)
			continue
		}
		section, _, _ = strings.Cut(section, "\n\n#")
		s, _ := New(p)
		for _, k := range s.Keys() {
			if !strings.Contains(section, "| `fb:"+k.Key+"` |") {
				t.Errorf("docs/infrastructure.md: %s table lacks fb:%s", p, k.Key)
			}
		}
	}
}
