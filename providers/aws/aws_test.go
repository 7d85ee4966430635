package aws

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"strings"
	"sync"
	"testing"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"

	"github.com/faas-benchmarker/faas-benchmarker/providers"
)

const (
	testKeyID  = "AKIDTESTEXAMPLE"
	testSecret = "s3cr3t-Very-Private-Key"
	coldLog    = "START RequestId: r1 Version: $LATEST\nEND RequestId: r1\n" +
		"REPORT RequestId: r1\tDuration: 170.19 ms\tBilled Duration: 171 ms\tMemory Size: 128 MB\tMax Memory Used: 72 MB\tInit Duration: 196.77 ms\t\n"
	warmLog = "REPORT RequestId: r2\tDuration: 3.27 ms\tBilled Duration: 4 ms\tMemory Size: 512 MB\tMax Memory Used: 19 MB\t\n"
)

// recorded is one request seen by the fake Lambda API.
type recorded struct {
	Method, Path, Query string
	Header              http.Header
	Body                []byte
}

// fakeLambda is an httptest server speaking the parts of the Lambda API the
// provider uses; handler decides each answer.
type fakeLambda struct {
	mu   sync.Mutex
	reqs []recorded
	srv  *httptest.Server
}

func newFakeLambda(t *testing.T, handler func(w http.ResponseWriter, r *http.Request, body []byte)) *fakeLambda {
	t.Helper()
	f := &fakeLambda{}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		f.reqs = append(f.reqs, recorded{r.Method, r.URL.Path, r.URL.RawQuery, r.Header.Clone(), body})
		f.mu.Unlock()
		handler(w, r, body)
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeLambda) requests() []recorded {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]recorded(nil), f.reqs...)
}

// isolateEnv keeps the developer's AWS settings out of the tests.
func isolateEnv(t *testing.T) {
	for _, k := range []string{"AWS_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ACCESS_KEY_ID",
		"AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_LAMBDA", "AWS_MAX_ATTEMPTS", "AWS_RETRY_MODE"} {
		t.Setenv(k, "")
	}
	t.Setenv("AWS_CONFIG_FILE", t.TempDir()+"/config")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", t.TempDir()+"/credentials")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
}

func newTestProvider(t *testing.T, url string, mod func(*Config)) *Provider {
	t.Helper()
	cfg := NewDefaultConfig()
	cfg.Region = "us-east-1"
	cfg.Endpoint = url
	cfg.AccessKeyID = testKeyID
	cfg.SecretAccessKey = testSecret
	cfg.Functions = map[string]string{"function1": "fb-run42-function1"}
	cfg.ColdStartPollInterval = 1
	if mod != nil {
		mod(&cfg)
	}
	p, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return p
}

func writeAPIError(w http.ResponseWriter, status int, typ, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-ErrorType", typ)
	w.Header().Set("X-Amzn-RequestId", "req-err")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"Type": "User", "message": msg, "__type": typ})
}

