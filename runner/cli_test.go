package runner

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"testing"
	"time"

	"github.com/faas-benchmarker/faas-benchmarker/internal/testtools"
)

// envFakeCLI makes the test binary act as a Pulumi CLI that is busy with
// an operation: it prints "fake: running", and after an interrupt it prints
// "fake: interrupted" and finishes its "in-flight operations" only when a
// line arrives on stdin ("fake: done", exit 255, as Pulumi exits after an
// interrupted update). Without that line it never stops by itself.
const envFakeCLI = "FB_RUNNER_FAKE_PULUMI_CLI"

func init() {
	if os.Getenv(envFakeCLI) == "" {
		return
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt)
	fmt.Println("fake: running")
	<-sig
	fmt.Println("fake: interrupted")
	if _, err := bufio.NewReader(os.Stdin).ReadString('\n'); err != nil {
		select {} // stdin closed without the go-ahead: stay busy
	}
	fmt.Println("fake: done")
	os.Exit(255)
}

// lineWriter sends every line written to it on a channel.
type lineWriter struct {
	ch  chan string
	buf []byte
}

func newLineWriter() *lineWriter { return &lineWriter{ch: make(chan string, 1000)} }

func (w *lineWriter) Write(p []byte) (int, error) {
	w.buf = append(w.buf, p...)
	for {
		i := strings.IndexByte(string(w.buf), '\n')
		if i < 0 {
			return len(p), nil
		}
		w.ch <- string(w.buf[:i])
		w.buf = w.buf[i+1:]
	}
}

// waitLine reads lines until one contains want.
func waitLine(t *testing.T, lines <-chan string, want string) {
	t.Helper()
	timeout := time.NewTimer(2 * time.Minute)
	defer timeout.Stop()
	for {
		select {
		case l := <-lines:
			if strings.Contains(l, want) {
				return
			}
		case <-timeout.C:
			t.Fatalf("no line with %q within 2 minutes", want)
		}
	}
}

func fakeCLI(t *testing.T, limit time.Duration, progress io.Writer) groupCommand {
	t.Setenv(envFakeCLI, "1")
	return groupCommand{path: os.Args[0], limit: limit, progress: progress, tick: time.Millisecond}
}

// TestInterruptedCLIFinishesInFlightOperations: a cancelled operation
// interrupts the CLI once and then waits for it — with progress on screen —
// until it has finished what it had in flight, however long that takes
// within the limit; it is not killed after the Automation API's 10 s.
func TestInterruptedCLIFinishesInFlightOperations(t *testing.T) {
	progress := newLineWriter()
	c := fakeCLI(t, time.Hour, progress)
	out := newLineWriter()
	stdin, goAhead := io.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	type result struct {
		stdout string
		code   int
		err    error
	}
	done := make(chan result, 1)
	go func() {
		stdout, _, code, err := c.Run(ctx, t.TempDir(), stdin, []io.Writer{out}, nil, nil, "up", "--yes")
		done <- result{stdout, code, err}
	}()
	waitLine(t, out.ch, "fake: running")
	cancel()
	waitLine(t, out.ch, "fake: interrupted")
	waitLine(t, progress.ch, "interrupt sent to the Pulumi CLI (up)")
	// The wait goes on, reported on screen, while the CLI is busy.
	for range 3 {
		waitLine(t, progress.ch, "still waiting for the interrupted Pulumi CLI (up)")
	}
	if _, err := io.WriteString(goAhead, "finish\n"); err != nil {
		t.Fatal(err)
	}
	goAhead.Close()
	r := <-done
	if !strings.Contains(r.stdout, "fake: done") || r.code != 255 {
		t.Fatalf("the CLI did not finish its operations: code %d, err %v, stdout:\n%s", r.code, r.err, r.stdout)
	}
}

// TestInterruptedCLIIsKilledAtTheLimit: a CLI that does not stop within
// the limit is killed, and the screen says so and why it matters.
func TestInterruptedCLIIsKilledAtTheLimit(t *testing.T) {
	progress := &testtools.Buffer{}
	c := fakeCLI(t, 200*time.Millisecond, progress)
	out := newLineWriter()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, _, _, err := c.Run(ctx, t.TempDir(), nil, []io.Writer{out}, nil, nil, "up")
		done <- err
	}()
	waitLine(t, out.ch, "fake: running")
	cancel()
	err := <-done
	if err == nil {
		t.Fatal("a killed CLI reported success")
	}
	for _, want := range []string{"at most 200ms", "did not finish its in-flight operations within 200ms", "was killed"} {
		if !strings.Contains(progress.String(), want) {
			t.Errorf("progress lacks %q:\n%s", want, progress.String())
		}
	}
}
