package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestGlobalFlagsAfterCommand: `fbrun experiment smoke --db x.db` uses
// x.db (it used to fail with "flag provided but not defined: -db" and the
// whole help).
func TestGlobalFlagsAfterCommand(t *testing.T) {
	db := filepath.Join(t.TempDir(), "x.db")
	r := fbrun(t, "experiment", "smoke", "--db", db, "--log-level", "warn", "--json")
	if r.code != 0 {
		t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if _, err := os.Stat(db); err != nil {
		t.Errorf("--db after the command was not used: %v", err)
	}
	if r := fbrun(t, "runs", "--db", db); r.code != 0 || !strings.Contains(r.stdout, "smoke") {
		t.Errorf("runs --db: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

// TestUnknownFlagOneLine: a mistyped flag is one line with the closest
// flag and exit code 2, before anything starts.
func TestUnknownFlagOneLine(t *testing.T) {
	r := fbrun(t, "experiment", "smoke", "--dbb", "x.db")
	if r.code != 2 || strings.TrimSpace(r.stderr) != "fbrun: unknown flag --dbb for fbrun experiment: did you mean --db?" || r.stdout != "" {
		t.Errorf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	if _, err := os.Stat("x.db"); err == nil {
		t.Errorf("a database was created for a refused command line")
	}
}
