//go:build linux

package main

import (
	"os"
	"testing"
)

// TestMemOf reads this process's own memory: resident, with an anonymous
// part (the heap) that is smaller than the whole.
func TestMemOf(t *testing.T) {
	m, err := memOf(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if m.rss <= 0 || m.anon <= 0 || m.anon >= m.rss {
		t.Fatalf("memOf = %+v, want 0 < anon < rss", m)
	}
	if _, err := memOf(-1); err == nil {
		t.Fatal("memOf(-1): want an error")
	}
}
