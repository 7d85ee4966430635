package results

import (
	"testing"
	"time"
)

func TestRunID(t *testing.T) {
	now := time.Date(2026, 11, 26, 5, 43, 7, 900, time.FixedZone("x", 3600))
	id := NewRunID(now)
	if len(id) != len("20261126-044307-3fa9c1") || id[:16] != "20261126-044307-" {
		t.Fatalf("NewRunID = %q, want the UTC time 20261126-044307 and 6 hex digits", id)
	}
	if got, ok := ParseRunID(id); !ok || !got.Equal(now.Truncate(time.Second)) {
		t.Fatalf("ParseRunID(%q) = %v, %v", id, got, ok)
	}
	for _, tc := range []struct {
		id   string
		want time.Time
		ok   bool
	}{
		{"20261126-054300-3fa9c1", time.Date(2026, 11, 26, 5, 43, 0, 0, time.UTC), true},
		// Managed runs were named this way before the formats were
		// unified; their runs and stacks must stay readable.
		{"20261126t054300-3fa9c1", time.Date(2026, 11, 26, 5, 43, 0, 0, time.UTC), true},
		{"20261126x054300-3fa9c1", time.Time{}, false},
		{"20261126-054300-3FA9C1", time.Time{}, false},
		{"20261126-054300-3fa9c", time.Time{}, false},
		{"20261132-054300-3fa9c1", time.Time{}, false}, // no 32nd day
		{"x20261126-054300-3fa9c1", time.Time{}, false},
		{"", time.Time{}, false},
	} {
		got, ok := ParseRunID(tc.id)
		if ok != tc.ok || !got.Equal(tc.want) {
			t.Errorf("ParseRunID(%q) = %v, %v; want %v, %v", tc.id, got, ok, tc.want, tc.ok)
		}
	}
}
