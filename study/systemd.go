package study

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/template"

	"github.com/faas-benchmarker/faas-benchmarker/internal/exitcode"
)

// Defaults of the orchestrator's layout (the permanent stack's cloud-init
// creates the user, the directories and the environment file).
const (
	DefaultUser            = "fb"
	DefaultEnvFile         = "/etc/faas-benchmarker/env"
	DefaultCredentialsFile = "/etc/faas-benchmarker/credentials"
	DefaultWorkDir         = "/var/lib/faas-benchmarker"
	DefaultUnitDir         = "/etc/systemd/system"
)

// UnitConfig describes the systemd units of a scheduled study.
type UnitConfig struct {
	// Spec is the study; it must have a schedule.
	Spec *Spec
	// StudyFile, Fbrun and DB are absolute paths: the study file, the
	// fbrun binary and the results database.
	StudyFile, Fbrun, DB string
	// User runs the study (default fb); never root.
	User string
	// EnvFile holds non-secret settings (default /etc/faas-benchmarker/env).
	EnvFile string
	// CredentialsFile holds the cloud and bucket credentials as KEY=value
	// lines; it should be owned by root with mode 0600: systemd reads it
	// before dropping to User, so the study gets the variables while the
	// user cannot read the file (default /etc/faas-benchmarker/credentials).
	CredentialsFile string
	// WorkDir is the working directory (default /var/lib/faas-benchmarker).
	WorkDir string
	// ExtraArgs are `study run` flags (results shipping, state backend).
	ExtraArgs []string
	// NeedsCredentials makes the service skip (ConditionPathExists) while
	// the credentials file is missing: a study with cloud platforms.
	NeedsCredentials bool
}

// Units are the generated unit files.
type Units struct {
	ServiceName, Service string
	TimerName, Timer     string
}

// UnitName is the base name of a study's units ("fbrun-study-nightly").
func UnitName(study string) string { return "fbrun-study-" + study }

// GenerateUnits renders the service and timer of a scheduled study.
func GenerateUnits(cfg UnitConfig) (Units, error) {
	if cfg.Spec == nil {
		return Units{}, errors.New("study: no study")
	}
	if cfg.Spec.Schedule.IsZero() {
		return Units{}, fmt.Errorf("study %s has no schedule: add e.g. schedule: \"daily 03:00\" to %s", cfg.Spec.Name, cfg.Spec.Path)
	}
	if cfg.User == "" {
		cfg.User = DefaultUser
	}
	if cfg.User == "root" {
		return Units{}, errors.New("study: the study service must not run as root (it only needs the credentials, which systemd passes)")
	}
	if cfg.EnvFile == "" {
		cfg.EnvFile = DefaultEnvFile
	}
	if cfg.CredentialsFile == "" {
		cfg.CredentialsFile = DefaultCredentialsFile
	}
	if cfg.WorkDir == "" {
		cfg.WorkDir = DefaultWorkDir
	}
	for _, p := range []struct{ what, path string }{{"study file", cfg.StudyFile}, {"fbrun binary", cfg.Fbrun}, {"database", cfg.DB},
		{"environment file", cfg.EnvFile}, {"credentials file", cfg.CredentialsFile}, {"working directory", cfg.WorkDir}} {
		if !filepath.IsAbs(p.path) {
			return Units{}, fmt.Errorf("study: the %s path %q must be absolute", p.what, p.path)
		}
		if strings.ContainsAny(p.path, "\n\r") {
			return Units{}, fmt.Errorf("study: the %s path %q contains a line break", p.what, p.path)
		}
	}
	args := append([]string{cfg.Fbrun, "--db", cfg.DB, "study", "run", cfg.StudyFile, "--no-progress"}, cfg.ExtraArgs...)
	quoted := make([]string, len(args))
	for i, a := range args {
		quoted[i] = systemdQuote(a)
	}
	name := UnitName(cfg.Spec.Name)
	data := map[string]any{
		"Study": cfg.Spec.Name, "Schedule": cfg.Spec.Schedule.Text, "OnCalendar": cfg.Spec.Schedule.OnCalendar(),
		"User": cfg.User, "EnvFile": systemdPath(cfg.EnvFile), "CredentialsFile": systemdPath(cfg.CredentialsFile),
		"WorkDir": systemdPath(cfg.WorkDir), "ExecStart": strings.Join(quoted, " "), "Service": name + ".service",
		"NeedsCredentials": cfg.NeedsCredentials, "NoRestart": fmt.Sprintf("%d %d %d", exitcode.Usage, exitcode.Teardown, exitcode.CellsFailed),
	}
	var svc, tmr bytes.Buffer
	if err := serviceTmpl.Execute(&svc, data); err != nil {
		return Units{}, fmt.Errorf("study: service unit: %w", err)
	}
	if err := timerTmpl.Execute(&tmr, data); err != nil {
		return Units{}, fmt.Errorf("study: timer unit: %w", err)
	}
	return Units{ServiceName: name + ".service", Service: svc.String(), TimerName: name + ".timer", Timer: tmr.String()}, nil
}