func TestInvoke(t *testing.T) {
	isolateEnv(t)
	payload := []byte(`{"sleep":0.01}`)
	tests := []struct {
		name      string
		qualifier string
		respond   func(w http.ResponseWriter)
		wantErr   providers.Kind // "" means success
		wantCode  int            // Error.StatusCode
		check     func(t *testing.T, r *providers.Reply)
	}{
		{
			// Cold start: REPORT with Init Duration parsed, request id kept.
			name: "cold ok",
			respond: func(w http.ResponseWriter) {
				w.Header().Set("X-Amz-Log-Result", base64.StdEncoding.EncodeToString([]byte(coldLog)))
				w.Header().Set("X-Amzn-RequestId", "req-1")
				w.Header().Set("X-Amz-Executed-Version", "$LATEST")
				w.Write([]byte(`{"schema_version":1}`))
			},
			check: func(t *testing.T, r *providers.Reply) {
				if r.StatusCode != 200 || string(r.Body) != `{"schema_version":1}` || r.FunctionError != "" || r.RequestID != "req-1" {
					t.Errorf("reply = %+v", r)
				}
				if r.Report == nil || r.Report.DurationMS != 170.19 || r.Report.BilledMS != 171 || r.Report.MemorySizeMB != 128 ||
					r.Report.MaxMemoryUsedMB != 72 || r.Report.InitDurationMS == nil || *r.Report.InitDurationMS != 196.77 {
					t.Errorf("report = %+v", r.Report)
				}
			},
		},
		{
			// Warm: no Init Duration → nil, never 0. Qualifier sent as query.
			name:      "warm ok with qualifier",
			qualifier: "live",
			respond: func(w http.ResponseWriter) {
				w.Header().Set("X-Amz-Log-Result", base64.StdEncoding.EncodeToString([]byte(warmLog)))
				w.Write([]byte(`{}`))
			},
			check: func(t *testing.T, r *providers.Reply) {
				if r.Report == nil || r.Report.InitDurationMS != nil || r.Report.DurationMS != 3.27 {
					t.Errorf("report = %+v", r.Report)
				}
			},
		},
		{
			// No log result: Report stays nil.
			name:    "no log",
			respond: func(w http.ResponseWriter) { w.Write([]byte(`{}`)) },
			check: func(t *testing.T, r *providers.Reply) {
				if r.Report != nil {
					t.Errorf("report = %+v, want nil", r.Report)
				}
			},
		},
		{
			// Unhandled function error: a Reply with FunctionError, body kept.
			name: "function error",
			respond: func(w http.ResponseWriter) {
				w.Header().Set("X-Amz-Function-Error", "Unhandled")
				w.Header().Set("X-Amz-Log-Result", base64.StdEncoding.EncodeToString([]byte(warmLog)))
				w.Write([]byte(`{"errorMessage":"boom","errorType":"Runtime.ExitError"}`))
			},
			check: func(t *testing.T, r *providers.Reply) {
				if r.FunctionError != "Unhandled" || !strings.Contains(string(r.Body), "boom") || r.Report == nil {
					t.Errorf("reply = %+v", r)
				}
			},
		},
		// Throttle: classified, and not retried (one request).
		{name: "throttled", respond: func(w http.ResponseWriter) {
			writeAPIError(w, 429, "TooManyRequestsException", "Rate Exceeded.")
		}, wantErr: providers.KindThrottled, wantCode: 429},
		{name: "not found", respond: func(w http.ResponseWriter) {
			writeAPIError(w, 404, "ResourceNotFoundException", "Function not found")
		}, wantErr: providers.KindNotFound, wantCode: 404},
		{name: "unrecognized client", respond: func(w http.ResponseWriter) {
			writeAPIError(w, 403, "UnrecognizedClientException", "The security token included in the request is invalid.")
		}, wantErr: providers.KindAuth, wantCode: 403},
		// A server message echoing the secret must be redacted.
		{name: "bad signature echoing secret", respond: func(w http.ResponseWriter) {
			writeAPIError(w, 403, "InvalidSignatureException", "signature mismatch for "+testSecret)
		}, wantErr: providers.KindAuth, wantCode: 403},
		// A 5xx service error is not retried either.
		{name: "service exception", respond: func(w http.ResponseWriter) {
			writeAPIError(w, 500, "ServiceException", "internal")
		}, wantErr: providers.KindHTTP, wantCode: 500},
		{name: "gateway timeout", respond: func(w http.ResponseWriter) {
			w.WriteHeader(504)
		}, wantErr: providers.KindTimeout, wantCode: 504},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeLambda(t, func(w http.ResponseWriter, r *http.Request, _ []byte) { tt.respond(w) })
			p := newTestProvider(t, f.srv.URL, func(c *Config) { c.Qualifier = tt.qualifier })
			reply, err := p.Invoke(context.Background(), "function1", payload)

			reqs := f.requests()
			if len(reqs) != 1 {
				t.Fatalf("server saw %d requests, want exactly 1 (SDK retries must be off)", len(reqs))
			}
			r := reqs[0]
			if r.Method != http.MethodPost || r.Path != "/2015-03-31/functions/fb-run42-function1/invocations" {
				t.Errorf("request = %s %s", r.Method, r.Path)
			}
			if tt.qualifier != "" && r.Query != "Qualifier="+tt.qualifier {
				t.Errorf("query = %q, want Qualifier=%s", r.Query, tt.qualifier)
			}
			if got := r.Header.Get("Authorization"); !strings.HasPrefix(got, "AWS4-HMAC-SHA256 Credential="+testKeyID+"/") ||
				!strings.Contains(got, "/us-east-1/lambda/aws4_request") || strings.Contains(got, testSecret) {
				t.Errorf("Authorization = %q", got)
			}
			if r.Header.Get("X-Amz-Log-Type") != "Tail" || r.Header.Get("X-Amz-Invocation-Type") != "RequestResponse" {
				t.Errorf("log/invocation type = %q/%q", r.Header.Get("X-Amz-Log-Type"), r.Header.Get("X-Amz-Invocation-Type"))
			}
			if string(r.Body) != string(payload) {
				t.Errorf("body = %q, want %q", r.Body, payload)
			}

			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Invoke: %v", err)
				}
				tt.check(t, reply)
				return
			}
			var pe *providers.Error
			if !errors.As(err, &pe) {
				t.Fatalf("Invoke error = %v (%T), want *providers.Error", err, err)
			}
			if pe.Kind != tt.wantErr || pe.StatusCode != tt.wantCode || pe.Platform != "aws" {
				t.Errorf("error = %+v, want kind %s status %d", pe, tt.wantErr, tt.wantCode)
			}
			if msg := err.Error(); !strings.HasPrefix(msg, "aws: ") || strings.Contains(msg, testSecret) {
				t.Errorf("message = %q", msg)
			}
		})
	}
}

