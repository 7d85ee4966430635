package localfaas_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/faas-benchmarker/faas-benchmarker/localfaas"
)

var (
	buildOnce   sync.Once
	runtimePath string
	buildErr    error
	buildDir    string
)

// testRuntime builds internal/testruntime once per test binary.
func testRuntime(tb testing.TB) string {
	tb.Helper()
	buildOnce.Do(func() {
		buildDir, buildErr = os.MkdirTemp("", "localfaas-testruntime-")
		if buildErr != nil {
			return
		}
		runtimePath = filepath.Join(buildDir, "testruntime")
		cmd := exec.Command("go", "build", "-o", runtimePath, "./internal/testruntime")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build testruntime: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		tb.Fatal(buildErr)
	}
	return runtimePath
}

// echoSpec is a Lambda-runtime function running testruntime in mode.
func echoSpec(tb testing.TB, name, mode string) localfaas.FunctionSpec {
	return localfaas.FunctionSpec{Name: name, Runtime: localfaas.RuntimeLambda,
		Command: []string{testRuntime(tb), mode}, Timeout: 10 * time.Second}
}

func httpSpec(tb testing.TB, name string) localfaas.FunctionSpec {
	return localfaas.FunctionSpec{Name: name, Runtime: localfaas.RuntimeHTTP,
		Command: []string{testRuntime(tb), "http"}, Timeout: 10 * time.Second}
}

// testConfig is DefaultConfig with the echo function deployed.
func testConfig(tb testing.TB) localfaas.Config {
	cfg := localfaas.DefaultConfig()
	cfg.Functions = []localfaas.FunctionSpec{echoSpec(tb, "echo", "lambda")}
	return cfg
}

func startPlatform(tb testing.TB, cfg localfaas.Config) *localfaas.Platform {
	tb.Helper()
	p, err := localfaas.New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := p.Start(ctx); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if err := p.Close(ctx); err != nil {
			tb.Errorf("Close: %v", err)
		}
	})
	return p
}

// sdkClient is the real aws-sdk-go-v2 Lambda client pointed at p, with
// SigV4 signing by static dummy credentials and no retries.
func sdkClient(p *localfaas.Platform) *lambda.Client {
	return lambda.New(lambda.Options{
		Region:           "us-east-1",
		BaseEndpoint:     aws.String(p.URL()),
		Credentials:      credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", ""),
		RetryMaxAttempts: 1,
	})
}

func invoke(tb testing.TB, c *lambda.Client, fn string, payload any) *lambda.InvokeOutput {
	tb.Helper()
	b, err := json.Marshal(payload)
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, err := c.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String(fn), Payload: b, LogType: types.LogTypeTail})
	if err != nil {
		tb.Fatalf("invoke %s: %v", fn, err)
	}
	return out
}

// echoReply is testruntime's answer.
type echoReply struct {
	Payload     json.RawMessage   `json:"payload"`
	Headers     map[string]string `json:"headers"`
	Env         map[string]string `json:"env"`
	PID         int               `json:"pid"`
	Invocations int64             `json:"invocations"`
	Cold        bool              `json:"cold"`
}

func decodeReply(tb testing.TB, out *lambda.InvokeOutput) echoReply {
	tb.Helper()
	if out.FunctionError != nil {
		tb.Fatalf("function error %s: %s", *out.FunctionError, out.Payload)
	}
	var r echoReply
	if err := json.Unmarshal(out.Payload, &r); err != nil {
		tb.Fatalf("decode reply %q: %v", out.Payload, err)
	}
	return r
}

// report is a parsed REPORT line.
type report struct {
	RequestID    string
	DurationMS   float64
	BilledMS     int
	MemoryMB     int
	MaxMemoryMB  int
	InitDuration *float64
}

var reportRE = regexp.MustCompile(`(?m)^REPORT RequestId: (\S+)\tDuration: ([0-9.]+) ms\tBilled Duration: ([0-9]+) ms\tMemory Size: ([0-9]+) MB\tMax Memory Used: ([0-9]+) MB(?:\tInit Duration: ([0-9.]+) ms)?\n?$`)

// tailReport decodes LogResult and parses its REPORT line (the last line).
func tailReport(tb testing.TB, out *lambda.InvokeOutput) (string, report) {
	tb.Helper()
	if out.LogResult == nil {
		tb.Fatal("no LogResult")
	}
	raw, err := base64.StdEncoding.DecodeString(*out.LogResult)
	if err != nil {
		tb.Fatal(err)
	}
	if len(raw) > 4096 {
		tb.Fatalf("LogResult is %d bytes, want <= 4096", len(raw))
	}
	m := reportRE.FindStringSubmatch(string(raw))
	if m == nil {
		tb.Fatalf("no REPORT line at the end of the log:\n%s", raw)
	}
	var r report
	r.RequestID = m[1]
	r.DurationMS, _ = strconv.ParseFloat(m[2], 64)
	r.BilledMS, _ = strconv.Atoi(m[3])
	r.MemoryMB, _ = strconv.Atoi(m[4])
	r.MaxMemoryMB, _ = strconv.Atoi(m[5])
	if m[6] != "" {
		v, _ := strconv.ParseFloat(m[6], 64)
		r.InitDuration = &v
	}
	return string(raw), r
}

// waitEvent waits (at most timeout) for an event with Seq > after that
// matches pred.
func waitEvent(tb testing.TB, p *localfaas.Platform, after int64, timeout time.Duration, pred func(localfaas.Event) bool) localfaas.Event {
	tb.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	seq := after
	for {
		evs, changed := p.EventsSince(seq)
		for _, e := range evs {
			if pred(e) {
				return e
			}
			seq = e.Seq
		}
		select {
		case <-changed:
		case <-deadline.C:
			tb.Fatalf("no matching event within %v; events: %+v", timeout, p.Events())
			return localfaas.Event{}
		}
	}
}

func lastSeq(p *localfaas.Platform) int64 {
	ev := p.Events()
	if len(ev) == 0 {
		return 0
	}
	return ev[len(ev)-1].Seq
}

func header(out *lambda.InvokeOutput, name string) string {
	h, ok := awsResponseHeader(out)
	if !ok {
		return ""
	}
	return h.Get(name)
}

func awsResponseHeader(out *lambda.InvokeOutput) (http.Header, bool) {
	resp, ok := awsmiddleware.GetRawResponse(out.ResultMetadata).(*smithyhttp.Response)
	if !ok {
		return nil, false
	}
	return resp.Header, true
}

func regexpMust(s string) *regexp.Regexp { return regexp.MustCompile(s) }
