package runner_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/faas-benchmarker/faas-benchmarker/internal/testtools"
	"github.com/faas-benchmarker/faas-benchmarker/runner"
	"github.com/faas-benchmarker/faas-benchmarker/runner/testprovider/fblocal"
)

// Environment of the child process of TestSignalsLikeATerminal.
const (
	envChildDir       = "FB_RUNNER_SIGNAL_CHILD_DIR"
	envChildPluginDir = "FB_RUNNER_SIGNAL_CHILD_PLUGINS"
)

// TestSignalsLikeATerminal runs an experiment in a child process that
// leads its own process group, as a shell runs a foreground job, and
// signals the whole group as a terminal does (Ctrl-C is SIGINT to every
// process of the foreground group; a dropped SSH session is SIGHUP). The
// first SIGINT stops the experiment and starts the teardown; a second
// SIGINT and a SIGHUP during the destroy are acknowledged on screen and
// do not stop it: the destroy finishes, no function is left, and the
// child exits normally. This holds only because the Pulumi CLI runs in a
// process group of its own (otherwise the group's second SIGINT makes it
// abort the destroy) and because the runner handles all three signals.
func TestSignalsLikeATerminal(t *testing.T) {
	if os.Getenv(envChildDir) != "" {
		t.Skip("in the child")
	}
	testtools.Require(t, "pulumi", "FB_PULUMI")
	plugins := buildPlugin(t)
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestSignalChild$", "-test.v")
	cmd.Env = append(os.Environ(), envChildDir+"="+dir, envChildPluginDir+"="+plugins)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout = cmd.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, 1000)
	var all strings.Builder
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	pgid := cmd.Process.Pid
	// waitFor reads the child's output until a line contains want (or the
	// marker file exists when want is a path), bounded by ctx.
	waitFor := func(what string, ok func(line string) bool) {
		t.Helper()
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case l, open := <-lines:
				if !open {
					t.Fatalf("child exited before %s:\n%s", what, all.String())
				}
				all.WriteString(l + "\n")
				if ok(l) {
					return
				}
			case <-tick.C:
				if ok("") {
					return
				}
			case <-ctx.Done():
				t.Fatalf("timed out waiting for %s:\n%s", what, all.String())
			}
		}
	}
	exists := func(p string) func(string) bool {
		return func(string) bool { _, err := os.Stat(p); return err == nil }
	}
	hold := filepath.Join(dir, "hold-delete")
	waitFor("the experiment to run", exists(filepath.Join(dir, "running")))
	if err := syscall.Kill(-pgid, syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	waitFor("the destroy to start deleting", exists(hold+".deleting"))
	if err := syscall.Kill(-pgid, syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	waitFor("the second Ctrl-C to be acknowledged", func(l string) bool { return strings.Contains(l, "interrupt received: the teardown of stack") })
	if err := syscall.Kill(-pgid, syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitFor("SIGHUP to be acknowledged", func(l string) bool { return strings.Contains(l, "hangup received: the teardown of stack") })
	if err := os.Remove(hold); err != nil {
		t.Fatal(err)
	}
	for l := range lines {
		all.WriteString(l + "\n")
	}
	err = cmd.Wait()
	out := all.String()
	if err != nil {
		t.Fatalf("child failed: %v\n%s", err, out)
	}
	for _, want := range []string{"interrupt: stopping the experiment", "no resources left", "CHILD OK"} {
		if !strings.Contains(out, want) {
			t.Errorf("child output lacks %q:\n%s", want, out)
		}
	}
}

// TestSignalChild is the child of TestSignalsLikeATerminal.
func TestSignalChild(t *testing.T) {
	dir := os.Getenv(envChildDir)
	if dir == "" {
		t.Skip("only run by TestSignalsLikeATerminal")
	}
	h := newHarnessWith(t, nil, func(c *runner.Config) {
		c.HandleSignals = true
		c.Stdout, c.Stderr = os.Stderr, os.Stderr
	})
	stack, runID := newStackName(t, "signals")
	hold := filepath.Join(dir, "hold-delete")
	if err := os.WriteFile(hold, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	spec := h.spec(stack, runID, []string{"fn1"}, func(_ string, a *fblocal.FunctionArgs) {
		a.HoldDeleteWhile = pulumi.StringPtr(hold)
	})
	spec.Run = func(ctx context.Context, _ auto.OutputMap) error {
		if err := os.WriteFile(filepath.Join(dir, "running"), nil, 0o600); err != nil {
			return err
		}
		<-ctx.Done()
		return context.Cause(ctx)
	}
	res, err := h.r.RunStack(context.Background(), spec)
	var te *runner.TeardownError
	if errors.As(err, &te) || !res.Destroyed {
		t.Fatalf("teardown after the signals failed: %v", err)
	}
	if err == nil || !strings.Contains(err.Error(), "interrupted by interrupt") {
		t.Errorf("run error = %v, want the interruption", err)
	}
	h.assertGone(stack)
	if !t.Failed() {
		fmt.Fprintln(os.Stderr, "CHILD OK")
	}
}
