package httpadapter_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/faas-benchmarker/faas-benchmarker/functions/httpadapter"
	"github.com/faas-benchmarker/faas-benchmarker/functions/lab"
	"github.com/faas-benchmarker/faas-benchmarker/functions/lab/workloads"
)

func newServer(t *testing.T, azure bool) http.Handler {
	t.Helper()
	sb := lab.NewSandbox(lab.SandboxConfig{Platform: lab.PlatformHTTP})
	var hs []*lab.Handler
	for _, n := range []string{lab.Function1, lab.Function2, lab.Function3} {
		h, err := lab.New(lab.Config{Function: n, Sandbox: sb})
		if err != nil {
			t.Fatal(err)
		}
		hs = append(hs, h)
	}
	s, err := httpadapter.NewServer(httpadapter.Config{Handlers: hs, Default: lab.Function2, AzureEnvelope: azure})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func do(t *testing.T, h http.Handler, method, path, body string, hdr map[string]string) (*httptest.ResponseRecorder, *lab.Response) {
	t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var resp lab.Response
	if err := json.Unmarshal(rec.Body.Bytes(), &resp); err != nil || resp.SchemaVersion != lab.SchemaVersion {
		return rec, nil
	}
	return rec, &resp
}

func TestPlainHTTP(t *testing.T) {
	s := newServer(t, false)
	tests := []struct {
		name, method, path, body string
		hdr                      map[string]string
		wantStatus               int
		wantFunction, wantKind   string
	}{
		{name: "root uses the default function", method: "POST", path: "/", body: `{}`, wantStatus: 200, wantFunction: lab.Function2},
		{name: "named path", method: "POST", path: "/function3", body: `{"sleep":0.001}`, wantStatus: 200, wantFunction: lab.Function3},
		{name: "azure forwarding path", method: "POST", path: "/api/function1", body: `{}`, wantStatus: 200, wantFunction: lab.Function1},
		{name: "openfaas gateway path", method: "POST", path: "/function/fb-r1-function1", body: `{}`, wantStatus: 200, wantFunction: lab.Function1},
		{name: "GET with no body", method: "GET", path: "/function1", wantStatus: 200, wantFunction: lab.Function1},
		{name: "input error is 400 with a lab body", method: "POST", path: "/function1", body: `{"StatusCode":500}`, wantStatus: 400, wantFunction: lab.Function1, wantKind: lab.ErrInput},
		{name: "wrong type is 400", method: "POST", path: "/", body: `{"sleep":"x"}`, wantStatus: 400, wantFunction: lab.Function2, wantKind: lab.ErrInput},
		{name: "guard error is 400", method: "POST", path: "/", body: `{"invoke_nested":[{"function_name":"evil"}]}`, wantStatus: 400, wantFunction: lab.Function2, wantKind: lab.ErrGuard},
		{name: "unserved lab function is 404", method: "POST", path: "/monolith", body: `{}`, wantStatus: 404},
		{name: "PUT is 405", method: "PUT", path: "/", body: `{}`, wantStatus: 405},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec, resp := do(t, s, tt.method, tt.path, tt.body, tt.hdr)
			if rec.Code != tt.wantStatus {
				t.Fatalf("status %d, want %d: %s", rec.Code, tt.wantStatus, rec.Body)
			}
			if tt.wantFunction == "" {
				return
			}
			if resp == nil || resp.Function != tt.wantFunction {
				t.Fatalf("response %s", rec.Body)
			}
			if (resp.Error == nil) != (tt.wantKind == "") || (resp.Error != nil && resp.Error.Kind != tt.wantKind) {
				t.Fatalf("error %+v, want kind %q", resp.Error, tt.wantKind)
			}
			if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
				t.Fatalf("content type %q", ct)
			}
		})
	}
	rec, _ := do(t, s, "GET", "/healthz", "", nil)
	if rec.Code != 200 {
		t.Fatalf("healthz %d", rec.Code)
	}
	_, resp := do(t, s, "POST", "/", `{}`, map[string]string{"X-Call-Id": "openfaas-call-1"})
	if resp.RequestID != "openfaas-call-1" {
		t.Fatalf("request id %q", resp.RequestID)
	}
	_, resp = do(t, s, "POST", "/", `{}`, nil)
	if len(resp.RequestID) != 36 {
		t.Fatalf("generated request id %q", resp.RequestID)
	}
}

