package study

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/faas-benchmarker/faas-benchmarker/internal/exitcode"
)

// fakeFbrun writes a shell script standing in for fbrun.
func fakeFbrun(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "fbrun")
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestProcessExecutor(t *testing.T) {
	if _, err := os.Stat("/bin/sh"); err != nil {
		t.Skip("no /bin/sh")
	}
	cell := Cell{Seq: 1, Experiment: "smoke", Platform: Platform{Name: "a", Platform: "local"}, Repetition: 1}
	tests := []struct {
		name, body string
		want       Result
	}{
		{"ok", `echo '{"run_id": "r1", "status": "ok"}'`, Result{}},
		{"failed run", `echo '{"run_id": "r2", "status": "failed", "error": "boom"}'; echo 'fbrun: run r2 failed: boom' >&2; exit 1`,
			Result{ExitCode: 1, Err: "run r2 failed: boom"}},
		{"no run", `echo 'some log' >&2; echo 'fbrun: no run: stack up failed' >&2; exit 1`, Result{ExitCode: 1, Err: "no run: stack up failed"}},
		{"teardown", `echo '{"run_id": "r3", "status": "ok"}'; echo 'fbrun: run r3: destroy failed' >&2; exit 3`,
			Result{ExitCode: 3, Err: "run r3: destroy failed"}},
		{"killed", `kill -9 $$`, Result{ExitCode: -1, Err: "the cell's process was killed (signal: killed)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := &ProcessExecutor{Binary: fakeFbrun(t, tt.body)}
			var log bytes.Buffer
			got, err := e.Run(context.Background(), cell, "cell-run", &log)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("result = %+v, want %+v", got, tt.want)
			}
			if !strings.Contains(log.String(), "experiment smoke --run-id cell-run --platform local --json --no-progress") {
				t.Errorf("log lacks the command line:\n%s", log.String())
			}
		})
	}
	// A cancelled context interrupts the child (SIGINT), which reports 130.
	ready := filepath.Join(t.TempDir(), "ready")
	e := &ProcessExecutor{Binary: fakeFbrun(t, `trap 'echo "{\"run_id\": \"r4\", \"status\": \"interrupted\"}"; exit 130' INT
touch `+ready+`
sleep 30 >/dev/null 2>&1 & wait`)} // the sleep holds no pipe of the cell: Run returns when the shell exits
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan Result, 1)
	go func() {
		r, _ := e.Run(ctx, cell, "r4", &bytes.Buffer{})
		done <- r
	}()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if _, err := os.Stat(ready); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the fake cell never started")
		}
	}
	cancel()
	r := <-done
	if r.ExitCode != exitcode.Interrupted {
		t.Errorf("interrupted result = %+v", r)
	}
}
