package localfaas

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// tailBytes is how much of an invocation's log LogType Tail returns.
const tailBytes = 4096

// invocation is one request routed to an instance.
type invocation struct {
	id            string
	payload       []byte
	traceID       string
	clientContext string
	// wantLog asks for the START/END/REPORT log (LogType Tail); without it
	// the platform skips the log work on the hot path.
	wantLog bool
	// HTTP runtime only: the request to forward.
	method string
	path   string
	header http.Header

	done chan *result // buffered 1, written once
	once sync.Once

	// Set by instance.deliver under the instance's mutex.
	start        time.Time
	deadline     time.Time
	cold         bool
	initDuration time.Duration
	timer        *time.Timer
	log          tailBuffer
}

func newInvocation(payload []byte) *invocation {
	now := time.Now()
	return &invocation{
		id:      newRequestID(),
		payload: payload,
		traceID: newTraceID(now),
		done:    make(chan *result, 1),
	}
}

// result is the outcome of an invocation.
type result struct {
	// apiErr is set when the platform refused or lost the invocation
	// (throttled, shut down ...); the other fields are then unset.
	apiErr *apiError

	status int         // HTTP runtime: the function's status; Lambda: 200
	header http.Header // HTTP runtime: the function's response headers
	body   []byte
	// errorType is set when the function failed (X-Amz-Function-Error:
	// Unhandled): the Lambda error type, e.g. Runtime.ExitError.
	errorType string
	timedOut  bool

	instanceID   string
	logStream    string
	cold         bool
	duration     time.Duration
	initDuration time.Duration
	memoryMB     int
	maxMemoryMB  int
	// log is the last 4 KB of START, function output, END and REPORT.
	log []byte
}

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

// instance is one OS process hosting a function, with concurrency 1.
type instance struct {
	p    *Platform
	fn   *function
	spec FunctionSpec // snapshot of the function's spec at creation
	id   string
	// logStream is AWS_LAMBDA_LOG_STREAM_NAME, unique per instance.
	logStream string
	created   time.Time
	// lifetime is this instance's maximum age (MaxLifetime plus its
	// jitter, drawn at creation); 0 means unlimited.
	lifetime time.Duration

	work  chan *invocation // Lambda: handed to the runtime's /next
	ready chan struct{}    // closed when init is done
	dead  chan struct{}    // closed once the process is reaped

	cmd     *exec.Cmd
	out     *os.File // read end of the stdout/stderr pipe
	outDone chan struct{}
	rtSrv   *http.Server
	rtAddr  string // Lambda: the Runtime API address of this instance
	// metadataToken authorises the metadata endpoint (Lambda runtime).
	metadataToken string
	httpAddr      string // HTTP runtime: where the function listens

	mu           sync.Mutex
	spawned      time.Time // when the process was started
	pid          int
	isReady      bool
	initDuration time.Duration
	initErrType  string
	initErrBody  []byte
	current      *invocation // delivered and not yet finished
	capture      *invocation // receives output (current, until drained)
	invocations  int
	killReason   EvictReason
	killDetail   string
	killedAt     time.Time // when the platform decided to kill, or saw the exit
	lastMaxMemMB int

	// Guarded by fn.mu.
	attached bool
	// idleDeadline is when the idle instance is evicted (see Eviction),
	// valid when evictable.
	idleDeadline time.Time
	evictable    bool
}