func TestColdOnceUnderConcurrentHTTP(t *testing.T) {
	s := newServer(t, false)
	srv := httptest.NewServer(s)
	defer srv.Close()
	var mu sync.Mutex
	cold, ids := 0, map[string]bool{}
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			res, err := http.Post(srv.URL+fmt.Sprintf("/function%d", i%3+1), "application/json", strings.NewReader(`{}`))
			if err != nil {
				t.Error(err)
				return
			}
			defer res.Body.Close()
			var r lab.Response
			if err := json.NewDecoder(res.Body).Decode(&r); err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			if r.Instance.Cold {
				cold++
			}
			ids[r.Instance.ID] = true
		})
	}
	wg.Wait()
	if cold != 1 || len(ids) != 1 {
		t.Fatalf("cold responses %d, instance ids %v; want 1 and 1", cold, ids)
	}
}

func azureEnvelope(body any) string {
	b, _ := json.Marshal(map[string]any{
		"Data": map[string]any{"req": map[string]any{
			"Url": "https://fb-r1.azurewebsites.net/api/function1", "Method": "POST",
			"Query": map[string]any{}, "Headers": map[string][]string{"Content-Type": {"application/json"}},
			"Params": map[string]any{}, "Body": body,
		}},
		"Metadata": map[string]any{"sys": map[string]any{"MethodName": "function1"}},
	})
	return string(b)
}

func decodeAzure(t *testing.T, rec *httptest.ResponseRecorder) (httpadapter.AzureHTTPResponse, *lab.Response) {
	t.Helper()
	if rec.Code != 200 {
		t.Fatalf("envelope status %d: %s", rec.Code, rec.Body)
	}
	var env httpadapter.AzureInvokeResponse
	if err := json.Unmarshal(rec.Body.Bytes(), &env); err != nil {
		t.Fatalf("envelope %s: %v", rec.Body, err)
	}
	res, ok := env.Outputs["res"]
	if !ok {
		t.Fatalf("no res output: %s", rec.Body)
	}
	var lr lab.Response
	if err := json.Unmarshal([]byte(res.Body), &lr); err != nil {
		t.Fatalf("res body %q: %v", res.Body, err)
	}
	return res, &lr
}

func TestAzureEnvelope(t *testing.T) {
	s := newServer(t, true)
	hdr := map[string]string{"X-Azure-Functions-InvocationId": "inv-42"}
	// Body as a JSON string (what the host sends).
	rec, _ := do(t, s, "POST", "/function1", azureEnvelope(`{"sleep":0.01}`), hdr)
	res, lr := decodeAzure(t, rec)
	if res.StatusCode != 200 || res.Headers["Content-Type"] != "application/json" || lr.Function != lab.Function1 || lr.RequestID != "inv-42" || lr.Timing.SleepMS < 10 {
		t.Fatalf("res %+v lab %+v", res, lr)
	}
	// Body as parsed JSON, and an input error: outer 200, res 400.
	rec, _ = do(t, s, "POST", "/function3", azureEnvelope(map[string]any{"StatusCode": 500}), hdr)
	res, lr = decodeAzure(t, rec)
	if res.StatusCode != 400 || lr.Error == nil || lr.Error.Kind != lab.ErrInput || lr.Function != lab.Function3 {
		t.Fatalf("res %+v lab %+v", res, lr)
	}
	// No body at all.
	rec, _ = do(t, s, "POST", "/function2", azureEnvelope(nil), nil)
	if res, lr = decodeAzure(t, rec); res.StatusCode != 200 || lr.RequestID == "" {
		t.Fatalf("res %+v lab %+v", res, lr)
	}
	// A malformed envelope is a plain 400.
	if rec, _ = do(t, s, "POST", "/function1", `{"Data":`, nil); rec.Code != 400 {
		t.Fatalf("malformed envelope status %d", rec.Code)
	}
	// Forwarded plain requests still work in Azure mode.
	if rec, lr := do(t, s, "POST", "/api/function2", `{}`, nil); rec.Code != 200 || lr.Function != lab.Function2 {
		t.Fatalf("forwarded request %d %s", rec.Code, rec.Body)
	}
}

