package runner

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/faas-benchmarker/faas-benchmarker/internal/hostdirs"
	"github.com/faas-benchmarker/faas-benchmarker/stacks/permanent"
	"github.com/faas-benchmarker/faas-benchmarker/study"
)

// Orchestrator is how ProvisionOrchestrator reaches the permanent stack's
// droplet.
type Orchestrator struct {
	// Host is the droplet's address (the dropletIp output).
	Host string
	// KnownHosts is the known_hosts file for this droplet (required; see
	// OrchestratorKnownHosts): SSH accepts the droplet's host key on first
	// contact and refuses a changed one afterwards. One file per droplet,
	// because DigitalOcean reuses addresses: a new droplet at an old one's
	// address must not be refused as a changed host, which one shared
	// known_hosts (the user's own) would do.
	KnownHosts string
	// User logs in over SSH; empty means root (DigitalOcean installs the
	// droplet's SSH key for root; cloud-init creates fb only later).
	User string
	// SSH is the ssh client; empty means ssh on PATH. It uses the
	// user's keys and agent, in batch mode.
	SSH string
	// Binaries maps each name of permanent.Binaries to a prebuilt
	// linux/amd64 executable to install.
	Binaries map[string]string
	// Study is a study file to copy to the droplet and schedule (the
	// studyFile output, fb:study); empty for none.
	Study string
	// Out receives progress lines.
	Out io.Writer
	// BootTimeout bounds the wait for SSH to answer (default 10 minutes);
	// Retry is the interval between attempts (default 10 s).
	BootTimeout, Retry time.Duration
	// CloudInitTimeout bounds the wait for cloud-init to finish (default
	// 30 minutes: it installs packages and three CLIs, minutes normally).
	CloudInitTimeout time.Duration
}

// OrchestratorKnownHosts is the known_hosts file of the droplet with the
// given ID (the dropletId output), under DataDir.
func OrchestratorKnownHosts(dropletID string) (string, error) {
	if dropletID == "" {
		return "", errors.New("runner: the permanent stack has no dropletId output (run fbrun up permanent with this version)")
	}
	d, err := hostdirs.DataDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(d, "orchestrator", dropletID, "known_hosts"), nil
}

