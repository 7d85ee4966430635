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
	"slices"
	"strings"
	"time"

	"github.com/blang/semver"
	"github.com/pulumi/pulumi/sdk/v3/go/auto"
)

// DefaultInterruptLimit is how long a cancelled Pulumi CLI gets, after its
// interrupt, to finish the operations it has in flight before it is killed.
// Pulumi's first interrupt lets in-flight creates and deletes finish (an EKS
// cluster takes 10–15 minutes, a NAT gateway a few); killing the CLI sooner
// leaves resources that exist in the cloud but not in the state, which no
// destroy can remove. The Automation API's own limit is 10 s.
const DefaultInterruptLimit = 30 * time.Minute

// interruptProgressEvery is how often the wait for an interrupted CLI is
// reported on screen.
const interruptProgressEvery = 30 * time.Second

// groupCommand runs the Pulumi CLI for the Automation API like
// auto.NewPulumiCommand's command does (same arguments, environment and
// cancellation: an interrupt, then a kill) with two differences. The CLI
// runs in a process group of its own, and after the interrupt it gets
// limit (DefaultInterruptLimit), not 10 s, to finish its in-flight
// operations, with a progress line on progress every tick. The Automation
// API's own command leaves it in fbrun's group on Unix, where a terminal's
// Ctrl-C (sent to the whole foreground group) reaches the CLI directly —
// and a second Ctrl-C makes the CLI abort a destroy half-way. In its own
// group the CLI only gets the signals the runner decides to send: one
// interrupt when an up is cancelled, none during a teardown.
type groupCommand struct {
	path    string
	version semver.Version
	// limit bounds the wait for an interrupted CLI; then it is killed.
	limit time.Duration
	// progress receives the lines of that wait; tick is their interval.
	progress io.Writer
	tick     time.Duration
	// pluginDir, when set, goes first on the CLI's PATH (Config.PluginBinaries).
	pluginDir string
	// backendURL and credDir: where an s3:// backend names a profile, each
	// run of the CLI gets a credentials file with the Spaces keys in it,
	// written into credDir and removed afterwards (spacesCredentials).
	backendURL, credDir string
}

var _ auto.PulumiCommand = groupCommand{}

// Version implements auto.PulumiCommand.
func (c groupCommand) Version() semver.Version { return c.version }

// Run implements auto.PulumiCommand.
func (c groupCommand) Run(ctx context.Context, workdir string, stdin io.Reader,
	additionalOutput, additionalErrorOutput []io.Writer, additionalEnv []string, args ...string,
) (string, string, int, error) {
	pulumiArgs := args
	if i := slices.Index(args, "--"); i >= 0 {
		pulumiArgs = args[:i]
	}
	if !slices.Contains(pulumiArgs, "--non-interactive") {
		args = append([]string{"--non-interactive"}, args...)
	}
	cmd := exec.CommandContext(ctx, c.path, args...)
	cmd.Dir = workdir
	env := append(os.Environ(), additionalEnv...)
	env = append(env, "PULUMI_AUTOMATION_API=true")
	creds, err := spacesCredentials(c.credDir, c.backendURL, func(k string) string { return lookupEnv(env, k) })
	if err != nil {
		return "", "", -2, err
	}
	if creds != "" {
		defer os.Remove(creds)
		env = append(env, "AWS_SHARED_CREDENTIALS_FILE="+creds)
	}
	env = prependPath(env, filepath.Dir(c.path))
	if c.pluginDir != "" {
		env = prependPath(env, c.pluginDir)
	}
	cmd.Env = env
	var stdout, stderr bytes.Buffer
	cmd.Stdout = bestEffort(append(additionalOutput, &stdout))
	cmd.Stderr = bestEffort(append(additionalErrorOutput, &stderr))
	cmd.Stdin = stdin
	ownProcessGroup(cmd)
	exited := make(chan struct{})
	interrupted := make(chan struct{})
	cmd.Cancel = func() error {
		close(interrupted)
		if err := interrupt(cmd.Process); err != nil {
			_ = cmd.Process.Kill()
			return nil
		}
		go c.reportWait(exited, pulumiArgs)
		return nil
	}
	cmd.WaitDelay = c.limit
	code := -2 // the Automation API's "unknown" exit code
	err = cmd.Run()
	close(exited)
	select {
	case <-interrupted:
		if wasKilled(cmd.ProcessState) {
			fmt.Fprintf(c.progress, "==> the Pulumi CLI did not finish its in-flight operations within %v of the "+
				"interrupt and was killed: resources it was creating may exist without being in the state\n", c.limit)
		}
	default:
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err == nil {
		code = 0
	}
	return stdout.String(), stderr.String(), code, err
}

// reportWait prints, every tick until the interrupted CLI exits, that fbrun
// is waiting for its in-flight operations and how long it will wait.
func (c groupCommand) reportWait(exited <-chan struct{}, args []string) {
	op := "operation"
	for _, a := range args {
		if !strings.HasPrefix(a, "-") {
			op = a
			break
		}
	}
	fmt.Fprintf(c.progress, "==> interrupt sent to the Pulumi CLI (%s): it finishes the operations in flight, "+
		"then stops; waiting for it (at most %v, then it is killed)\n", op, c.limit)
	start := time.Now()
	t := time.NewTicker(c.tick)
	defer t.Stop()
	for {
		select {
		case <-exited:
			return
		case <-t.C:
			fmt.Fprintf(c.progress, "==> still waiting for the interrupted Pulumi CLI (%s) to finish its in-flight "+
				"operations: %v of at most %v\n", op, time.Since(start).Round(time.Second), c.limit)
		}
	}
}

// lookupEnv returns the value of key in env (the last one, as exec uses).
func lookupEnv(env []string, key string) string {
	for i := len(env) - 1; i >= 0; i-- {
		if k, v, ok := strings.Cut(env[i], "="); ok && k == key {
			return v
		}
	}
	return ""
}

// prependPath puts dir first on env's PATH, so that the CLI finds its own
// language and provider plugins next to it.
func prependPath(env []string, dir string) []string {
	out := slices.Clone(env)
	for i, e := range out {
		if len(e) >= 5 && strings.EqualFold(e[:5], "PATH=") {
			if e[5:] == "" {
				out[i] = "PATH=" + dir
			} else {
				out[i] = "PATH=" + dir + string(os.PathListSeparator) + e[5:]
			}
			return out
		}
	}
	return append(out, "PATH="+dir)
}
