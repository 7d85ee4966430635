package hostdirs

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func env(goos string, vars map[string]string) Env {
	return Env{
		GOOS:     goos,
		Getenv:   func(k string) string { return vars[k] },
		Home:     func() (string, error) { return "/home/u", nil },
		CacheDir: func() (string, error) { return "/cache", nil },
		LookPath: func(string) (string, error) { return "", errors.New("not on PATH") },
	}
}

// TestDataDir: one data directory per operating system, whichever binary
// asks (the results database and the Pulumi state live under it).
func TestDataDir(t *testing.T) {
	for _, tt := range []struct {
		goos string
		vars map[string]string
		want string
	}{
		{"linux", nil, "/home/u/.local/share/faas-benchmarker"},
		{"linux", map[string]string{"XDG_DATA_HOME": "/xdg"}, "/xdg/faas-benchmarker"},
		{"freebsd", nil, "/home/u/.local/share/faas-benchmarker"},
		{"darwin", nil, "/home/u/Library/Application Support/faas-benchmarker"},
		{"darwin", map[string]string{"XDG_DATA_HOME": "/xdg"}, "/xdg/faas-benchmarker"},
		{"windows", map[string]string{"LocalAppData": "/appdata", "XDG_DATA_HOME": "/xdg"}, "/appdata/faas-benchmarker"},
		{"windows", nil, "/home/u/.local/share/faas-benchmarker"},
	} {
		got, err := env(tt.goos, tt.vars).DataDir()
		if err != nil || got != filepath.FromSlash(tt.want) {
			t.Errorf("%s %v: DataDir = %q, %v; want %q", tt.goos, tt.vars, got, err, tt.want)
		}
	}
	e := env("linux", nil)
	e.Home = func() (string, error) { return "", errors.New("no home") }
	if _, err := e.DataDir(); err == nil {
		t.Error("no home directory: no error")
	}
}

// TestFindPulumi: explicit path, $FB_PULUMI, PATH, then the pinned build;
// a missing explicit path is an error naming where it came from.
func TestFindPulumi(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "bin", "pulumi")
	if err := os.MkdirAll(filepath.Dir(bin), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	onPath := env("linux", nil)
	onPath.LookPath = func(string) (string, error) { return bin, nil }
	for _, tt := range []struct {
		name     string
		e        Env
		explicit string
		want     string // "" means an ErrNoPulumi containing wantErr
		wantErr  string
	}{
		{"explicit", env("linux", nil), bin, bin, ""},
		{"explicit missing", env("linux", nil), filepath.Join(dir, "nope"), "", "--pulumi or FB_PULUMI"},
		{"FB_PULUMI", env("linux", map[string]string{EnvPulumi: bin}), "", bin, ""},
		{"on PATH", onPath, "", bin, ""},
		{"pinned build", env("linux", map[string]string{EnvToolsDir: dir}), "", bin, ""},
		{"nowhere", env("linux", map[string]string{EnvToolsDir: t.TempDir()}), "", "", "--pulumi /path/to/pulumi"},
	} {
		got, err := tt.e.FindPulumi(tt.explicit)
		if tt.want != "" && (err != nil || got != tt.want) {
			t.Errorf("%s: FindPulumi = %q, %v; want %q", tt.name, got, err, tt.want)
		}
		if tt.want == "" && (!errors.Is(err, ErrNoPulumi) || !strings.Contains(err.Error(), tt.wantErr)) {
			t.Errorf("%s: err = %v, want ErrNoPulumi with %q", tt.name, err, tt.wantErr)
		}
	}
}