// ProvisionOrchestrator finishes `fbrun up permanent`, and does all of it
// again on every run, so a run that failed half-way is finished by running
// it again: it waits until the droplet answers over SSH, copies the
// prebuilt fbrun binaries to it (the droplet does not compile them:
// building the cloud SDKs on a 4 GB droplet without swap can run out of
// memory), waits for cloud-init with `cloud-init status --wait` (bounded
// by CloudInitTimeout), and then copies the study file and schedules it,
// and disables and removes the timers of studies that no longer exist
// (removeStaleStudyTimers).
// When cloud-init failed or did not finish, the error carries the end of
// /var/log/cloud-init-output.log.
func ProvisionOrchestrator(ctx context.Context, o Orchestrator) error {
	if o.User == "" {
		o.User = "root"
	}
	if o.SSH == "" {
		o.SSH = "ssh"
	}
	if o.Out == nil {
		o.Out = io.Discard
	}
	if o.BootTimeout <= 0 {
		o.BootTimeout = 10 * time.Minute
	}
	if o.Retry <= 0 {
		o.Retry = 10 * time.Second
	}
	if o.CloudInitTimeout <= 0 {
		o.CloudInitTimeout = 30 * time.Minute
	}
	if o.KnownHosts == "" {
		return errors.New("runner: no known_hosts file for the orchestrator")
	}
	if err := os.MkdirAll(filepath.Dir(o.KnownHosts), 0o700); err != nil {
		return fmt.Errorf("runner: %w", err)
	}
	for _, b := range permanent.Binaries {
		if o.Binaries[b] == "" {
			return fmt.Errorf("runner: no prebuilt %s to copy to the orchestrator", b)
		}
	}
	if err := o.waitSSH(ctx); err != nil {
		return err
	}
	// A study run spans many cells, each started as the fbrun binary on
	// disk: replacing the binaries in the middle would mix two builds in
	// one study run.
	active, err := o.ssh(ctx, nil, "systemctl list-units 'fbrun-study-*.service' --state=active --no-legend --plain")
	if err != nil {
		return fmt.Errorf("runner: orchestrator: %w", err)
	}
	if units := strings.Fields(active); len(units) > 0 {
		return fmt.Errorf("runner: a study is running on the orchestrator (%s): nothing was changed; wait until it ends "+
			"(journalctl -fu %s on the droplet) or stop it (systemctl stop %s), then run fbrun up permanent again",
			units[0], units[0], units[0])
	}
	for _, b := range permanent.Binaries {
		if err := o.copyFile(ctx, o.Binaries[b], permanent.BinDir+"/"+b, "0755"); err != nil {
			return err
		}
	}
	if err := o.waitCloudInit(ctx); err != nil {
		return err
	}
	// cloud-init runs its commands as one shell script without set -e,
	// so a failed download can still end in "status: done".
	missing, err := o.ssh(ctx, nil, "for t in "+strings.Join(permanent.Tools, " ")+"; do command -v $t >/dev/null || echo $t; done")
	if err != nil {
		return fmt.Errorf("runner: orchestrator: %w", err)
	}
	if m := strings.Fields(missing); len(m) > 0 {
		return fmt.Errorf("runner: cloud-init finished on the orchestrator %s but did not install %s (see /var/log/cloud-init-output.log "+
			"on the droplet); cloud-init runs once per droplet: fix the cause, then `ssh root@%s cloud-init clean --logs --reboot` "+
			"and run fbrun up permanent again", o.Host, strings.Join(m, ", "), o.Host)
	}
	if o.Study == "" {
		return nil
	}
	dst := permanent.StudyPath(o.Study)
	if _, err := o.ssh(ctx, nil, "mkdir -p "+permanent.StudyDir); err != nil {
		return fmt.Errorf("runner: orchestrator: %w", err)
	}
	if err := o.copyFile(ctx, o.Study, dst, "0644"); err != nil {
		return err
	}
	fmt.Fprintf(o.Out, "==> scheduling the study %s on the orchestrator\n", dst)
	out, err := o.ssh(ctx, nil, permanent.ScheduleCommand(dst)+" 2>&1")
	if err != nil {
		return fmt.Errorf("runner: scheduling the study on the orchestrator: %w\n%s", err, strings.TrimSpace(out))
	}
	fmt.Fprintf(o.Out, "%s", out)
	return o.removeStaleStudyTimers(ctx, dst)
}

// removeStaleStudyTimers disables and removes the timers (and their
// services) of studies that no longer exist on the droplet, once the study
// in dst is scheduled: a study renamed in its file (the old name's units
// still run that file, which now defines another study) and one whose file
// is gone. Units of other study files that exist are kept. A unit's study
// file is the path after `study run` in its service's ExecStart (as
// study.GenerateUnits writes it); a unit whose file cannot be read that
// way is kept.
func (o Orchestrator) removeStaleStudyTimers(ctx context.Context, dst string) error {
	name, err := studyName(o.Study)
	if err != nil {
		return err
	}
	current := study.UnitName(name) + ".timer"
	list := `cd ` + shellQuote(study.DefaultUnitDir) + ` 2>/dev/null || exit 0; for t in fbrun-study-*.timer; do ` +
		`[ -e "$t" ] && [ "$t" != ` + shellQuote(current) + ` ] || continue; ` +
		`p=$(sed -n 's/^ExecStart=.* study run \([^ ]*\) .*/\1/p' "${t%.timer}.service" 2>/dev/null); ` +
		`[ -n "$p" ] || continue; ` +
		`if [ "$p" = ` + shellQuote(dst) + ` ] || [ ! -e "$p" ]; then echo "$t"; fi; done`
	out, err := o.ssh(ctx, nil, list)
	if err != nil {
		return fmt.Errorf("runner: listing the study timers on the orchestrator: %w", err)
	}
	stale := strings.Fields(out)
	if len(stale) == 0 {
		return nil
	}
	files := make([]string, 0, 2*len(stale))
	for _, t := range stale {
		base := strings.TrimSuffix(t, ".timer")
		files = append(files, shellQuote(study.DefaultUnitDir+"/"+t), shellQuote(study.DefaultUnitDir+"/"+base+".service"))
	}
	fmt.Fprintf(o.Out, "==> removing the timers of studies that no longer exist (renamed or deleted): %s\n", strings.Join(stale, " "))
	if _, err := o.ssh(ctx, nil, "systemctl disable --now "+strings.Join(stale, " ")+" && rm -f "+strings.Join(files, " ")+
		" && systemctl daemon-reload"); err != nil {
		return fmt.Errorf("runner: removing the stale study timers %s on the orchestrator: %w", strings.Join(stale, ", "), err)
	}
	return nil
}