func TestMonolithOverHTTP(t *testing.T) {
	sb := lab.NewSandbox(lab.SandboxConfig{})
	h, err := lab.New(lab.Config{Function: lab.Monolith, Sandbox: sb, Workloads: workloads.New()})
	if err != nil {
		t.Fatal(err)
	}
	s, err := httpadapter.NewServer(httpadapter.Config{Handlers: []*lab.Handler{h}})
	if err != nil {
		t.Fatal(err)
	}
	rec, resp := do(t, s, "POST", "/monolith", `{"run_function":"fib","args":30}`, nil)
	if rec.Code != 200 || resp.Result == nil || !strings.Contains(string(resp.Result.Value), `"fib":832040`) {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	if rec, resp := do(t, s, "POST", "/monolith", `{"run_function":"fib","args":99}`, nil); rec.Code != 400 || resp.Error.Kind != lab.ErrInput {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
}

func TestStatusFor(t *testing.T) {
	for kind, want := range map[string]int{lab.ErrInput: 400, lab.ErrGuard: 400, lab.ErrNested: 502, lab.ErrTimeout: 504, lab.ErrWorkload: 500, lab.ErrInternal: 500} {
		if got := httpadapter.StatusFor(&lab.Error{Kind: kind}); got != want {
			t.Errorf("StatusFor(%s) = %d, want %d", kind, got, want)
		}
	}
	if httpadapter.StatusFor(nil) != 200 {
		t.Error("StatusFor(nil) != 200")
	}
}

func TestInvoker(t *testing.T) {
	var mu sync.Mutex
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		u, p, _ := r.BasicAuth()
		mu.Lock()
		got = append(got, fmt.Sprintf("%s key=%s auth=%s:%s body=%s", r.URL.Path, r.Header.Get("x-functions-key"), u, p, b))
		mu.Unlock()
		if strings.HasSuffix(r.URL.Path, "function3") {
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(`{"schema_version":1,"error":{"kind":"input","message":"x"}}`))
			return
		}
		_, _ = w.Write([]byte(`{"schema_version":1}`))
	}))
	defer srv.Close()
	inv, err := httpadapter.NewInvoker(httpadapter.InvokerConfig{
		URLTemplate: srv.URL + "/api/{name}",
		Keys:        map[string]string{lab.Function2: "k2"},
		BasicUser:   "admin", BasicPassword: "pw",
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := inv.Invoke(context.Background(), lab.Function2, []byte(`{"a":1}`)); err != nil {
		t.Fatal(err)
	}
	body, err := inv.Invoke(context.Background(), lab.Function3, nil)
	if err == nil || !strings.Contains(err.Error(), "HTTP 400") || !bytes.Contains(body, []byte(`"input"`)) {
		t.Fatalf("function3: %s %v", body, err)
	}
	if got[0] != `/api/function2 key=k2 auth=admin:pw body={"a":1}` || !strings.HasPrefix(got[1], "/api/function3 key= ") {
		t.Fatalf("requests = %q", got)
	}
	for _, bad := range []string{"", "ftp://x/{name}", "not a url"} {
		if _, err := httpadapter.NewInvoker(httpadapter.InvokerConfig{URLTemplate: bad}); err == nil {
			t.Errorf("template %q accepted", bad)
		}
	}
}

// syncBuf is a goroutine-safe log sink.
type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestRunServesAndShutsDown(t *testing.T) {
	logs := &syncBuf{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- httpadapter.Run(ctx, httpadapter.RunConfig{Addr: "127.0.0.1:0", Handler: newServer(t, false), Logger: slog.New(slog.NewJSONHandler(logs, nil))})
	}()
	var addr string
	for range 500 {
		var line struct{ Addr string }
		if s := logs.String(); s != "" && json.Unmarshal([]byte(strings.SplitN(s, "\n", 2)[0]), &line) == nil && line.Addr != "" {
			addr = line.Addr
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if addr == "" {
		t.Fatalf("no listening line: %s", logs.String())
	}
	res, err := http.Post("http://"+addr+"/function1", "application/json", strings.NewReader(`{}`))
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("request: %v %v", res, err)
	}
	res.Body.Close()
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run after cancel: %v", err)
	}
}