// start spawns the instance's process. The instance is already attached to
// its function; on error the caller detaches it.
func (in *instance) start() error {
	p := in.p
	env := in.environment()
	if in.spec.Runtime == RuntimeLambda {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return fmt.Errorf("localfaas: runtime API listener: %w", err)
		}
		in.rtAddr = ln.Addr().String()
		in.metadataToken = newRequestID()
		in.rtSrv = &http.Server{Handler: in.runtimeAPI(), ReadHeaderTimeout: 10 * time.Second}
		go func() { _ = in.rtSrv.Serve(ln) }()
		env = append(env, "AWS_LAMBDA_RUNTIME_API="+in.rtAddr,
			"AWS_LAMBDA_METADATA_API="+in.rtAddr, "AWS_LAMBDA_METADATA_TOKEN="+in.metadataToken)
	} else {
		port, err := freePort()
		if err != nil {
			return fmt.Errorf("localfaas: pick a port: %w", err)
		}
		in.httpAddr = "127.0.0.1:" + strconv.Itoa(port)
		env = append(env, "FB_HTTP_ADDR="+in.httpAddr, "PORT="+strconv.Itoa(port))
	}
	r, w, err := os.Pipe()
	if err != nil {
		in.closeRuntimeAPI()
		return fmt.Errorf("localfaas: output pipe: %w", err)
	}
	cmd := exec.Command(in.spec.Command[0], in.spec.Command[1:]...)
	cmd.Env = env
	cmd.Stdout = w
	cmd.Stderr = w
	cmd.SysProcAttr = sysProcAttr()
	in.mu.Lock()
	in.spawned = time.Now()
	spawned := in.spawned
	in.mu.Unlock()
	err = in.p.spawner.start(cmd)
	_ = w.Close()
	if err != nil {
		_ = r.Close()
		in.closeRuntimeAPI()
		return fmt.Errorf("localfaas: start %s instance: %w", in.spec.Name, err)
	}
	in.cmd = cmd
	in.out = r
	in.mu.Lock()
	in.pid = cmd.Process.Pid
	killNow := in.killReason != ""
	in.mu.Unlock()
	if killNow {
		_ = killGroup(in.pid)
	}
	p.events.add(Event{Time: spawned, Kind: EventCreated, Function: in.spec.Name,
		InstanceID: in.id, LogStream: in.logStream, PID: in.pid})
	go in.readOutput()
	go in.wait()
	go in.watchInit()
	if in.spec.Runtime == RuntimeHTTP {
		go in.pollReady()
	}
	return nil
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// environment returns the instance's environment: the function's variables,
// overridden by the reserved ones the platform sets. Nothing is inherited
// from the platform's own environment but PATH (and TMPDIR), so the user's
// real AWS credentials never reach a function.
func (in *instance) environment() []string {
	url := in.p.URL()
	// Defaults the lab runtime reads (see functions/labruntime); the
	// function's own variables may override them.
	vars := map[string]string{
		"FB_FUNCTION_TIMEOUT":    strconv.Itoa(secondsCeil(in.spec.Timeout)),
		"FB_MEMORY_MB":           strconv.Itoa(in.spec.MemoryMB),
		"FB_NESTED_URL_TEMPLATE": url + "/function/{name}",
	}
	if u := in.p.cfg.GatewayUser; u != "" {
		vars["FB_NESTED_BASIC_AUTH_USER"] = u
		vars["FB_NESTED_BASIC_AUTH_PASSWORD"] = in.p.cfg.GatewayPassword
	}
	for k, v := range in.spec.Env {
		vars[k] = v
	}
	for _, k := range []string{"PATH", "TMPDIR"} {
		if v, ok := os.LookupEnv(k); ok {
			vars[k] = v
		}
	}
	taskRoot := filepath.Dir(in.spec.Command[0])
	if abs, err := filepath.Abs(taskRoot); err == nil {
		taskRoot = abs
	}
	reserved := map[string]string{
		"FB_PLATFORM":                     "local",
		"FB_FUNCTION_NAME":                in.spec.Name,
		"FB_INSTANCE_ID":                  in.id,
		"FB_GATEWAY_URL":                  url,
		"AWS_REGION":                      awsRegion,
		"AWS_DEFAULT_REGION":              awsRegion,
		"AWS_ACCESS_KEY_ID":               "AKIDLOCALFAAS",
		"AWS_SECRET_ACCESS_KEY":           "localfaas-dummy-secret",
		"AWS_SESSION_TOKEN":               "localfaas-dummy-token",
		"AWS_ENDPOINT_URL_LAMBDA":         url,
		"TZ":                              ":UTC",
		"LAMBDA_TASK_ROOT":                taskRoot,
		"_HANDLER":                        "bootstrap",
		"AWS_LAMBDA_FUNCTION_NAME":        in.spec.Name,
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": strconv.Itoa(in.spec.MemoryMB),
		"AWS_LAMBDA_FUNCTION_VERSION":     "$LATEST",
		"AWS_LAMBDA_LOG_STREAM_NAME":      in.logStream,
		"AWS_LAMBDA_LOG_GROUP_NAME":       "/aws/lambda/" + in.spec.Name,
	}
	if in.spec.Runtime == RuntimeHTTP {
		// An HTTP function is not a Lambda sandbox: no AWS_LAMBDA_* names,
		// the instance is identified by HOSTNAME like an OpenFaaS pod.
		for k := range reserved {
			if strings.HasPrefix(k, "AWS_LAMBDA_") || k == "_HANDLER" || k == "LAMBDA_TASK_ROOT" {
				delete(reserved, k)
			}
		}
		reserved["HOSTNAME"] = in.spec.Name + "-" + in.id
	}
	for k, v := range reserved {
		vars[k] = v
	}
	env := make([]string, 0, len(vars))
	for k, v := range vars {
		env = append(env, k+"="+v)
	}
	return env
}

