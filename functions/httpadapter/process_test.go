package httpadapter_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/faas-benchmarker/faas-benchmarker/functions/internal/proctest"
	"github.com/faas-benchmarker/faas-benchmarker/functions/lab"
	"github.com/faas-benchmarker/faas-benchmarker/internal/testtools"
)

const httpfnPkg = "github.com/faas-benchmarker/faas-benchmarker/functions/cmd/httpfn"

var builder *proctest.Builder

func TestMain(m *testing.M) {
	var err error
	if builder, err = proctest.NewBuilder(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	_ = builder.Close()
	os.Exit(code)
}

// startHTTPFn runs the httpfn binary with env and returns its address.
func startHTTPFn(t *testing.T, env ...string) (*testtools.Proc, string) {
	t.Helper()
	bin := builder.Build(t, httpfnPkg, "httpfn")
	cmd := exec.Command(bin)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "FB_HTTP_ADDR=127.0.0.1:0"}, env...)
	p := testtools.Start(t, cmd)
	out := p.WaitOutput(t, "lab http adapter listening", 30*time.Second)
	for _, line := range strings.Split(out, "\n") {
		var l struct{ Msg, Addr string }
		if json.Unmarshal([]byte(line), &l) == nil && l.Addr != "" {
			return p, l.Addr
		}
	}
	t.Fatalf("no address in output:\n%s", out)
	return nil, ""
}

func post(t *testing.T, url, body string) (int, []byte) {
	t.Helper()
	c := &http.Client{Timeout: 60 * time.Second}
	res, err := c.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatalf("POST %s: %v", url, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, b
}

func labResponse(t *testing.T, b []byte) *lab.Response {
	t.Helper()
	var r lab.Response
	if err := json.Unmarshal(b, &r); err != nil || r.SchemaVersion != lab.SchemaVersion {
		t.Fatalf("not a lab response (%v): %s", err, b)
	}
	return &r
}

func TestProcessPlainAndNested(t *testing.T) {
	_, calleeAddr := startHTTPFn(t, "FB_PLATFORM=openfaas", "FB_FUNCTION_NAME=function2")
	_, callerAddr := startHTTPFn(t,
		"FB_FUNCTION_NAME=fb-r9-function1",
		"FB_NESTED_URL_TEMPLATE=http://"+calleeAddr+"/function/fb-r9-{name}",
		"FB_NESTED_KEY_FUNCTION2=secret-key",
		"FB_MAX_NESTED_CALLS=4")

	status, b := post(t, "http://"+callerAddr+"/", `{"invoke_nested":[
		{"function_name":"function2","invoke_payload":{"sleep":0.02}},
		{"function_name":"function3"}]}`)
	r := labResponse(t, b)
	if status != 200 || r.Error != nil || r.Function != lab.Function1 || r.Instance.Platform != lab.PlatformHTTP || !r.Instance.Cold {
		t.Fatalf("status %d response %s", status, b)
	}
	if len(r.Nested) != 2 || r.Nested[0].Response == nil || r.Nested[0].Response.Function != lab.Function2 ||
		r.Nested[0].Response.Instance.Platform != lab.PlatformOpenFaaS || r.Nested[0].Response.Parent != r.RequestID ||
		r.Nested[1].Response.Function != lab.Function3 || r.Nested[0].Response.Instance.ID == r.Instance.ID {
		t.Fatalf("nested %s", b)
	}
	if r.Nested[0].DurationNS < int64(20*time.Millisecond) {
		t.Fatalf("nested duration %d", r.Nested[0].DurationNS)
	}

	// A recursion bomb beyond the budget is refused before any call.
	calls := strings.TrimSuffix(strings.Repeat(`{"function_name":"function2"},`, 5), ",")
	status, b = post(t, "http://"+callerAddr+"/", `{"invoke_nested":[`+calls+`]}`)
	if r := labResponse(t, b); status != 400 || r.Error == nil || r.Error.Kind != lab.ErrGuard || len(r.Nested) != 0 {
		t.Fatalf("bomb: status %d %s", status, b)
	}
	// Not on the allowlist.
	status, b = post(t, "http://"+callerAddr+"/", `{"invoke_nested":[{"function_name":"payroll"}]}`)
	if r := labResponse(t, b); status != 400 || r.Error.Kind != lab.ErrGuard {
		t.Fatalf("allowlist: status %d %s", status, b)
	}
}

// TestProcessDepthBomb bounces a request between two processes that call
// each other; the depth guard stops the chain.
func TestProcessDepthBomb(t *testing.T) {
	// b binds an address it is given, so that a can be told where b is
	// before b starts; a binds :0 and reports its address.
	bin := builder.Build(t, httpfnPkg, "httpfn")
	var aAddr string
	testtools.OnFreeAddrs(t, 1, func(addrs []string) error {
		var a *testtools.Proc
		a, aAddr = startHTTPFn(t, "FB_MAX_DEPTH=3", "FB_NESTED_URL_TEMPLATE=http://"+addrs[0]+"/{name}")
		cmd := exec.Command(bin, "-addr", addrs[0])
		cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "FB_MAX_DEPTH=3", "FB_NESTED_URL_TEMPLATE=http://" + aAddr + "/{name}"}
		b := testtools.Start(t, cmd)
		if err := b.WaitTCP(addrs[0], 30*time.Second); err != nil {
			b.Kill()
			a.Kill()
			return err
		}
		return nil
	})

	p := `{}`
	for range 6 {
		p = `{"invoke_nested":[{"function_name":"function1","invoke_payload":` + p + `}]}`
	}
	status, body := post(t, "http://"+aAddr+"/function1", p)
	r := labResponse(t, body)
	if status != 502 || r.Error == nil || r.Error.Kind != lab.ErrNested {
		t.Fatalf("status %d: %s", status, body)
	}
	// Walk down: depths 0..3 answered, the depth-3 response is the guard refusal.
	depth := 0
	for cur := r; ; depth++ {
		if cur.Depth != depth {
			t.Fatalf("depth %d reported %d", depth, cur.Depth)
		}
		if len(cur.Nested) == 0 {
			if cur.Error == nil || cur.Error.Kind != lab.ErrGuard {
				t.Fatalf("deepest response error %+v", cur.Error)
			}
			break
		}
		cur = cur.Nested[0].Response
		if cur == nil {
			t.Fatalf("missing nested response at depth %d: %s", depth+1, body)
		}
	}
	if depth != 3 {
		t.Fatalf("chain stopped at depth %d, want 3", depth)
	}
}

