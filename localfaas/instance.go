package localfaas

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/faas-benchmarker/faas-benchmarker/internal/ports"
)

// instance is one OS process hosting a function, with concurrency 1. Its
// jobs live in one file each: the process (spawn, environment, readiness,
// kill, reap) here, output capture in output.go, the invocation state
// machine (deliver, finish, timeout, run) in invocation.go, START/END/REPORT
// lines in report.go. Locks: mu guards the process and invocation state
// (the fields after it, up to the pool fields); fn.mu guards the pool
// fields (attached, idleDeadline, evictable).
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
	// ownDraw is the instance's own uniform [0, 1) number, its idle
	// jitter with Config.IdlePersistent (Eviction.EvictAt).
	ownDraw float64

	work  chan *invocation // Lambda: handed to the runtime's /next
	ready chan struct{}    // closed when init is done
	dead  chan struct{}    // closed once the process is reaped

	rtSrv  *http.Server
	rtAddr string // Lambda: the Runtime API address of this instance
	// metadataToken authorises the metadata endpoint (Lambda runtime).
	metadataToken string

	mu sync.Mutex
	// httpAddr is where an HTTP function listens, on the port that port
	// holds for it; both change only during init, when the process is
	// spawned again on a new port (rebind).
	httpAddr string
	port     *ports.Reservation
	out      *os.File  // read end of the current process's stdout/stderr pipe
	spawned  time.Time // when the (current) process was started
	spawns   int       // how many processes were started (see rebind)
	// initOut is the tail of the output written before the instance was
	// ready: it tells rebind whether the process lost its port.
	initOut      tailBuffer
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
	if in.spec.Runtime == RuntimeLambda {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return fmt.Errorf("localfaas: runtime API listener: %w", err)
		}
		in.rtAddr = ln.Addr().String()
		in.metadataToken = newRequestID()
		in.rtSrv = &http.Server{Handler: in.runtimeAPI(), ReadHeaderTimeout: 10 * time.Second}
		go func() { _ = in.rtSrv.Serve(ln) }()
	}
	if err := in.spawn(); err != nil {
		in.closeRuntimeAPI()
		return err
	}
	in.mu.Lock()
	spawned, pid := in.spawned, in.pid
	in.mu.Unlock()
	in.p.events.add(Event{Time: spawned, Kind: EventCreated, Function: in.spec.Name,
		InstanceID: in.id, LogStream: in.logStream, PID: pid})
	go in.watchInit()
	if in.spec.Runtime == RuntimeHTTP {
		go in.pollReady()
	}
	return nil
}

// spawn starts the instance's process, and the goroutines that read its
// output and reap it. An HTTP function binds the port it is given itself
// (FB_HTTP_ADDR, PORT), so it gets one reserved by ports.Reserve and held
// until the instance dies, never the number of a closed :0 listener (see
// internal/ports); if a foreign program takes the port first anyway, the
// function exits during init saying so and rebind spawns it again on a new
// port.
func (in *instance) spawn() error {
	env := in.environment()
	if in.spec.Runtime == RuntimeLambda {
		env = append(env, "AWS_LAMBDA_RUNTIME_API="+in.rtAddr,
			"AWS_LAMBDA_METADATA_API="+in.rtAddr, "AWS_LAMBDA_METADATA_TOKEN="+in.metadataToken)
	} else {
		r, err := in.p.reservePort()
		if err != nil {
			return fmt.Errorf("localfaas: reserve a port: %w", err)
		}
		in.mu.Lock()
		_ = in.port.Close() // the port a rebind gives up
		in.port, in.httpAddr = r, r.Addr()
		in.mu.Unlock()
		env = append(env, "FB_HTTP_ADDR="+r.Addr(), "PORT="+strconv.Itoa(r.Port))
	}
	r, w, err := os.Pipe()
	if err != nil {
		return fmt.Errorf("localfaas: output pipe: %w", err)
	}
	cmd := exec.Command(in.spec.Command[0], in.spec.Command[1:]...)
	cmd.Env = env
	cmd.Stdout = w
	cmd.Stderr = w
	cmd.SysProcAttr = sysProcAttr()
	in.mu.Lock()
	in.spawned = time.Now()
	in.spawns++
	in.mu.Unlock()
	err = in.p.spawner.start(cmd)
	_ = w.Close()
	if err != nil {
		_ = r.Close()
		return fmt.Errorf("localfaas: start %s instance: %w", in.spec.Name, err)
	}
	outDone := make(chan struct{})
	in.mu.Lock()
	in.out = r
	in.pid = cmd.Process.Pid
	killNow := in.killReason != ""
	in.mu.Unlock()
	if killNow {
		_ = killGroup(cmd.Process.Pid)
	}
	go in.readOutput(r, outDone)
	go in.wait(cmd, r, outDone)
	return nil
}

// rebind spawns an HTTP function's process again, on a new port, when it
// exited during init because its port had been taken, at most
// ports.Attempts spawns in all. It reports whether it did; if not, the exit
// is the instance's death as usual.
func (in *instance) rebind() bool {
	in.mu.Lock()
	lostPort := in.spec.Runtime == RuntimeHTTP && !in.isReady && in.killReason == "" &&
		ports.InUse(string(in.initOut.buf))
	retry := lostPort && in.spawns < ports.Attempts
	lost := in.httpAddr
	if retry {
		in.initOut = tailBuffer{}
	} else if lostPort {
		in.killDetail = fmt.Sprintf("address already in use: the function could not bind any of the %d ports it was given", in.spawns)
	}
	in.mu.Unlock()
	if !retry {
		return false
	}
	in.p.log.Debug("localfaas: port taken during init, spawning again on a new port",
		"function", in.spec.Name, "instance", in.id, "addr", lost)
	if err := in.spawn(); err != nil {
		in.p.log.Warn("localfaas: spawn again", "function", in.spec.Name, "instance", in.id, "err", err)
		return false
	}
	return true
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

// wait reaps the process cmd (whose output pipe is out, read until
// outDone) and cleans up after it — or, when the process lost its port
// during init, spawns it again (rebind).
func (in *instance) wait(cmd *exec.Cmd, out *os.File, outDone <-chan struct{}) {
	waitErr := cmd.Wait()
	// Kill what the process may have left in its group, so the pipe closes.
	_ = killGroup(cmd.Process.Pid)
	select {
	case <-outDone:
	case <-time.After(200 * time.Millisecond):
	}
	_ = out.Close()
	if in.rebind() {
		return
	}
	in.mu.Lock()
	_ = in.port.Close()
	in.mu.Unlock()

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
		in.mu.Lock()
		addr := in.httpAddr
		in.mu.Unlock()
		c, err := d.Dial("tcp", addr)
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
	initDur, pid := in.initDuration, in.pid
	in.mu.Unlock()
	close(in.ready)
	in.p.events.add(Event{Kind: EventInitDone, Function: in.spec.Name, InstanceID: in.id,
		LogStream: in.logStream, PID: pid, InitDurationMS: ms(initDur)})
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
