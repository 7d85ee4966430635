package runner

import (
	"bytes"
	"context"
	"errors"
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

// cliWaitDelay is how long a cancelled CLI gets to stop after its
// interrupt before it is killed (the Automation API's own value).
const cliWaitDelay = 10 * time.Second

// groupCommand runs the Pulumi CLI for the Automation API like
// auto.NewPulumiCommand's command does (same arguments, environment and
// cancellation: an interrupt, then a kill after cliWaitDelay) with one
// difference: the CLI runs in a process group of its own. The Automation
// API's own command leaves it in fbrun's group on Unix, where a terminal's
// Ctrl-C (sent to the whole foreground group) reaches the CLI directly —
// and a second Ctrl-C makes the CLI abort a destroy half-way. In its own
// group the CLI only gets the signals the runner decides to send: one
// interrupt when an up is cancelled, none during a teardown.
type groupCommand struct {
	path    string
	version semver.Version
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
	cmd.Env = prependPath(env, filepath.Dir(c.path))
	var stdout, stderr bytes.Buffer
	cmd.Stdout = bestEffort(append(additionalOutput, &stdout))
	cmd.Stderr = bestEffort(append(additionalErrorOutput, &stderr))
	cmd.Stdin = stdin
	ownProcessGroup(cmd)
	cmd.Cancel = func() error {
		if err := interrupt(cmd.Process); err != nil {
			_ = cmd.Process.Kill()
		}
		return nil
	}
	cmd.WaitDelay = cliWaitDelay
	code := -2 // the Automation API's "unknown" exit code
	err := cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err == nil {
		code = 0
	}
	return stdout.String(), stderr.String(), code, err
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
