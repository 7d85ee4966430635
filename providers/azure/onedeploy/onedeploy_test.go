package onedeploy

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
)

// fakeCredential issues "tok:<scopes>" so the stand-in can check which
// scope a token was asked for.
type fakeCredential struct{ err error }

func (c fakeCredential) GetToken(_ context.Context, o policy.TokenRequestOptions) (azcore.AccessToken, error) {
	if c.err != nil {
		return azcore.AccessToken{}, c.err
	}
	return azcore.AccessToken{Token: "tok:" + strings.Join(o.Scopes, " "), ExpiresOn: time.Now().Add(time.Hour)}, nil
}

// kudu is a stand-in for a Flex Consumption app's SCM site, written from
// the documented One Deploy protocol (see the package comment): it
// refuses any token but one for ARMScope with 401, takes the zip at POST
// /api/publish?RemoteBuild=false (409 while a deployment is in progress,
// then 202 with the deployment id as a JSON string, or 200), and answers
// GET /api/deployments/<id> with the scripted statuses, 200 whatever the
// status.
type kudu struct {
	script
	t      *testing.T
	mu     sync.Mutex
	events []string
	zip    []byte
	srv    *httptest.Server
	// release ends the hanging polls when the test ends.
	release chan struct{}
}

// script is how the stand-in answers.
type script struct {
	// conflicts is how many publishes are refused with 409.
	conflicts int
	// accept is the publish answer: 202 (with the id) or 200 (no body).
	accept int
	// statuses are the answers to the status polls in turn: a Kudu status
	// value, or notFound; the last one repeats.
	statuses []int
	// failText is the status_text of a failed deployment.
	failText string
	// unauthorized answers every request with 401 and this challenge.
	unauthorized string
	// onPoll runs at each status poll (n counts from 1).
	onPoll func(n int)
	// hang makes every status poll wait until its request is cancelled:
	// an SCM site that takes the connection and never answers.
	hang bool
}

const notFound = 1000

func (k *kudu) start() *kudu {
	k.srv = httptest.NewServer(http.HandlerFunc(k.serve))
	k.t.Cleanup(k.srv.Close)
	k.release = make(chan struct{})
	k.t.Cleanup(func() { close(k.release) }) // runs before Close
	return k
}

func (k *kudu) log() []string {
	k.mu.Lock()
	defer k.mu.Unlock()
	return append([]string(nil), k.events...)
}

func (k *kudu) count(prefix string) int {
	n := 0
	for _, e := range k.log() {
		if strings.HasPrefix(e, prefix) {
			n++
		}
	}
	return n
}

