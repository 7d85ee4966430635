package labruntime

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/faas-benchmarker/faas-benchmarker/functions/lab"
)

func envOf(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestMainConfigErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"unknown mode", []string{"ftp"}, nil, "unknown mode"},
		{"bad flag", []string{"http", "-nope"}, nil, "flag provided but not defined"},
		{"bad depth", []string{"http"}, map[string]string{"FB_MAX_DEPTH": "deep"}, "FB_MAX_DEPTH"},
		{"zero budget", []string{"http"}, map[string]string{"FB_MAX_NESTED_CALLS": "0"}, "FB_MAX_NESTED_CALLS"},
		{"bad timeout", []string{"http"}, map[string]string{"FB_FUNCTION_TIMEOUT": "-3"}, "FB_FUNCTION_TIMEOUT"},
		{"empty allowlist", []string{"http"}, map[string]string{"FB_ALLOWED_FUNCTIONS": " , "}, "FB_ALLOWED_FUNCTIONS"},
		{"bad nested url", []string{"http"}, map[string]string{"FB_NESTED_URL_TEMPLATE": "gopher://x"}, "not an http(s) URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stderr bytes.Buffer
			code := Main(tt.args, Options{Getenv: envOf(tt.env), Stderr: &stderr})
			if code != 2 || !strings.Contains(stderr.String(), tt.want) {
				t.Fatalf("code %d, stderr %q; want 2 and %q", code, stderr.String(), tt.want)
			}
		})
	}
}

func TestLambdaModeNeedsRuntimeAPI(t *testing.T) {
	var stderr bytes.Buffer
	env := map[string]string{"AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "y"}
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	if code := Main([]string{"lambda"}, Options{Getenv: envOf(env), Stderr: &stderr}); code != 1 || !strings.Contains(stderr.String(), "AWS_LAMBDA_RUNTIME_API") {
		t.Fatalf("code %d stderr %q", code, stderr.String())
	}
}

func TestReadEnv(t *testing.T) {
	e, err := readEnv(envOf(map[string]string{
		"AWS_LAMBDA_FUNCTION_NAME": "fb-run7-function3",
		"FB_MAX_DEPTH":             "4",
		"FB_MAX_NESTED_CALLS":      "10",
		"FB_ALLOWED_FUNCTIONS":     "function1, function2",
		"FB_FUNCTION_TIMEOUT":      "2.5",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if e.function != lab.Function3 || e.deployedName != "fb-run7-function3" || e.guards.MaxDepth != 4 || e.guards.MaxNestedCalls != 10 ||
		strings.Join(e.guards.Allowed, ",") != "function1,function2" || e.timeout != 2500*time.Millisecond {
		t.Fatalf("env = %+v", e)
	}
	e, _ = readEnv(envOf(map[string]string{"FB_FUNCTION_NAME": "monolith", "AWS_LAMBDA_FUNCTION_NAME": "other"}))
	if e.function != lab.Monolith {
		t.Fatalf("FB_FUNCTION_NAME does not win: %+v", e)
	}
}

func TestListenAddr(t *testing.T) {
	tests := []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{}, "127.0.0.1:8080"},
		{map[string]string{"PORT": "9000"}, ":9000"},
		{map[string]string{"PORT": "9000", "FUNCTIONS_CUSTOMHANDLER_PORT": "3000"}, "127.0.0.1:3000"},
		{map[string]string{"FB_HTTP_ADDR": "127.0.0.1:1", "FUNCTIONS_CUSTOMHANDLER_PORT": "3000"}, "127.0.0.1:1"},
	}
	for _, tt := range tests {
		if got := listenAddr(envOf(tt.env)); got != tt.want {
			t.Errorf("listenAddr(%v) = %q, want %q", tt.env, got, tt.want)
		}
	}
}

func TestHTTPModeServesUntilCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	out := &lockedBuf{}
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, []string{"http", "-addr", "127.0.0.1:0"}, Options{Getenv: envOf(map[string]string{"FB_FUNCTION_NAME": "function2"}), Stderr: out})
	}()
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(out.String(), "listening") {
		if time.Now().After(deadline) {
			t.Fatalf("not listening: %s", out.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
}

type lockedBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *lockedBuf) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *lockedBuf) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
