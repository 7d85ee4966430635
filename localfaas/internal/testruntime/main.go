// Command testruntime is a small function runtime used to test the local
// platform independently of the lab functions: a minimal Lambda Runtime API
// client (standard library only) and an HTTP function, with misbehaviours
// on demand.
//
// Usage: testruntime MODE, where MODE is
//
//	lambda      Runtime API loop (default)
//	init-exit   exit with status 3 during init
//	init-error  report /runtime/init/error, then exit 1
//	init-hang   never call /next
//	http        serve HTTP on $FB_HTTP_ADDR
//
// In the lambda and http modes the request payload (a JSON object) asks for
// behaviour: {"sleep_ms": N} sleeps, {"print": S} writes S to stdout,
// {"exit": N} exits with status N mid-invocation, {"hang": true} never
// answers, {"error": S} reports a function error, {"garbage": true} writes
// binary junk to stdout and the Runtime API before answering with non-JSON
// bytes, {"big": N} answers with an N-byte JSON string. The answer echoes
// the payload, the request headers, the environment and counters.
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"time"
)

type behaviour struct {
	SleepMS int    `json:"sleep_ms"`
	Print   string `json:"print"`
	Exit    *int   `json:"exit"`
	Hang    bool   `json:"hang"`
	Error   string `json:"error"`
	Garbage bool   `json:"garbage"`
	Big     int    `json:"big"`
}

// reply is what the runtime answers.
type reply struct {
	Payload     json.RawMessage   `json:"payload"`
	RequestID   string            `json:"request_id,omitempty"`
	Headers     map[string]string `json:"headers"`
	Env         map[string]string `json:"env"`
	PID         int               `json:"pid"`
	Invocations int64             `json:"invocations"`
	Cold        bool              `json:"cold"`
	StartedAt   int64             `json:"started_at"`
	Big         string            `json:"big,omitempty"`
}

var (
	started     = time.Now()
	invocations atomic.Int64
)

func main() {
	mode := "lambda"
	if len(os.Args) > 1 {
		mode = os.Args[1]
	}
	if err := run(mode); err != nil {
		fmt.Fprintln(os.Stderr, "testruntime:", err)
		os.Exit(1)
	}
}

func run(mode string) error {
	api := "http://" + os.Getenv("AWS_LAMBDA_RUNTIME_API") + "/2018-06-01/runtime"
	switch mode {
	case "lambda":
		return lambdaLoop(api)
	case "init-exit":
		fmt.Println("testruntime: exiting during init")
		os.Exit(3)
	case "init-error":
		body := `{"errorType":"TestInitError","errorMessage":"init failed on purpose"}`
		req, _ := http.NewRequest(http.MethodPost, api+"/init/error", strings.NewReader(body))
		req.Header.Set("Lambda-Runtime-Function-Error-Type", "TestInitError")
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
		}
		os.Exit(1)
	case "init-hang":
		for {
			time.Sleep(time.Hour)
		}
	case "http":
		return serveHTTP(os.Getenv("FB_HTTP_ADDR"))
	}
	return fmt.Errorf("unknown mode %q", mode)
}