func (in *instance) closeRuntimeAPI() {
	if in.rtSrv != nil {
		_ = in.rtSrv.Close()
	}
}

// readOutput copies the process's output into the current invocation's log
// (and Config.FunctionOutput) until the pipe closes.
func (in *instance) readOutput() {
	defer close(in.outDone)
	var mirror *prefixWriter
	if w := in.p.cfg.FunctionOutput; w != nil {
		mirror = &prefixWriter{w: w, prefix: "[" + in.spec.Name + " " + in.id + "] ", mu: &in.p.outputMu, bol: true}
	}
	buf := make([]byte, 32*1024)
	for {
		n, err := in.out.Read(buf)
		if n > 0 {
			if mirror != nil {
				mirror.Write(buf[:n])
			}
			in.mu.Lock()
			if in.capture != nil {
				in.capture.log.Write(buf[:n])
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
	for pendingBytes(in.out) > 0 && time.Now().Before(deadline) {
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

// wait reaps the process and cleans up after it.
func (in *instance) wait() {
	waitErr := in.cmd.Wait()
	// Kill what the process may have left in its group, so the pipe closes.
	_ = killGroup(in.pid)
	select {
	case <-in.outDone:
	case <-time.After(200 * time.Millisecond):
	}
	_ = in.out.Close()

	in.mu.Lock()
	reason, detail := in.killReason, in.killDetail
	if reason == "" {
		reason = ReasonCrash
		if !in.isReady {
			reason = ReasonInitError
		}
		in.killReason = reason
	}
	if in.killedAt.IsZero() {
		in.killedAt = time.Now()
	}
	killedAt := in.killedAt
	if detail == "" {
		detail = exitDetail(waitErr)
		in.killDetail = detail
	}
	wasReady := in.isReady
	cur := in.current
	in.current = nil
	in.capture = nil
	in.mu.Unlock()

	in.fn.detach(in)
	in.closeRuntimeAPI()
	if !wasReady {
		in.p.events.add(Event{Kind: EventInitError, Function: in.spec.Name, InstanceID: in.id,
			LogStream: in.logStream, PID: in.pid, Detail: detail})
	}
	in.p.events.add(Event{Time: killedAt, Kind: EventEvicted, Function: in.spec.Name, InstanceID: in.id,
		LogStream: in.logStream, PID: in.pid, Reason: reason, Detail: detail})
	close(in.dead)
	if cur != nil {
		cur.timer.Stop()
		in.complete(cur, in.lostResult(cur, reason, waitErr))
	}
}

func exitDetail(err error) string {
	if err == nil {
		return "exit status 0"
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ProcessState.String()
	}
	return err.Error()
}

// lostResult is the result of an invocation whose instance died under it.
func (in *instance) lostResult(inv *invocation, reason EvictReason, waitErr error) *result {
	switch reason {
	case ReasonShutdown:
		return &result{apiErr: errServiceUnavailable("the platform is shutting down")}
	case ReasonDeleted:
		return &result{apiErr: errNotFound(in.spec.Name)}
	}
	msg := "Runtime exited without providing a reason"
	if waitErr != nil {
		msg = "Runtime exited with error: " + exitDetail(waitErr)
	}
	full := "RequestId: " + inv.id + " Error: " + msg
	res := &result{status: http.StatusOK, errorType: "Runtime.ExitError",
		body: errorBody("Runtime.ExitError", full)}
	in.report(inv, res, time.Since(inv.start), full+"\nRuntime.ExitError\n")
	return res
}

// watchInit kills an instance that is not ready within the init timeout.
func (in *instance) watchInit() {
	t := time.NewTimer(in.p.cfg.InitTimeout + in.p.cfg.ExtraInitDelay)
	defer t.Stop()
	select {
	case <-in.ready:
	case <-in.dead:
	case <-t.C:
		in.kill(ReasonInitError, fmt.Sprintf("init timed out after %.2f seconds",
			(in.p.cfg.InitTimeout+in.p.cfg.ExtraInitDelay).Seconds()))
	}
}

// pollReady waits for an HTTP function's port to accept connections.
func (in *instance) pollReady() {
	d := net.Dialer{Timeout: 100 * time.Millisecond}
	for {
		select {
		case <-in.dead:
			return
		default:
		}
		c, err := d.Dial("tcp", in.httpAddr)
		if err == nil {
			_ = c.Close()
			in.markReady()
			return
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// markReady ends the init phase (after Config.ExtraInitDelay). It returns
// false when the instance died meanwhile.
func (in *instance) markReady() bool {
	in.mu.Lock()
	done := in.isReady
	in.mu.Unlock()
	if done {
		return true
	}
	if d := in.p.cfg.ExtraInitDelay; d > 0 {
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-in.dead:
			t.Stop()
			return false
		}
	}
	in.mu.Lock()
	if in.isReady {
		in.mu.Unlock()
		return true
	}
	in.isReady = true
	in.initDuration = time.Since(in.spawned)
	initDur := in.initDuration
	in.mu.Unlock()
	close(in.ready)
	in.p.events.add(Event{Kind: EventInitDone, Function: in.spec.Name, InstanceID: in.id,
		LogStream: in.logStream, PID: in.pid, InitDurationMS: ms(initDur)})
	return true
}

// kill records why the instance dies and SIGKILLs its process group; wait
// does the rest. The first reason wins.
func (in *instance) kill(reason EvictReason, detail string) {
	in.mu.Lock()
	if in.killReason == "" {
		in.killReason, in.killDetail, in.killedAt = reason, detail, time.Now()
	}
	pid := in.pid
	in.mu.Unlock()
	if pid > 0 {
		_ = killGroup(pid)
	}
}

// deliver marks inv as running on this instance and arms its timeout.
func (in *instance) deliver(inv *invocation) {
	in.mu.Lock()
	now := time.Now()
	inv.start = now
	inv.deadline = now.Add(in.spec.Timeout)
	inv.cold = in.invocations == 0
	if inv.cold {
		inv.initDuration = in.initDuration
	}
	in.invocations++
	in.current = inv
	in.capture = inv
	inv.timer = time.AfterFunc(in.spec.Timeout, func() { in.timeout(inv) })
	in.mu.Unlock()
	in.p.events.add(Event{Time: now, Kind: EventInvoked, Function: in.spec.Name, InstanceID: in.id,
		LogStream: in.logStream, PID: in.pid, RequestID: inv.id, Cold: inv.cold})
}

// finish completes the running invocation inv with res and returns the
// instance to its function. It returns false when inv is not running here
// (already timed out or finished).
func (in *instance) finish(inv *invocation, res *result) bool {
	in.mu.Lock()
	if in.current != inv {
		in.mu.Unlock()
		return false
	}
	in.current = nil
	in.mu.Unlock()
	inv.timer.Stop()
	dur := time.Since(inv.start)
	if inv.wantLog {
		in.drainOutput()
	}
	in.mu.Lock()
	if in.capture == inv {
		in.capture = nil
	}
	in.mu.Unlock()
	in.report(inv, res, dur, "")
	// Release before answering, so a caller's next request finds the
	// instance idle (warm), as on Lambda.
	in.fn.release(in)
	in.complete(inv, res)
	return true
}

// timeout fails inv with "Task timed out" and kills the instance.
func (in *instance) timeout(inv *invocation) {
	in.mu.Lock()
	if in.current != inv {
		in.mu.Unlock()
		return
	}
	in.current = nil
	in.capture = nil
	secs := fmt.Sprintf("%.2f", in.spec.Timeout.Seconds())
	if in.killReason == "" {
		in.killReason = ReasonTimeout
		in.killedAt = time.Now()
		in.killDetail = "task timed out after " + secs + " seconds"
	}
	pid := in.pid
	in.mu.Unlock()
	_ = killGroup(pid)
	in.fn.detach(in)
	msg := time.Now().UTC().Format("2006-01-02T15:04:05.000Z") + " " + inv.id + " Task timed out after " + secs + " seconds"
	res := &result{status: http.StatusOK, errorType: "Sandbox.Timedout", timedOut: true,
		body: errorBody("Sandbox.Timedout", msg)}
	if in.spec.Runtime == RuntimeHTTP {
		res.status = http.StatusGatewayTimeout
	}
	in.report(inv, res, in.spec.Timeout, msg+"\n")
	in.complete(inv, res)
}

func (in *instance) complete(inv *invocation, res *result) {
	inv.once.Do(func() { inv.done <- res })
}

// report fills res's platform fields and, when the caller asked for it,
// its START/END/REPORT log with Max Memory Used read from /proc.
func (in *instance) report(inv *invocation, res *result, dur time.Duration, extraLog string) {
	res.instanceID = in.id
	res.logStream = in.logStream
	res.cold = inv.cold
	res.duration = dur
	res.initDuration = inv.initDuration
	res.memoryMB = in.spec.MemoryMB
	if !inv.wantLog {
		return
	}
	in.mu.Lock()
	if m := maxRSSMB(in.pid); m > 0 {
		in.lastMaxMemMB = m
	}
	res.maxMemoryMB = in.lastMaxMemMB
	out := bytes.Clone(inv.log.buf)
	truncated := inv.log.total > int64(len(out))
	in.mu.Unlock()

	var b bytes.Buffer
	if !truncated {
		fmt.Fprintf(&b, "START RequestId: %s Version: $LATEST\n", inv.id)
	}
	b.Write(out)
	if len(out) > 0 && out[len(out)-1] != '\n' {
		b.WriteByte('\n')
	}
	b.WriteString(extraLog)
	fmt.Fprintf(&b, "END RequestId: %s\n", inv.id)
	b.WriteString(reportLine(inv.id, res))
	log := b.Bytes()
	if len(log) > tailBytes {
		log = log[len(log)-tailBytes:]
	}
	res.log = log
}

// reportLine formats a Lambda REPORT line (TAB-separated, text format).
// Billed Duration includes the init phase on cold starts, as AWS bills
// provided runtimes.
func reportLine(requestID string, res *result) string {
	billed := res.duration
	if res.cold {
		billed += res.initDuration
	}
	billedMS := (billed + time.Millisecond - 1) / time.Millisecond
	if billedMS < 1 {
		billedMS = 1
	}
	line := fmt.Sprintf("REPORT RequestId: %s\tDuration: %.2f ms\tBilled Duration: %d ms\tMemory Size: %d MB\tMax Memory Used: %d MB",
		requestID, ms(res.duration), billedMS, res.memoryMB, res.maxMemoryMB)
	if res.cold {
		line += fmt.Sprintf("\tInit Duration: %.2f ms", ms(res.initDuration))
	}
	return line + "\n"
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// errorBody is a Lambda error payload.
func errorBody(errType, msg string) []byte {
	b, _ := jsonMarshal(map[string]any{"errorType": errType, "errorMessage": msg})
	return b
}

// run routes inv to this (acquired) instance and waits for its result or
// ctx. retry is true when the instance turned out dead before the
// invocation reached it and was not initialising for it.
func (in *instance) run(ctx context.Context, inv *invocation) (res *result, retry bool) {
	in.mu.Lock()
	wasReady := in.isReady
	in.mu.Unlock()
	if in.spec.Runtime == RuntimeLambda {
		select {
		case in.work <- inv:
		case <-in.dead:
			return in.notDelivered(inv, wasReady)
		case <-ctx.Done():
			in.fn.release(in)
			return &result{apiErr: errCanceled(ctx.Err())}, false
		}
	} else {
		select {
		case <-in.ready:
		case <-in.dead:
			return in.notDelivered(inv, wasReady)
		case <-ctx.Done():
			in.fn.release(in)
			return &result{apiErr: errCanceled(ctx.Err())}, false
		}
		in.deliver(inv)
		go in.forwardHTTP(inv)
	}
	select {
	case res := <-inv.done:
		return res, false
	case <-ctx.Done():
		return &result{apiErr: errCanceled(ctx.Err())}, false
	}
}

// notDelivered is the result of an invocation whose instance died before
// the invocation reached it.
func (in *instance) notDelivered(inv *invocation, wasReady bool) (*result, bool) {
	in.mu.Lock()
	reason, detail := in.killReason, in.killDetail
	errType, errBody := in.initErrType, in.initErrBody
	in.mu.Unlock()
	switch reason {
	case ReasonShutdown:
		return &result{apiErr: errServiceUnavailable("the platform is shutting down")}, false
	case ReasonDeleted:
		return &result{apiErr: errNotFound(in.spec.Name)}, false
	}
	if wasReady || reason != ReasonInitError {
		// A warm instance that died while idle: try another one.
		return nil, true
	}
	inv.start = time.Now()
	inv.cold = false // never initialised: no Init Duration
	res := &result{status: http.StatusOK}
	switch {
	case errType != "":
		res.errorType = errType
		res.body = errBody
		if !jsonValid(errBody) {
			res.body = errorBody(errType, string(errBody))
		}
	case strings.HasPrefix(detail, "init timed out"):
		res.errorType = "Sandbox.Timedout"
		res.body = errorBody(res.errorType, "RequestId: "+inv.id+" Error: "+detail)
	default:
		res.errorType = "Runtime.ExitError"
		res.body = errorBody(res.errorType, "RequestId: "+inv.id+" Error: Runtime exited with error: "+detail)
	}
	if in.spec.Runtime == RuntimeHTTP {
		res.status = http.StatusBadGateway
	}
	in.report(inv, res, 0, "INIT_REPORT Phase: init Status: error Error Type: "+res.errorType+" ("+detail+")\n")
	return res, false
}
