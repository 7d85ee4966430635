package localfaas_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/faas-benchmarker/faas-benchmarker/localfaas"
	"github.com/faas-benchmarker/faas-benchmarker/localfaas/localfaastest"
)

// helperEnv makes the test binary act as a platform host for
// TestKilledParentLeavesNoOrphans.
const helperEnv = "LOCALFAAS_TEST_HELPER_RUNTIME"

func TestMain(m *testing.M) {
	if rt := os.Getenv(helperEnv); rt != "" {
		os.Exit(hostPlatform(rt))
	}
	code := m.Run()
	if buildDir != "" {
		_ = os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// hostPlatform starts a platform with three busy instances, prints their
// PIDs and waits to be killed.
func hostPlatform(runtime string) int {
	cfg := localfaas.DefaultConfig()
	cfg.Functions = []localfaas.FunctionSpec{{Name: "echo", Runtime: localfaas.RuntimeLambda,
		Command: []string{runtime, "lambda"}, Timeout: time.Minute}}
	p, err := localfaas.New(cfg)
	if err != nil {
		fmt.Println("error", err)
		return 1
	}
	if err := p.Start(context.Background()); err != nil {
		fmt.Println("error", err)
		return 1
	}
	for range 3 {
		go func() {
			resp, err := http.Post(p.URL()+"/2015-03-31/functions/echo/invocations", "application/json",
				strings.NewReader(`{"sleep_ms":60000}`))
			if err == nil {
				resp.Body.Close()
			}
		}()
	}
	for {
		n := 0
		for _, e := range p.Events() {
			if e.Kind == localfaas.EventInvoked {
				n++
			}
		}
		if n == 3 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	for _, e := range p.Events() {
		if e.Kind == localfaas.EventCreated {
			fmt.Println("pid", e.PID)
		}
	}
	fmt.Println("ready")
	time.Sleep(time.Hour)
	return 0
}

// alive reports whether pid runs (a zombie counts as dead).
func alive(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return syscall.Kill(pid, 0) == nil
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || i+2 >= len(s) || s[i+2] != 'Z'
}

func waitGone(t *testing.T, pids []int, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for _, pid := range pids {
		for alive(pid) {
			if time.Now().After(deadline) {
				t.Fatalf("instance process %d still alive after %v", pid, timeout)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
}

// TestCloseKillsEveryChild: Close kills busy, idle and initialising
// instances and their own children.
func TestCloseKillsEveryChild(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	cfg.Functions = append(cfg.Functions, echoSpec(t, "idle", "lambda"), echoSpec(t, "inithang", "init-hang"), httpSpec(t, "web"))
	p, err := localfaas.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	c := sdkClient(p)
	invoke(t, c, "idle", map[string]any{}) // an idle instance
	var wg sync.WaitGroup
	results := make(chan error, 3)
	for _, fn := range []string{"echo", "inithang", "web"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := c.Invoke(context.Background(), &lambda.InvokeInput{FunctionName: aws.String(fn),
				Payload: []byte(`{"sleep_ms":60000}`)})
			results <- err
		}()
	}
	waitEvent(t, p, 0, 20*time.Second, func(e localfaas.Event) bool { return e.Function == "web" && e.Kind == localfaas.EventInvoked })
	waitEvent(t, p, 0, 20*time.Second, func(e localfaas.Event) bool { return e.Function == "echo" && e.Kind == localfaas.EventInvoked })
	waitEvent(t, p, 0, 20*time.Second, func(e localfaas.Event) bool { return e.Function == "inithang" && e.Kind == localfaas.EventCreated })
	var pids []int
	for _, e := range p.Events() {
		if e.Kind == localfaas.EventCreated {
			pids = append(pids, e.PID)
		}
	}
	if len(pids) != 4 {
		t.Fatalf("%d instances, want 4", len(pids))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := p.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if err := p.Close(ctx); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if err := p.Start(ctx); err == nil {
		t.Errorf("Start after Close succeeded")
	}
	for _, pid := range pids {
		if alive(pid) {
			t.Errorf("process %d alive after Close", pid)
		}
	}
	wg.Wait()
	close(results)
	for err := range results {
		if err == nil {
			t.Errorf("an in-flight invocation succeeded across Close")
		}
	}
	for _, e := range p.Events() {
		if e.Kind == localfaas.EventEvicted && e.Reason != localfaas.ReasonShutdown {
			t.Errorf("evicted for %s during shutdown", e.Reason)
		}
	}
	if n := localfaastest.CountEvents(p, "echo", localfaas.EventEvicted, false) + localfaastest.CountEvents(p, "inithang", localfaas.EventEvicted, false) +
		localfaastest.CountEvents(p, "web", localfaas.EventEvicted, false) + localfaastest.CountEvents(p, "idle", localfaas.EventEvicted, false); n != 4 {
		t.Errorf("%d evicted events, want 4", n)
	}
}

// TestKilledParentLeavesNoOrphans: SIGKILL of the process hosting the
// platform (no chance to clean up) still kills every instance.
func TestKilledParentLeavesNoOrphans(t *testing.T) {
	t.Parallel()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"="+testRuntime(t))
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	var pids []int
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		line := sc.Text()
		if line == "ready" {
			break
		}
		if v, ok := strings.CutPrefix(line, "pid "); ok {
			pid, _ := strconv.Atoi(v)
			pids = append(pids, pid)
		}
	}
	if len(pids) != 3 {
		t.Fatalf("helper reported %d instance PIDs, want 3", len(pids))
	}
	for _, pid := range pids {
		if !alive(pid) {
			t.Fatalf("instance %d not running before the kill", pid)
		}
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	waitGone(t, pids, 10*time.Second)
}

// TestHTTPRuntime: an HTTP function is started with its port, invoked
// through the OpenFaaS-style gateway and through the Lambda Invoke API.
func TestHTTPRuntime(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	slow := httpSpec(t, "slow")
	slow.Timeout = time.Second
	cfg.Functions = append(cfg.Functions, httpSpec(t, "web"), slow)
	cfg.GatewayUser, cfg.GatewayPassword = "admin", "pw"
	p := startPlatform(t, cfg)

	post := func(path, body string, auth bool) (*http.Response, []byte) {
		req, err := http.NewRequest(http.MethodPost, p.URL()+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		if auth {
			req.SetBasicAuth("admin", "pw")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, b
	}
	if resp, _ := post("/function/web", `{}`, false); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("no credentials: HTTP %d, want 401", resp.StatusCode)
	}
	resp, body := post("/function/web/sub/path?x=1", `{"k":"v"}`, true)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("X-Testruntime") != "1" {
		t.Fatalf("gateway: HTTP %d %s", resp.StatusCode, body)
	}
	var r echoReply
	if err := json.Unmarshal(body, &r); err != nil {
		t.Fatal(err)
	}
	port := strings.TrimPrefix(r.Env["FB_HTTP_ADDR"], "127.0.0.1:")
	if r.Headers["Path"] != "/sub/path?x=1" || string(r.Payload) != `{"k":"v"}` || port == "" || r.Env["PORT"] != port {
		t.Errorf("gateway request arrived as %+v", r)
	}
	if r.Env["AWS_LAMBDA_RUNTIME_API"] != "" || r.Env["HOSTNAME"] == "" || r.Env["FB_PLATFORM"] != "local" {
		t.Errorf("HTTP function environment: %v", r.Env)
	}
	if resp.Header.Get(localfaas.HeaderCold) != "true" || resp.Header.Get("X-Duration-Seconds") == "" {
		t.Errorf("gateway headers %v", resp.Header)
	}
	if resp, body := post("/function/web", `{"error":"bad"}`, true); resp.StatusCode != http.StatusInternalServerError {
		t.Errorf("function 500: gateway HTTP %d %s", resp.StatusCode, body)
	}
	if resp, _ := post("/function/nope", `{}`, true); resp.StatusCode != http.StatusNotFound {
		t.Errorf("unknown function: HTTP %d", resp.StatusCode)
	}
	// A Lambda-runtime function through the gateway.
	if resp, body := post("/function/echo", `{"n":2}`, true); resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"n":2`) {
		t.Errorf("lambda function via gateway: HTTP %d %s", resp.StatusCode, body)
	}
	if resp, body := post("/function/echo", `{"error":"boom"}`, true); resp.StatusCode != http.StatusInternalServerError ||
		!strings.Contains(string(body), "TestError") {
		t.Errorf("lambda function error via gateway: HTTP %d %s, want 500", resp.StatusCode, body)
	}
	if resp, _ := post("/function/echo", `{"exit":3}`, true); resp.StatusCode != http.StatusBadGateway {
		t.Errorf("crash via gateway: HTTP %d, want 502", resp.StatusCode)
	}

	if resp, body := post("/function/slow", `{"hang":true}`, true); resp.StatusCode != http.StatusGatewayTimeout ||
		!strings.Contains(string(body), "Task timed out after 1.00 seconds") {
		t.Errorf("HTTP function timeout via gateway: HTTP %d %s, want 504", resp.StatusCode, body)
	}
	if resp, body := post("/function/slow", `{}`, true); resp.StatusCode != http.StatusOK {
		t.Errorf("after a timeout: HTTP %d %s", resp.StatusCode, body)
	}

	// The same HTTP function through the Lambda Invoke API (warm now).
	c := sdkClient(p)
	out := invoke(t, c, "web", map[string]any{"n": 3})
	r2 := decodeReply(t, out)
	if r2.PID != r.PID || r2.Invocations < 2 || header(out, localfaas.HeaderCold) != "false" {
		t.Errorf("Invoke of the HTTP function not warm on the same instance: %+v", r2)
	}
	tailReport(t, out)
	// A crash of the HTTP function process is Runtime.ExitError.
	out = invoke(t, c, "web", map[string]any{"exit": 4})
	if aws.ToString(out.FunctionError) != "Unhandled" || !strings.Contains(string(out.Payload), "Runtime.ExitError") {
		t.Errorf("HTTP function crash: %v %s", aws.ToString(out.FunctionError), out.Payload)
	}
}

// TestFunctionCRUD: CreateFunction (code from the catalog), ListFunctions,
// GetFunction, DeleteFunction with the real SDK.
func TestFunctionCRUD(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	cfg.CodeCatalog = map[string]localfaas.Code{
		"bootstrap": {Runtime: localfaas.RuntimeLambda, Command: []string{testRuntime(t), "lambda"}},
		"web":       {Runtime: localfaas.RuntimeHTTP, Command: []string{testRuntime(t), "http"}},
	}
	p := startPlatform(t, cfg)
	c := sdkClient(p)
	ctx := context.Background()

	created, err := c.CreateFunction(ctx, &lambda.CreateFunctionInput{
		FunctionName: aws.String("made"),
		Role:         aws.String("arn:aws:iam::000000000000:role/lambda"),
		Runtime:      types.RuntimeProvidedal2023,
		Handler:      aws.String("bootstrap"),
		Code:         &types.FunctionCode{ZipFile: []byte("PK fake zip")},
		MemorySize:   aws.Int32(256),
		Timeout:      aws.Int32(5),
		Environment:  &types.Environment{Variables: map[string]string{"A": "b"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if created.State != types.StateActive || aws.ToInt32(created.MemorySize) != 256 || aws.ToInt32(created.Timeout) != 5 {
		t.Errorf("created %+v", created)
	}
	_, err = c.CreateFunction(ctx, &lambda.CreateFunctionInput{FunctionName: aws.String("made"),
		Role: aws.String("r"), Code: &types.FunctionCode{}, Handler: aws.String("bootstrap")})
	var conflict *types.ResourceConflictException
	if !errors.As(err, &conflict) {
		t.Errorf("duplicate create: %v", err)
	}
	_, err = c.CreateFunction(ctx, &lambda.CreateFunctionInput{FunctionName: aws.String("webfn"),
		Role: aws.String("r"), Code: &types.FunctionCode{}, Handler: aws.String("x"),
		Environment: &types.Environment{Variables: map[string]string{localfaas.CodeEnvVar: "web"}}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.CreateFunction(ctx, &lambda.CreateFunctionInput{FunctionName: aws.String("nocode"),
		Role: aws.String("r"), Code: &types.FunctionCode{}, Handler: aws.String("x"),
		Environment: &types.Environment{Variables: map[string]string{localfaas.CodeEnvVar: "missing"}}})
	var inval *types.InvalidParameterValueException
	if !errors.As(err, &inval) {
		t.Errorf("unknown code: %v", err)
	}

	list, err := c.ListFunctions(ctx, &lambda.ListFunctionsInput{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range list.Functions {
		names = append(names, aws.ToString(f.FunctionName))
	}
	if strings.Join(names, ",") != "echo,made,webfn" {
		t.Errorf("ListFunctions = %v", names)
	}
	got, err := c.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String("arn:aws:lambda:us-east-1:000000000000:function:made")})
	if err != nil {
		t.Fatal(err)
	}
	if got.Configuration.LastUpdateStatus != types.LastUpdateStatusSuccessful || got.Configuration.Environment.Variables["A"] != "b" {
		t.Errorf("GetFunction %+v", got.Configuration)
	}
	r := decodeReply(t, invoke(t, c, "made", map[string]any{}))
	if r.Env["A"] != "b" || r.Env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] != "256" {
		t.Errorf("created function env %v", r.Env)
	}
	decodeReply(t, invoke(t, c, "webfn", map[string]any{}))

	if _, err := c.DeleteFunction(ctx, &lambda.DeleteFunctionInput{FunctionName: aws.String("made")}); err != nil {
		t.Fatal(err)
	}
	waitEvent(t, p, 0, 10*time.Second, func(e localfaas.Event) bool {
		return e.Function == "made" && e.Kind == localfaas.EventEvicted && e.Reason == localfaas.ReasonDeleted
	})
	_, err = c.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("made")})
	var nf *types.ResourceNotFoundException
	if !errors.As(err, &nf) {
		t.Errorf("invoke after delete: %v", err)
	}
	_, err = c.DeleteFunction(ctx, &lambda.DeleteFunctionInput{FunctionName: aws.String("made")})
	if !errors.As(err, &nf) {
		t.Errorf("second delete: %v", err)
	}
}

// TestAsyncInvoke: InvocationType Event answers 202 at once and runs the
// invocation in the background.
func TestAsyncInvoke(t *testing.T) {
	t.Parallel()
	p := startPlatform(t, testConfig(t))
	c := sdkClient(p)
	out, err := c.Invoke(context.Background(), &lambda.InvokeInput{FunctionName: aws.String("echo"),
		InvocationType: types.InvocationTypeEvent, Payload: []byte(`{"sleep_ms":200}`)})
	if err != nil {
		t.Fatal(err)
	}
	if out.StatusCode != http.StatusAccepted {
		t.Errorf("Event: HTTP %d, want 202", out.StatusCode)
	}
	id := header(out, "X-Amzn-Requestid")
	waitEvent(t, p, 0, 20*time.Second, func(e localfaas.Event) bool {
		return e.Kind == localfaas.EventInvoked && e.RequestID == id
	})
	out, err = c.Invoke(context.Background(), &lambda.InvokeInput{FunctionName: aws.String("echo"),
		InvocationType: types.InvocationTypeDryRun})
	if err != nil || out.StatusCode != http.StatusNoContent {
		t.Errorf("DryRun: %v %v", err, out)
	}
}

// TestEventsEndpoint: GET /_local/events returns the same events as
// Events, filtered by since and function.
func TestEventsEndpoint(t *testing.T) {
	t.Parallel()
	p := startPlatform(t, testConfig(t))
	invoke(t, sdkClient(p), "echo", map[string]any{})
	get := func(q string) []localfaas.Event {
		resp, err := http.Get(p.URL() + "/_local/events" + q)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var evs []localfaas.Event
		if err := json.NewDecoder(resp.Body).Decode(&evs); err != nil {
			t.Fatal(err)
		}
		return evs
	}
	all := get("")
	want := p.Events()
	if len(all) != 3 || len(want) != 3 {
		t.Fatalf("events %+v, want created, init_done, invoked", all)
	}
	for i, k := range []localfaas.EventKind{localfaas.EventCreated, localfaas.EventInitDone, localfaas.EventInvoked} {
		if all[i].Kind != k || all[i].Seq != want[i].Seq || all[i].InstanceID != want[i].InstanceID || !all[i].Time.Equal(want[i].Time) {
			t.Errorf("event %d = %+v, want kind %s like %+v", i, all[i], k, want[i])
		}
	}
	if all[1].InitDurationMS <= 0 || !all[2].Cold || all[2].LogStream == "" {
		t.Errorf("event details missing: %+v", all)
	}
	if got := get("?since=2"); len(got) != 1 || got[0].Seq != 3 {
		t.Errorf("since=2: %+v", got)
	}
	if got := get("?function=other"); len(got) != 0 {
		t.Errorf("function=other: %+v", got)
	}
}