// studyName is the name a study file gives its study (the droplet's fbrun
// validates the whole file when it schedules it; only the name is read
// here).
func studyName(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("runner: %w", err)
	}
	var f struct {
		Name string `yaml:"name"`
	}
	if err := yaml.Unmarshal(b, &f); err != nil || f.Name == "" {
		return "", fmt.Errorf("runner: %s names no study (name:)", path)
	}
	return f.Name, nil
}

// shellQuote quotes s as one word of a POSIX shell command.
func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// waitSSH waits until the droplet answers over SSH, at most BootTimeout.
// Each attempt runs to its end — ssh's own ConnectTimeout and
// ServerAliveInterval bound it, so the wait may overrun BootTimeout by one
// attempt — and the deadline is judged between attempts: the error then
// names what ssh last said, never the kill of an attempt cut short.
func (o Orchestrator) waitSSH(ctx context.Context) error {
	remote := o.User + "@" + o.Host
	fmt.Fprintf(o.Out, "==> waiting for the orchestrator %s to answer over SSH (at most %v)\n", remote, o.BootTimeout)
	boot, cancel := context.WithTimeout(ctx, o.BootTimeout)
	defer cancel()
	timedOut := func(last error) error {
		return fmt.Errorf("runner: the orchestrator %s did not answer over SSH within %v (is this machine in fb:sshCidrs, "+
			"and its key the droplet's?): %w", remote, o.BootTimeout, last)
	}
	for {
		_, err := o.ssh(ctx, nil, "true")
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("runner: waiting for the orchestrator over SSH: %w", context.Cause(ctx))
		}
		if strings.Contains(err.Error(), "REMOTE HOST IDENTIFICATION HAS CHANGED") {
			return fmt.Errorf("runner: the orchestrator %s presents another host key than the one %s holds for this droplet: "+
				"nothing was copied (if the droplet was rebuilt, remove that file and run fbrun up permanent again): %w",
				remote, o.KnownHosts, err)
		}
		if boot.Err() != nil {
			return timedOut(err)
		}
		t := time.NewTimer(o.Retry)
		select {
		case <-boot.Done():
			t.Stop()
			if ctx.Err() != nil {
				return fmt.Errorf("runner: waiting for the orchestrator over SSH: %w", context.Cause(ctx))
			}
			return timedOut(err)
		case <-t.C:
		}
	}
}

// copyFile installs the local file src as dst on the droplet with mode
// (written beside it and renamed, so a reader never sees half a file).
func (o Orchestrator) copyFile(ctx context.Context, src, dst, mode string) error {
	f, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("runner: %w", err)
	}
	defer f.Close()
	fmt.Fprintf(o.Out, "==> copying %s to %s:%s\n", src, o.Host, dst)
	if _, err := o.ssh(ctx, f, fmt.Sprintf("cat > %s.part && chmod %s %s.part && mv %s.part %s", dst, mode, dst, dst, dst)); err != nil {
		return fmt.Errorf("runner: copy %s to the orchestrator: %w", src, err)
	}
	return nil
}