func environment() map[string]string {
	env := map[string]string{}
	for _, kv := range os.Environ() {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	return env
}

// apply performs the requested print, sleep, exit and hang.
func apply(b behaviour) {
	if b.Print != "" {
		fmt.Println(b.Print)
	}
	if b.SleepMS > 0 {
		time.Sleep(time.Duration(b.SleepMS) * time.Millisecond)
	}
	if b.Exit != nil {
		fmt.Fprintln(os.Stderr, "testruntime: exiting on request")
		os.Exit(*b.Exit)
	}
	if b.Hang {
		for {
			time.Sleep(time.Hour)
		}
	}
}

func makeReply(payload []byte, headers map[string]string, b behaviour) reply {
	n := invocations.Add(1)
	r := reply{Payload: payload, Headers: headers, Env: environment(), PID: os.Getpid(),
		Invocations: n, Cold: n == 1, StartedAt: started.UnixNano()}
	if !json.Valid(payload) {
		r.Payload = nil
	}
	if b.Big > 0 {
		r.Big = strings.Repeat("x", b.Big)
	}
	return r
}

func lambdaLoop(api string) error {
	client := &http.Client{}
	for {
		resp, err := client.Get(api + "/invocation/next")
		if err != nil {
			return fmt.Errorf("next: %w", err)
		}
		payload, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return fmt.Errorf("read next: %w", err)
		}
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("next: HTTP %d: %s", resp.StatusCode, payload)
		}
		id := resp.Header.Get("Lambda-Runtime-Aws-Request-Id")
		headers := map[string]string{}
		for k := range resp.Header {
			if strings.HasPrefix(k, "Lambda-Runtime-") {
				headers[k] = resp.Header.Get(k)
			}
		}
		var b behaviour
		_ = json.Unmarshal(payload, &b)
		apply(b)
		if b.Garbage {
			if err := garbage(api, payload); err != nil {
				return err
			}
			if err := post(client, api+"/invocation/"+id+"/response", "", []byte("\x00not json\xff")); err != nil {
				return err
			}
			continue
		}
		if b.Error != "" {
			body := fmt.Sprintf(`{"errorType":"TestError","errorMessage":%q}`, b.Error)
			if err := post(client, api+"/invocation/"+id+"/error", "TestError", []byte(body)); err != nil {
				return err
			}
			continue
		}
		out, err := json.Marshal(makeReply(payload, headers, b))
		if err != nil {
			return err
		}
		if err := post(client, api+"/invocation/"+id+"/response", "", out); err != nil {
			return err
		}
	}
}

func post(client *http.Client, url, errType string, body []byte) error {
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	if errType != "" {
		req.Header.Set("Lambda-Runtime-Function-Error-Type", errType)
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("post %s: %w", url, err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode/100 != 2 && resp.StatusCode != http.StatusRequestEntityTooLarge {
		return fmt.Errorf("post %s: HTTP %d", url, resp.StatusCode)
	}
	return nil
}

// garbage writes binary junk to stdout and stderr and abuses the Runtime
// API: a raw non-HTTP request and a response for an unknown request id.
func garbage(api string, payload []byte) error {
	junk := make([]byte, 8192)
	for i := range junk {
		junk[i] = byte(i*131 + 7)
	}
	_, _ = os.Stdout.Write(junk)
	_, _ = os.Stderr.Write(junk[:1000])
	host := strings.TrimPrefix(api, "http://")
	host = host[:strings.Index(host, "/")]
	if c, err := net.Dial("tcp", host); err == nil {
		_, _ = c.Write([]byte("\xff\xfe garbage \r\n\r\n"))
		_ = c.SetReadDeadline(time.Now().Add(time.Second))
		_, _ = io.Copy(io.Discard, c)
		c.Close()
	}
	resp, err := http.Post(api+"/invocation/not-a-request-id/response", "application/json", bytes.NewReader(payload))
	if err != nil {
		return fmt.Errorf("garbage post: %w", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		return fmt.Errorf("garbage post: want HTTP 400 for an unknown request id, got %d", resp.StatusCode)
	}
	return nil
}

func serveHTTP(addr string) error {
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		payload, _ := io.ReadAll(r.Body)
		var b behaviour
		_ = json.Unmarshal(payload, &b)
		apply(b)
		if b.Error != "" {
			http.Error(w, b.Error, http.StatusInternalServerError)
			return
		}
		headers := map[string]string{"Method": r.Method, "Path": r.URL.RequestURI()}
		for k := range r.Header {
			headers[k] = r.Header.Get(k)
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Testruntime", "1")
		_ = json.NewEncoder(w).Encode(makeReply(payload, headers, b))
	})
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	return http.Serve(ln, mux)
}