func TestInvokeTransportFailures(t *testing.T) {
	isolateEnv(t)
	t.Run("connection refused", func(t *testing.T) {
		srv := httptest.NewServer(http.NotFoundHandler())
		url := srv.URL
		srv.Close()
		p := newTestProvider(t, url, nil)
		_, err := p.Invoke(context.Background(), "function1", []byte(`{}`))
		if k := providers.KindOf(err); k != providers.KindTransport {
			t.Fatalf("kind = %q (%v), want transport", k, err)
		}
	})
	t.Run("canceled", func(t *testing.T) {
		f := newFakeLambda(t, func(w http.ResponseWriter, r *http.Request, _ []byte) {})
		p := newTestProvider(t, f.srv.URL, nil)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err := p.Invoke(ctx, "function1", []byte(`{}`))
		if k := providers.KindOf(err); k != providers.KindCanceled {
			t.Fatalf("kind = %q (%v), want canceled", k, err)
		}
	})
	t.Run("deadline", func(t *testing.T) {
		release := make(chan struct{})
		f := newFakeLambda(t, func(w http.ResponseWriter, r *http.Request, _ []byte) {
			select {
			case <-r.Context().Done():
			case <-release:
			}
		})
		defer close(release)
		p := newTestProvider(t, f.srv.URL, nil)
		ctx, cancel := context.WithTimeout(context.Background(), 50*1e6)
		defer cancel()
		_, err := p.Invoke(ctx, "function1", []byte(`{}`))
		if k := providers.KindOf(err); k != providers.KindTimeout {
			t.Fatalf("kind = %q (%v), want timeout", k, err)
		}
	})
	t.Run("missing credentials", func(t *testing.T) {
		f := newFakeLambda(t, func(w http.ResponseWriter, r *http.Request, _ []byte) {})
		p := newTestProvider(t, f.srv.URL, func(c *Config) {
			c.Credentials = sdkaws.CredentialsProviderFunc(func(context.Context) (sdkaws.Credentials, error) {
				return sdkaws.Credentials{}, errors.New("no credentials found in chain")
			})
		})
		_, err := p.Invoke(context.Background(), "function1", []byte(`{}`))
		if k := providers.KindOf(err); k != providers.KindAuth {
			t.Fatalf("kind = %q (%v), want auth", k, err)
		}
		if n := len(f.requests()); n != 0 {
			t.Errorf("server saw %d requests, want 0", n)
		}
	})
}