// waitCloudInit waits for cloud-init to finish, at most CloudInitTimeout;
// when it failed or did not finish, the error has the end of its log.
func (o Orchestrator) waitCloudInit(ctx context.Context) error {
	fmt.Fprintf(o.Out, "==> waiting for cloud-init on the orchestrator (cloud-init status --wait, at most %v)\n", o.CloudInitTimeout)
	wait, cancel := context.WithTimeout(ctx, o.CloudInitTimeout)
	defer cancel()
	status, err := o.ssh(wait, nil, "cloud-init status --wait --long")
	if err == nil {
		fmt.Fprintf(o.Out, "==> orchestrator ready: %s\n", firstLine(status))
		return nil
	}
	// Exit 2 (cloud-init 23.4 and later) is "done with recoverable
	// errors" — deprecated keys and the like — which earlier versions
	// reported as 0; only 1 is a failure
	// (https://cloudinit.readthedocs.io/en/latest/explanation/return_codes.html).
	var se *sshExitError
	if errors.As(err, &se) && se.code == 2 {
		fmt.Fprintf(o.Out, "==> orchestrator ready, with recoverable cloud-init errors (cloud-init status --long on the droplet):\n%s\n",
			strings.TrimSpace(status))
		return nil
	}
	if ctx.Err() != nil {
		return fmt.Errorf("runner: waiting for cloud-init: %w", context.Cause(ctx))
	}
	what := "failed"
	if wait.Err() != nil {
		what = fmt.Sprintf("did not finish within %v", o.CloudInitTimeout)
		status, _ = o.ssh(ctx, nil, "cloud-init status --long")
	}
	log, lerr := o.ssh(ctx, nil, "tail -n 60 /var/log/cloud-init-output.log")
	if lerr != nil {
		log = "(could not read /var/log/cloud-init-output.log: " + lerr.Error() + ")"
	}
	hint := "cloud-init runs once per droplet: fix the cause, then `ssh root@" + o.Host +
		" cloud-init clean --logs --reboot` and run fbrun up permanent again"
	if wait.Err() != nil {
		hint = "run fbrun up permanent again to wait longer"
	}
	return fmt.Errorf("runner: cloud-init %s on the orchestrator %s: %w\n%s\n--- end of /var/log/cloud-init-output.log ---\n%s\n(%s)",
		what, o.Host, err, strings.TrimSpace(status), strings.TrimRight(log, "\n"), hint)
}

// ssh runs command on the orchestrator and returns its standard output;
// the error carries its standard error.
func (o Orchestrator) ssh(ctx context.Context, stdin io.Reader, command string) (string, error) {
	cmd := exec.CommandContext(ctx, o.SSH, "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=accept-new",
		// Quoted: ssh splits the option's value at whitespace, and the
		// data directory on macOS is ~/Library/Application Support.
		"-o", `UserKnownHostsFile="`+o.KnownHosts+`"`, "-o", "ConnectTimeout=10", "-o", "ServerAliveInterval=15", o.User+"@"+o.Host, command)
	var out, errb bytes.Buffer
	cmd.Stdin, cmd.Stdout, cmd.Stderr = stdin, &out, &errb
	err := cmd.Run()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) && ctx.Err() == nil {
			err = &sshExitError{command: command, code: ee.ExitCode(), stderr: strings.TrimSpace(errb.String())}
		}
		return out.String(), err
	}
	return out.String(), nil
}

// sshExitError is a remote command (or ssh itself: 255) that exited
// non-zero; its message carries the standard error, where ssh says why it
// could not connect (a changed host key, a refused key, a timeout).
type sshExitError struct {
	command string
	code    int
	stderr  string
}

func (e *sshExitError) Error() string {
	return fmt.Sprintf("%s: exit %d: %s", e.command, e.code, e.stderr)
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}