func (k *kudu) serve(w http.ResponseWriter, r *http.Request) {
	k.mu.Lock()
	k.events = append(k.events, r.Method+" "+r.URL.Path)
	polls := 0
	for _, e := range k.events {
		if strings.HasPrefix(e, "GET ") {
			polls++
		}
	}
	posts := len(k.events) - polls
	k.mu.Unlock()

	// The scope of azd's and the az CLI's Flex deployments (see ARMScope),
	// spelled out so that a change of the constant is caught.
	if k.unauthorized != "" || r.Header.Get("Authorization") != "Bearer tok:https://management.core.windows.net//.default" {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token", error_description="`+k.unauthorized+`"`)
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	switch {
	case r.Method == http.MethodPost && r.URL.Path == "/api/publish":
		if r.URL.Query().Get("RemoteBuild") != "false" || r.Header.Get("Content-Type") != "application/zip" {
			http.Error(w, "want RemoteBuild=false and application/zip", http.StatusBadRequest)
			return
		}
		body, _ := io.ReadAll(r.Body)
		k.mu.Lock()
		k.zip = body
		k.mu.Unlock()
		if posts <= k.conflicts {
			http.Error(w, "There is a deployment currently in progress. Please try again when it completes.", http.StatusConflict)
			return
		}
		if k.accept == http.StatusOK {
			w.WriteHeader(http.StatusOK)
			return
		}
		w.WriteHeader(http.StatusAccepted)
		_, _ = io.WriteString(w, `"dep-1"`)
	case r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/api/deployments/"):
		id := strings.TrimPrefix(r.URL.Path, "/api/deployments/")
		if k.onPoll != nil {
			k.onPoll(polls)
		}
		if k.hang {
			select {
			case <-r.Context().Done():
			case <-k.release:
			}
			return
		}
		st := k.statuses[min(polls, len(k.statuses))-1]
		if st == notFound {
			http.Error(w, "Deployment "+id+" not found.", http.StatusNotFound)
			return
		}
		rec := map[string]any{"id": id, "status": st, "complete": st >= statusFailed || st < 0}
		if st == statusFailed {
			rec["status_text"] = k.failText
			rec["log_url"] = k.srv.URL + "/api/deployments/" + id + "/log"
		}
		_ = json.NewEncoder(w).Encode(rec)
	default:
		http.NotFound(w, r)
	}
}

// pkg writes a package file.
func pkg(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "azure-functions.zip")
	if err := os.WriteFile(p, []byte("PK\x03\x04 lab functions"), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// deployer returns a Deployer whose waits return at once (counted).
func deployer(t *testing.T, cred azcore.TokenCredential, waits *int) *Deployer {
	t.Helper()
	d, err := New(Config{
		Credential: cred, PollInterval: time.Second, Timeout: 10 * time.Second,
		Wait: func(ctx context.Context, _ time.Duration) error { *waits++; return ctx.Err() },
	})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestDeploy runs Deploy against the stand-in through the documented
// answers and failure modes.
func TestDeploy(t *testing.T) {
	for _, tc := range []struct {
		name     string
		k        script
		cred     fakeCredential
		wantErr  []string // substrings of the error; nil: success
		posts    int
		polls    int
		pollPath string
	}{
		{name: "202 then poll to success", k: script{accept: 202, statuses: []int{notFound, statusPending, statusBuilding, statusDeploying, statusSuccess}},
			posts: 1, polls: 5, pollPath: "/api/deployments/dep-1"},
		{name: "200 then latest", k: script{accept: 200, statuses: []int{statusSuccess}},
			posts: 1, polls: 1, pollPath: "/api/deployments/latest"},
		{name: "409 in progress then accepted", k: script{conflicts: 2, accept: 202, statuses: []int{statusSuccess}},
			posts: 3, polls: 1, pollPath: "/api/deployments/dep-1"},
		{name: "409 for good", k: script{conflicts: 1 << 30, accept: 202},
			wantErr: []string{"409 Conflict", "for 10s", "/api/deployments/latest"}, posts: 11},
		{name: "failed with its log", k: script{accept: 202, statuses: []int{statusBuilding, statusFailed},
			failText: "App setting WEBSITE_RUN_FROM_PACKAGE is not supported\nfor Flex Consumption"},
			wantErr: []string{"deployment dep-1 failed", "WEBSITE_RUN_FROM_PACKAGE is not supported for Flex Consumption", "log: http://", "/api/deployments/dep-1/log"},
			posts:   1, polls: 2},
		{name: "cancelled by a conflict", k: script{accept: 202, statuses: []int{statusConflict}},
			wantErr: []string{"cancelled by a conflicting deployment"}, posts: 1, polls: 1},
		{name: "record gone after in progress: worker recycled", k: script{accept: 202, statuses: []int{notFound, statusBuilding, notFound}},
			posts: 1, polls: 3, pollPath: "/api/deployments/dep-1"},
		{name: "record never appears: recycled before the first poll", k: script{accept: 202, statuses: []int{notFound}},
			posts: 1, polls: notFoundLimit, pollPath: "/api/deployments/dep-1"},
		{name: "404s then the record", k: script{accept: 202, statuses: []int{notFound, notFound, notFound, statusDeploying, statusSuccess}},
			posts: 1, polls: 5, pollPath: "/api/deployments/dep-1"},
		{name: "never finishes", k: script{accept: 202, statuses: []int{statusBuilding}},
			wantErr: []string{"did not finish within 10s", "last: status building"}, posts: 1, polls: 11},
		{name: "401 token refused", k: script{unauthorized: "token audience mismatch"},
			wantErr: []string{"401 Unauthorized", "scope " + ARMScope, "token audience mismatch"}, posts: 1},
		{name: "no token", cred: fakeCredential{err: errors.New("AzureCLICredential: please run 'az login'\nto set up account")},
			wantErr: []string{"no token for scope " + ARMScope, "please run 'az login' to set up account"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k := (&kudu{script: tc.k, t: t}).start()
			waits := 0
			err := deployer(t, tc.cred, &waits).Deploy(context.Background(), Target{App: "fb-x-r1-function1", SCMURL: k.srv.URL, Package: pkg(t)})
			if tc.wantErr == nil {
				if err != nil {
					t.Fatal(err)
				}
				if got := k.zip; !bytes.Equal(got, []byte("PK\x03\x04 lab functions")) {
					t.Errorf("published %q", got)
				}
			} else {
				if err == nil {
					t.Fatalf("no error, want %q", tc.wantErr)
				}
				for _, w := range tc.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q lacks %q", err, w)
					}
				}
				if strings.Contains(err.Error(), "\n") || !strings.Contains(err.Error(), "fb-x-r1-function1") {
					t.Errorf("error is not one line naming the app: %q", err)
				}
			}
			if n := k.count("POST /api/publish"); n != tc.posts {
				t.Errorf("%d publishes, want %d (%v)", n, tc.posts, k.log())
			}
			if n := k.count("GET "); n != tc.polls {
				t.Errorf("%d status polls, want %d (%v)", n, tc.polls, k.log())
			}
			if tc.pollPath != "" && k.count("GET "+tc.pollPath) != tc.polls {
				t.Errorf("polled %v, want %s", k.log(), tc.pollPath)
			}
		})
	}
}

// TestDeployStopsOnCancel: a run being torn down cancels the context;
// Deploy returns at once with the cancellation and sends nothing more, so
// the teardown never waits on a deployment.
func TestDeployStopsOnCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	k := (&kudu{t: t, script: script{accept: 202, statuses: []int{statusBuilding}, onPoll: func(n int) {
		if n == 2 {
			cancel()
		}
	}}}).start()
	waits := 0
	err := deployer(t, fakeCredential{}, &waits).Deploy(ctx, Target{App: "a", SCMURL: k.srv.URL, Package: pkg(t)})
	if !errors.Is(err, context.Canceled) && (err == nil || !strings.Contains(err.Error(), "context canceled")) {
		t.Fatalf("err = %v, want the cancellation", err)
	}
	if n := k.count("GET "); n != 2 {
		t.Errorf("%d polls after the cancel at the second, want 2: %v", n, k.log())
	}
}

