package fbcli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"syscall"

	"github.com/urfave/cli/v2"

	"github.com/faas-benchmarker/faas-benchmarker/cmd/internal/cloudplan"
)

// CloudBinary is the name of the second binary, built from cmd/fbrun-cloud:
// fbrun with the Pulumi stack programs linked. `go install ./cmd/...`
// installs it next to fbrun.
const CloudBinary = "fbrun-cloud"

// Keys of cli.App.Metadata.
const (
	metaCloud = "fb.cloud" // the linked Cloud, if any
	metaArgs  = "fb.args"  // the command line after the program name
)

// EnvParentBuild carries fbrun's build (BuildID) to the fbrun-cloud it
// runs, which refuses to go on when it is a different build: the two
// binaries share the results database, its schema and the command line,
// so a stale fbrun-cloud left next to a new fbrun (or earlier on PATH)
// must not run a managed experiment half a version apart.
const EnvParentBuild = "FBRUN_PARENT_BUILD"

// checkParentBuild refuses to run as the child of a different fbrun build.
func checkParentBuild() error {
	parent, own := os.Getenv(EnvParentBuild), cloudplan.BuildID()
	if parent == "" || own == "" || parent == own {
		return nil
	}
	self, _ := os.Executable()
	return usageError("%s (%s) is build %q but the fbrun that ran it is build %q: install both from one checkout with go install ./cmd/... (or remove the stale %s)",
		CloudBinary, self, own, parent, self)
}

// cloudOf returns the Cloud linked into this binary, or nil.
func cloudOf(c *cli.Context) Cloud {
	cl, _ := c.App.Metadata[metaCloud].(Cloud)
	return cl
}

// hasCloud reports whether this binary links the cloud commands.
func hasCloud(c *cli.Context) bool { return cloudOf(c) != nil }

// delegate runs the whole command line in fbrun-cloud, with this process's
// stdio and environment, and ends with the child's exit code. Every
// SIGINT, SIGTERM and SIGHUP this process receives is passed on, and it
// waits for the child however it ends, so that a stack being torn down is
// never orphaned by fbrun exiting first. (Ctrl-C in a terminal reaches
// both processes of the foreground group; a second delivery of the same
// signal is harmless: fbrun-cloud cancels its run once.)
func delegate(c *cli.Context) error {
	bin, err := findCloudBinary()
	if err != nil {
		return cli.Exit(err.Error(), 1)
	}
	args, _ := c.App.Metadata[metaArgs].([]string)
	cmd := exec.Command(bin, args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = readerOf(c.App.Reader), c.App.Writer, c.App.ErrWriter
	return runChild(bin, cmd)
}

// runChild runs cmd (the fbrun-cloud binary bin) with fbrun's build in its
// environment and ends with the child's exit code. Every SIGINT, SIGTERM
// and SIGHUP this process receives is passed on, and it waits for the
// child however it ends, so that a stack being torn down is never
// orphaned by fbrun exiting first.
func runChild(bin string, cmd *exec.Cmd) error {
	if id := cloudplan.BuildID(); id != "" {
		cmd.Env = append(os.Environ(), EnvParentBuild+"="+id)
	}
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, forwardedSignals...)
	defer signal.Stop(sigs)
	if err := cmd.Start(); err != nil {
		return cli.Exit(fmt.Sprintf("starting %s: %v", bin, err), 1)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	for {
		select {
		case s := <-sigs:
			_ = cmd.Process.Signal(s) // it may have exited already
		case err := <-done:
			return childExit(bin, err)
		}
	}
}

// forwardedSignals are passed on to a delegated child.
var forwardedSignals = []os.Signal{os.Interrupt, syscall.SIGTERM, syscall.SIGHUP}

// childExit turns the child's end into fbrun's exit: the same code, or
// 128+N when signal N killed it (the shell's convention).
func childExit(bin string, err error) error {
	if err == nil {
		return nil
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		return cli.Exit(fmt.Sprintf("%s: %v", bin, err), 1)
	}
	if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return cli.Exit("", 128+int(ws.Signal()))
	}
	return cli.Exit("", ee.ExitCode())
}

func readerOf(r io.Reader) io.Reader {
	if r == nil {
		return os.Stdin
	}
	return r
}

// findCloudBinary looks for fbrun-cloud next to this executable, then on
// PATH.
func findCloudBinary() (string, error) {
	name := CloudBinary
	if runtime.GOOS == "windows" {
		name += ".exe"
	}
	if self, err := os.Executable(); err == nil {
		p := filepath.Join(filepath.Dir(self), name)
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p, nil
		}
	}
	if p, err := exec.LookPath(CloudBinary); err == nil {
		return p, nil
	}
	return "", fmt.Errorf("this command deploys cloud stacks, which needs the %s binary (not found next to fbrun or on PATH): "+
		"install both with `go install ./cmd/...` from the repository, or run `go run ./cmd/%s` with the same arguments", CloudBinary, CloudBinary)
}
