package runner

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/faas-benchmarker/faas-benchmarker/stacks/permanent"
)

// Orchestrator is how ProvisionOrchestrator reaches the permanent stack's
// droplet.
type Orchestrator struct {
	// Host is the droplet's address (the dropletIp output).
	Host string
	// User logs in over SSH; empty means root (DigitalOcean installs the
	// droplet's SSH key for root; cloud-init creates fb only later).
	User string
	// SSH is the ssh client; empty means ssh on PATH. It uses the
	// user's keys and agent, in batch mode, accepting the new droplet's
	// host key on first contact (StrictHostKeyChecking=accept-new).
	SSH string
	// Binaries maps each name of permanent.Binaries to a prebuilt
	// linux/amd64 executable to install.
	Binaries map[string]string
	// Out receives progress lines.
	Out io.Writer
	// BootTimeout bounds the wait for SSH to answer (default 10 minutes);
	// Retry is the interval between attempts (default 10 s).
	BootTimeout, Retry time.Duration
}

// ProvisionOrchestrator finishes `fbrun up permanent`: it waits until the
// droplet answers over SSH, copies the prebuilt fbrun binaries to it (the
// droplet does not compile them: building the cloud SDKs on a 4 GB droplet
// without swap can run out of memory), and then waits for cloud-init with
// `cloud-init status --wait`. When cloud-init failed, the error carries the
// end of /var/log/cloud-init-output.log.
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
	for _, b := range permanent.Binaries {
		if o.Binaries[b] == "" {
			return fmt.Errorf("runner: no prebuilt %s to copy to the orchestrator", b)
		}
	}
	remote := o.User + "@" + o.Host
	fmt.Fprintf(o.Out, "==> waiting for the orchestrator %s to answer over SSH (at most %v)\n", remote, o.BootTimeout)
	boot, cancel := context.WithTimeout(ctx, o.BootTimeout)
	defer cancel()
	for {
		_, err := o.ssh(boot, nil, "true")
		if err == nil {
			break
		}
		t := time.NewTimer(o.Retry)
		select {
		case <-boot.Done():
			t.Stop()
			return fmt.Errorf("runner: the orchestrator %s did not answer over SSH within %v (is this machine in fb:sshCidrs, "+
				"and its key the droplet's?): %w", remote, o.BootTimeout, err)
		case <-t.C:
		}
	}
	for _, b := range permanent.Binaries {
		f, err := os.Open(o.Binaries[b])
		if err != nil {
			return fmt.Errorf("runner: %w", err)
		}
		dst := permanent.BinDir + "/" + b
		fmt.Fprintf(o.Out, "==> copying %s to %s:%s\n", o.Binaries[b], o.Host, dst)
		_, err = o.ssh(ctx, f, fmt.Sprintf("cat > %s.part && chmod 0755 %s.part && mv %s.part %s", dst, dst, dst, dst))
		f.Close()
		if err != nil {
			return fmt.Errorf("runner: copy %s to the orchestrator: %w", b, err)
		}
	}
	if _, err := o.ssh(ctx, nil, "touch "+permanent.BinDir+"/"+permanent.ReadyMarker); err != nil {
		return fmt.Errorf("runner: orchestrator: %w", err)
	}
	fmt.Fprintf(o.Out, "==> waiting for cloud-init on the orchestrator (cloud-init status --wait)\n")
	status, err := o.ssh(ctx, nil, "cloud-init status --wait --long")
	if err == nil {
		fmt.Fprintf(o.Out, "==> orchestrator ready: %s\n", firstLine(status))
		return nil
	}
	if ctx.Err() != nil {
		return fmt.Errorf("runner: waiting for cloud-init: %w", context.Cause(ctx))
	}
	log, lerr := o.ssh(ctx, nil, "tail -n 60 /var/log/cloud-init-output.log")
	if lerr != nil {
		log = "(could not read /var/log/cloud-init-output.log: " + lerr.Error() + ")"
	}
	return fmt.Errorf("runner: cloud-init failed on the orchestrator %s: %w\n%s\n--- end of /var/log/cloud-init-output.log ---\n%s",
		o.Host, err, strings.TrimSpace(status), strings.TrimRight(log, "\n"))
}

// ssh runs command on the orchestrator and returns its standard output;
// the error carries its standard error.
func (o Orchestrator) ssh(ctx context.Context, stdin io.Reader, command string) (string, error) {
	cmd := exec.CommandContext(ctx, o.SSH, "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=accept-new",
		"-o", "ConnectTimeout=10", "-o", "ServerAliveInterval=15", o.User+"@"+o.Host, command)
	var out, errb bytes.Buffer
	cmd.Stdin, cmd.Stdout, cmd.Stderr = stdin, &out, &errb
	err := cmd.Run()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			err = fmt.Errorf("%s: exit %d: %s", command, ee.ExitCode(), strings.TrimSpace(errb.String()))
		}
		return out.String(), err
	}
	return out.String(), nil
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}