// systemdQuote quotes one ExecStart word: specifiers (%) and variable
// references ($) are escaped, words with spaces, quotes or backslashes are
// double-quoted (systemd.service(5), "Command lines").
func systemdQuote(s string) string {
	s = strings.ReplaceAll(s, "%", "%%")
	s = strings.ReplaceAll(s, "$", "$$")
	if s != "" && !strings.ContainsAny(s, " \t\"'\\;") {
		return s
	}
	s = strings.ReplaceAll(s, `\`, `\\`)
	s = strings.ReplaceAll(s, `"`, `\"`)
	return `"` + s + `"`
}

// systemdPath escapes specifiers in a path setting.
func systemdPath(s string) string { return strings.ReplaceAll(s, "%", "%%") }

var serviceTmpl = template.Must(template.New("service").Parse(`# Generated by fbrun study schedule: runs the faas-benchmarker study {{.Study}}.
# Regenerate it with fbrun study schedule instead of editing it.
[Unit]
Description=faas-benchmarker study {{.Study}} (fbrun study run)
Documentation=https://github.com/faas-benchmarker/faas-benchmarker/blob/main/docs/studies.md
Wants=network-online.target
After=network-online.target
StartLimitIntervalSec=1d
StartLimitBurst=4
{{- if .NeedsCredentials}}
# The study deploys cloud stacks: it waits for the credentials file.
ConditionPathExists={{.CredentialsFile}}
{{- end}}

[Service]
Type=oneshot
User={{.User}}
WorkingDirectory={{.WorkDir}}
# Non-secret settings (bucket, endpoints, PATH).
EnvironmentFile=-{{.EnvFile}}
# Credentials: a root-only file (chmod 600, owned by root) that systemd
# reads before it drops to User={{.User}}; never the droplet's user data.
EnvironmentFile=-{{.CredentialsFile}}
ExecStart={{.ExecStart}}
# A crash or kill resumes the study run (done cells are not repeated);
# bad input, a failed teardown and failed cells are not retried here.
Restart=on-failure
RestartSec=5min
RestartPreventExitStatus={{.NoRestart}}
# Stopping interrupts the running cell, which stores what it measured and
# tears its stack down. KillMode=mixed sends SIGTERM to fbrun alone: a
# SIGTERM to every process of the unit (the default) would reach the Pulumi
# CLI and its provider plugins directly and stop a create half-way,
# orphaning what it was creating (systemd.kill(5)). fbrun then lets the CLI
# finish what is in flight (runner.DefaultInterruptLimit, 30 min) and
# destroys the stack (runner.DefaultDestroyTimeout, 60 min): give it that
# time before systemd sends SIGKILL to what is left.
KillMode=mixed
TimeoutStartSec=infinity
TimeoutStopSec=100min
NoNewPrivileges=true
PrivateTmp=true
`))

var timerTmpl = template.Must(template.New("timer").Parse(`# Generated by fbrun study schedule: when the faas-benchmarker study {{.Study}} runs.
[Unit]
Description=Schedule of the faas-benchmarker study {{.Study}} ({{.Schedule}})
Documentation=https://github.com/faas-benchmarker/faas-benchmarker/blob/main/docs/studies.md

[Timer]
OnCalendar={{.OnCalendar}}
# A run missed while the machine was off starts at the next boot.
Persistent=true
Unit={{.Service}}

[Install]
WantedBy=timers.target
`))

// WriteUnits writes the unit files into dir (e.g. /etc/systemd/system)
// and returns their paths.
func WriteUnits(dir string, u Units) ([]string, error) {
	var paths []string
	for _, f := range []struct{ name, body string }{{u.ServiceName, u.Service}, {u.TimerName, u.Timer}} {
		p := filepath.Join(dir, f.name)
		if err := os.WriteFile(p, []byte(f.body), 0o644); err != nil {
			return paths, fmt.Errorf("study: write %s: %w", p, err)
		}
		paths = append(paths, p)
	}
	return paths, nil
}

// NeedsCredentials reports whether the study has a cloud platform (one
// that deploys a cloud stack per cell).
func (s *Spec) NeedsCredentials() bool {
	cloud := stackPlatforms()
	for _, p := range s.Platforms {
		if slices.Contains(cloud, p.Platform) {
			return true
		}
	}
	return false
}