func TestProcessAzureCustomHandler(t *testing.T) {
	bin := builder.Build(t, httpfnPkg, "httpfn")
	_, addrs := testtools.StartOnFreeAddrs(t, 1, 30*time.Second, func(addrs []string) *exec.Cmd {
		port := strings.Split(addrs[0], ":")[1]
		cmd := exec.Command(bin)
		cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "FUNCTIONS_CUSTOMHANDLER_PORT=" + port, "CONTAINER_NAME=SandboxHost-1234", "WEBSITE_MEMORY_LIMIT_MB=1536"}
		return cmd
	})
	addr := addrs[0]

	req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/function3", strings.NewReader(azureEnvelope(`{"throughput_time":0.01}`)))
	req.Header.Set("X-Azure-Functions-InvocationId", "inv-1")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var env struct {
		Outputs map[string]struct {
			StatusCode int    `json:"statusCode"`
			Body       string `json:"body"`
		}
	}
	raw, _ := io.ReadAll(res.Body)
	if err := json.Unmarshal(raw, &env); err != nil || res.StatusCode != 200 {
		t.Fatalf("status %d envelope %s", res.StatusCode, raw)
	}
	out := env.Outputs["res"]
	r := labResponse(t, []byte(out.Body))
	if out.StatusCode != 200 || r.Function != lab.Function3 || r.RequestID != "inv-1" || r.Instance.Platform != lab.PlatformAzureFunctions ||
		r.Instance.PlatformHint != "SandboxHost-1234" || r.Instance.MemoryLimitMB != 1536 || r.Timing.Throughput == nil || r.Timing.Throughput.Iterations == 0 {
		t.Fatalf("azure response %s", out.Body)
	}
	// Azure's default function timeout (5 min) applies: a longer sleep is refused.
	res2, err := http.Post("http://"+addr+"/api/function1", "application/json", strings.NewReader(`{"sleep":301}`))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res2.Body)
	res2.Body.Close()
	if r := labResponse(t, b); res2.StatusCode != 400 || !strings.Contains(r.Error.Message, "timeout of 300s") {
		t.Fatalf("status %d %s", res2.StatusCode, b)
	}
}