// TestDeployBoundedOnTheClock: an SCM site that takes each status poll
// and never answers holds Deploy no longer than Config.Timeout, although
// the HTTP client's own timeout (5 minutes) and the poll count would let
// it wait far longer.
func TestDeployBoundedOnTheClock(t *testing.T) {
	k := (&kudu{t: t, script: script{accept: 202, statuses: []int{statusBuilding}, hang: true}}).start()
	d, err := New(Config{Credential: fakeCredential{}, PollInterval: time.Second, Timeout: 200 * time.Millisecond,
		Wait: func(ctx context.Context, _ time.Duration) error { return ctx.Err() }})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- d.Deploy(context.Background(), Target{App: "a", SCMURL: k.srv.URL, Package: pkg(t)}) }()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "did not finish within 200ms") {
			t.Fatalf("err = %v, want the time limit", err)
		}
	case <-time.After(time.Minute): // a watchdog, not a timing claim
		t.Fatal("Deploy still waits on a silent SCM site a minute past its 200ms limit")
	}
}

// TestDeployRefusesBadInput before sending anything.
func TestDeployRefusesBadInput(t *testing.T) {
	k := (&kudu{t: t, script: script{accept: 202, statuses: []int{statusSuccess}}}).start()
	empty := filepath.Join(t.TempDir(), "empty.zip")
	if err := os.WriteFile(empty, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	waits := 0
	d := deployer(t, fakeCredential{}, &waits)
	for _, tc := range []struct {
		target Target
		want   string
	}{
		{Target{App: "a", SCMURL: k.srv.URL, Package: filepath.Join(t.TempDir(), "missing.zip")}, "package"},
		{Target{App: "a", SCMURL: k.srv.URL, Package: empty}, "is empty"},
		{Target{App: "a", SCMURL: "http://a.scm.azurewebsites.net", Package: pkg(t)}, "SCM URL"},
	} {
		if err := d.Deploy(context.Background(), tc.target); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: err = %v, want %q", tc.target, err, tc.want)
		}
	}
	if n := len(k.log()); n != 0 {
		t.Errorf("%d requests sent for bad input", n)
	}
}

func TestNewCredential(t *testing.T) {
	env := func(kv map[string]string) func(string) string { return func(k string) string { return kv[k] } }
	if _, err := NewCredential(env(map[string]string{"ARM_CLIENT_ID": "id"})); err == nil || !strings.Contains(err.Error(), "together") {
		t.Errorf("partial service principal: err = %v", err)
	}
	c, err := NewCredential(env(map[string]string{"ARM_CLIENT_ID": "id", "ARM_CLIENT_SECRET": "s", "ARM_TENANT_ID": "00000000-0000-0000-0000-000000000000"}))
	if err != nil || fmt.Sprintf("%T", c) != "*azidentity.ClientSecretCredential" {
		t.Errorf("service principal: %T, %v", c, err)
	}
	if c, err := NewCredential(env(nil)); err != nil || fmt.Sprintf("%T", c) != "*azidentity.AzureCLICredential" {
		t.Errorf("no variables: %T, %v (want the az login credential)", c, err)
	}
}