func TestNewValidation(t *testing.T) {
	isolateEnv(t)
	tests := []struct {
		name string
		cfg  Config
		want string // substring of the error
	}{
		{"no region", Config{AccessKeyID: "a", SecretAccessKey: "b"}, "no region"},
		{"bad endpoint", Config{Region: "us-east-1", Endpoint: "ftp://x"}, "endpoint"},
		{"key without secret", Config{Region: "us-east-1", AccessKeyID: "a"}, "secret access key"},
		{"empty mapping", Config{Region: "us-east-1", Functions: map[string]string{"function1": ""}}, "empty name"},
		{"isolated without credentials", Config{Region: "us-east-1", Isolated: true}, "credentials"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.cfg)
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "aws: ") {
				t.Fatalf("New error = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

// coldStartServer serves GetFunctionConfiguration, UpdateFunctionConfiguration
// and GetFunction; GetFunction reports InProgress inProgress times first.
func coldStartServer(t *testing.T, env map[string]string, envErr bool, inProgress int) *fakeLambda {
	var mu sync.Mutex
	polls := 0
	return newFakeLambda(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
		w.Header().Set("Content-Type", "application/json")
		conf := map[string]any{"FunctionName": "fb-run42-function1", "State": "Active", "LastUpdateStatus": "Successful"}
		if envErr {
			conf["Environment"] = map[string]any{"Error": map[string]string{"ErrorCode": "KMSAccessDeniedException", "Message": "denied"}}
		} else if env != nil {
			conf["Environment"] = map[string]any{"Variables": env}
		}
		switch {
		case r.Method == http.MethodGet && r.URL.Path == "/2015-03-31/functions/fb-run42-function1/configuration":
			json.NewEncoder(w).Encode(conf)
		case r.Method == http.MethodPut && r.URL.Path == "/2015-03-31/functions/fb-run42-function1/configuration":
			conf["LastUpdateStatus"] = "InProgress"
			json.NewEncoder(w).Encode(conf)
		case r.Method == http.MethodGet && r.URL.Path == "/2015-03-31/functions/fb-run42-function1":
			mu.Lock()
			polls++
			if polls <= inProgress {
				conf["LastUpdateStatus"] = "InProgress"
			}
			mu.Unlock()
			json.NewEncoder(w).Encode(map[string]any{"Configuration": conf})
		default:
			writeAPIError(w, 404, "ResourceNotFoundException", "no route "+r.Method+" "+r.URL.Path)
		}
	})
}

func TestForceColdStart(t *testing.T) {
	isolateEnv(t)
	f := coldStartServer(t, map[string]string{"KEEP": "me", "FB_COLD_TOKEN": "old"}, false, 2)
	p := newTestProvider(t, f.srv.URL, nil)
	if err := p.ForceColdStart(context.Background(), "function1"); err != nil {
		t.Fatalf("ForceColdStart: %v", err)
	}
	reqs := f.requests()
	var seq []string
	for _, r := range reqs {
		seq = append(seq, r.Method+" "+r.Path)
	}
	want := []string{
		"GET /2015-03-31/functions/fb-run42-function1/configuration",
		"PUT /2015-03-31/functions/fb-run42-function1/configuration",
		"GET /2015-03-31/functions/fb-run42-function1",
		"GET /2015-03-31/functions/fb-run42-function1",
		"GET /2015-03-31/functions/fb-run42-function1",
	}
	if strings.Join(seq, "\n") != strings.Join(want, "\n") {
		t.Fatalf("request sequence:\n%s\nwant:\n%s", strings.Join(seq, "\n"), strings.Join(want, "\n"))
	}
	var upd struct {
		Environment struct{ Variables map[string]string }
	}
	if err := json.Unmarshal(reqs[1].Body, &upd); err != nil {
		t.Fatalf("update body %q: %v", reqs[1].Body, err)
	}
	vars := upd.Environment.Variables
	if vars["KEEP"] != "me" || vars[ColdTokenEnv] == "" || vars[ColdTokenEnv] == "old" || len(vars) != 2 {
		t.Errorf("updated environment = %v", vars)
	}
	for _, r := range reqs {
		if !strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 ") {
			t.Errorf("%s %s not signed", r.Method, r.Path)
		}
	}
}

func TestForceColdStartRefusals(t *testing.T) {
	isolateEnv(t)
	t.Run("unreadable environment is not overwritten", func(t *testing.T) {
		f := coldStartServer(t, nil, true, 0)
		p := newTestProvider(t, f.srv.URL, nil)
		err := p.ForceColdStart(context.Background(), "function1")
		if err == nil {
			t.Fatal("ForceColdStart: want error")
		}
		for _, r := range f.requests() {
			if r.Method == http.MethodPut {
				t.Fatalf("configuration was updated despite unreadable environment")
			}
		}
	})
	t.Run("qualifier", func(t *testing.T) {
		f := coldStartServer(t, nil, false, 0)
		p := newTestProvider(t, f.srv.URL, func(c *Config) { c.Qualifier = "live" })
		if err := p.ForceColdStart(context.Background(), "function1"); err == nil {
			t.Fatal("ForceColdStart with alias: want error")
		}
		if n := len(f.requests()); n != 0 {
			t.Errorf("server saw %d requests, want 0", n)
		}
	})
	t.Run("unknown function", func(t *testing.T) {
		f := coldStartServer(t, nil, false, 0)
		p := newTestProvider(t, f.srv.URL, nil)
		err := p.ForceColdStart(context.Background(), "nope")
		if k := providers.KindOf(err); k != providers.KindNotFound {
			t.Fatalf("kind = %q (%v), want not_found", k, err)
		}
	})
}

func TestNoSecretsInOutput(t *testing.T) {
	isolateEnv(t)
	cfg := Config{Region: "us-east-1", AccessKeyID: testKeyID, SecretAccessKey: testSecret, SessionToken: "tok-" + testSecret}
	p, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if s := fmt.Sprintf("%v %+v %#v %v %+v", cfg, cfg, cfg, p, p); strings.Contains(s, testSecret) {
		t.Errorf("secret in %q", s)
	}
}

// TestContextReachesTransport checks the contract the engine relies on: an
// httptrace.ClientTrace in ctx sees the SDK's connection, and concurrent
// invocations on one provider are race-free.
func TestContextReachesTransport(t *testing.T) {
	isolateEnv(t)
	f := newFakeLambda(t, func(w http.ResponseWriter, r *http.Request, _ []byte) { w.Write([]byte(`{}`)) })
	p := newTestProvider(t, f.srv.URL, nil)
	var mu sync.Mutex
	gotConn := 0
	trace := &httptrace.ClientTrace{GotConn: func(httptrace.GotConnInfo) { mu.Lock(); gotConn++; mu.Unlock() }}
	var wg sync.WaitGroup
	for i := 0; i < 16; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := p.Invoke(httptrace.WithClientTrace(context.Background(), trace), "function1", []byte(`{}`)); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if gotConn != 16 {
		t.Errorf("trace saw %d connections for 16 invocations", gotConn)
	}
}

func TestSetMemory(t *testing.T) {
	isolateEnv(t)
	f := coldStartServer(t, map[string]string{"KEEP": "me"}, false, 1)
	p := newTestProvider(t, f.srv.URL, nil)
	if err := p.SetMemory(context.Background(), "function1", 512); err != nil {
		t.Fatalf("SetMemory: %v", err)
	}
	reqs := f.requests()
	var put []byte
	for _, r := range reqs {
		if r.Method == http.MethodPut {
			if put != nil {
				t.Fatal("more than one configuration update")
			}
			put = r.Body
		}
	}
	var upd struct {
		MemorySize  int
		Environment *struct{ Variables map[string]string }
	}
	if err := json.Unmarshal(put, &upd); err != nil {
		t.Fatalf("update body %q: %v", put, err)
	}
	// Only the memory size changes: the environment is left alone.
	if upd.MemorySize != 512 || upd.Environment != nil {
		t.Errorf("update body = %s", put)
	}
	if last := reqs[len(reqs)-1]; last.Method != http.MethodGet {
		t.Errorf("did not wait for the update: last request %s %s", last.Method, last.Path)
	}
	q := newTestProvider(t, f.srv.URL, func(c *Config) { c.Qualifier = "live" })
	if err := q.SetMemory(context.Background(), "function1", 512); err == nil {
		t.Error("SetMemory with an alias: want error")
	}
}
