package localfaas

import (
	"bytes"
	"io"
	"os"
	"sync"
	"time"
)

// tailBytes is how much of an invocation's log LogType Tail returns.
const tailBytes = 4096

// tailBuffer keeps the last tailBytes bytes written to it.
type tailBuffer struct {
	buf   []byte
	total int64
}

func (t *tailBuffer) Write(p []byte) {
	t.total += int64(len(p))
	if len(p) >= tailBytes {
		t.buf = append(t.buf[:0], p[len(p)-tailBytes:]...)
		return
	}
	if over := len(t.buf) + len(p) - tailBytes; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
	}
	t.buf = append(t.buf, p...)
}

// readOutput copies the process's output from out into the current
// invocation's log (or, before the instance is ready, its init output) and
// Config.FunctionOutput until the pipe closes; then it closes outDone.
func (in *instance) readOutput(out *os.File, outDone chan<- struct{}) {
	defer close(outDone)
	var mirror *prefixWriter
	if w := in.p.cfg.FunctionOutput; w != nil {
		mirror = &prefixWriter{w: w, prefix: "[" + in.spec.Name + " " + in.id + "] ", mu: &in.p.outputMu, bol: true}
	}
	buf := make([]byte, 32*1024)
	for {
		n, err := out.Read(buf)
		if n > 0 {
			if mirror != nil {
				mirror.Write(buf[:n])
			}
			in.mu.Lock()
			if in.capture != nil {
				in.capture.log.Write(buf[:n])
			}
			if !in.isReady {
				in.initOut.Write(buf[:n])
			}
			in.mu.Unlock()
		}
		if err != nil {
			return
		}
	}
}

// drainOutput waits (at most 20 ms) until the output pipe is empty, so the
// function's output written before its response lands in its own log.
func (in *instance) drainOutput() {
	deadline := time.Now().Add(20 * time.Millisecond)
	in.mu.Lock()
	out := in.out
	in.mu.Unlock()
	for pendingBytes(out) > 0 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Microsecond)
	}
}

// prefixWriter writes lines to w with a prefix; safe across instances via mu.
type prefixWriter struct {
	w      io.Writer
	prefix string
	mu     *sync.Mutex
	bol    bool
}

func (pw *prefixWriter) Write(p []byte) {
	var b bytes.Buffer
	for len(p) > 0 {
		if pw.bol {
			b.WriteString(pw.prefix)
			pw.bol = false
		}
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			b.Write(p)
			break
		}
		b.Write(p[:i+1])
		p = p[i+1:]
		pw.bol = true
	}
	pw.mu.Lock()
	_, _ = pw.w.Write(b.Bytes())
	pw.mu.Unlock()
}
