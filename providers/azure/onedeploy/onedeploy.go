// Package onedeploy publishes a function app's package to an Azure
// Functions app on the Flex Consumption plan with One Deploy, the one
// deployment technology of that plan, and waits for the deployment to
// settle.
//
// What it does, and where that is documented:
//
//   - One Deploy is the deployment technology of Flex Consumption apps
//     (Microsoft Learn, "Deployment technologies in Azure Functions",
//     table "Deployment technology availability": One deploy is available
//     on Flex Consumption only; "Package-based deployment for Azure
//     Functions": Flex Consumption uses managed package deployment, and
//     WEBSITE_RUN_FROM_PACKAGE must not be set). The package goes to
//     POST https://<scm host>/api/publish?RemoteBuild=false as
//     application/zip — the request `az functionapp deployment source
//     config-zip` sends to a Flex app (azure-cli appservice custom.py,
//     enable_zip_deploy_flex) and azd sends (Azure/azure-dev
//     pkg/azsdk/funcapp_host_client.go; protocol in Azure/azure-dev#3658).
//     The platform stores the package in the app's deployment container
//     (functionAppConfig.deployment.storage) itself.
//   - Authentication is a Microsoft Entra bearer token for the Azure
//     Resource Manager scope (ARMScope), as azd and the az CLI send it; a
//     token for another scope is refused with 401.
//   - 202 Accepted carries the deployment id as a JSON string; the status
//     is then read from GET /api/deployments/<id> (or /latest), whose
//     body — not the HTTP status, which is 200 while the deployment runs
//     and after it failed — says how it went: status -1 cancelled, 0
//     pending, 1 building, 2 deploying, 3 failed, 4 success, 5 conflict, 6
//     partial success; a failure carries status_text and log_url. Right
//     after the publish the id may answer 404 for a few polls; a 404 after
//     the record was seen in progress is the deployment worker recycled
//     once the deployment completed (azd, funcapp_host_client.go), and a
//     record may be recycled before it is ever read
//     (microsoft/vscode-azuretools#1739): both end the wait with the
//     outcome left to the caller's readiness probe.
//   - 409 Conflict means another deployment is in progress ("There is a
//     deployment currently in progress. Please try again when it
//     completes.", Kudu): the publish is retried after it.
//   - No manual trigger sync: trigger syncing is automatic for every
//     deployment technology but external package URL, local Git and FTPS
//     ("Deployment technologies in Azure Functions", "Trigger syncing").
//
// Every call is bounded by Config.Timeout on the clock, whatever the
// number of polls, and returns as soon as its context is cancelled: a run
// being torn down never waits for a deployment. The API is exercised here against an httptest stand-in
// written from the above; a real Flex app has not been deployed to from
// this code (see docs/infrastructure.md).
package onedeploy

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/faas-benchmarker/faas-benchmarker/providers/internal/httpx"
)

// ARMScope is the token scope the publish and status requests carry: the
// Azure Resource Manager audience exactly as Microsoft's Flex deployment
// clients ask for it — azd's FuncAppHostClient builds its pipeline with
// armruntime.NewPipeline, whose scope is the public cloud's Resource
// Manager audience "https://management.core.windows.net/" + "/.default"
// (azcore arm/runtime/runtime.go, pipeline.go), and the az CLI's Flex
// deployment takes the token for active_directory_resource_id, the same
// audience. Resource Manager also accepts https://management.azure.com
// tokens; that the SCM site does is not documented, so it is not used.
const ARMScope = "https://management.core.windows.net//.default"

// Defaults of Config.
const (
	// DefaultPollInterval is the wait between status polls and between
	// publish attempts refused with 409: 1 s, the interval the Functions
	// service team recommends, as a Flex deployment's record can be
	// recycled soon after it completes (microsoft/vscode-azuretools#1739;
	// azd's FuncAppHostClient polls every second too).
	DefaultPollInterval = time.Second
	// DefaultTimeout bounds one app's deployment: the waits for another
	// deployment to finish plus the status polling.
	DefaultTimeout = 10 * time.Minute
)

// Kudu deployment status values (GET /api/deployments/<id>, "status").
const (
	statusCancelled = -1
	statusPending   = 0
	statusBuilding  = 1
	statusDeploying = 2
	statusFailed    = 3
	statusSuccess   = 4
	statusConflict  = 5
	statusPartial   = 6
)

// notFoundLimit is how many polls in a row may answer 404 before the
// deployment record was ever read. A record that never appears was
// recycled before the first poll (microsoft/vscode-azuretools#1739) — or
// the deployment failed early, which Kudu has also answered with 404
// (Azure/azure-dev#4439): the wait then ends without a verdict and the
// caller's readiness probe decides. azd gives up after 4 retries at 1 s;
// this allows 10.
const notFoundLimit = 10

// maxBody bounds how much of a response is read.
const maxBody = 1 << 20

// Config configures a Deployer.
type Config struct {
	// Credential issues the ARMScope tokens (required; see NewCredential).
	Credential azcore.TokenCredential
	// HTTPClient sends the requests; nil means a client with a 5-minute
	// timeout per request (the upload is one request).
	HTTPClient *http.Client
	// PollInterval is DefaultPollInterval when 0.
	PollInterval time.Duration
	// Timeout is DefaultTimeout when 0.
	Timeout time.Duration
	// Wait waits d or until ctx ends (nil: a timer). Tests replace it.
	Wait func(ctx context.Context, d time.Duration) error
	// Logger receives progress (nil: discard).
	Logger *slog.Logger
}

// Target is one app to deploy.
type Target struct {
	// App is the function app's name, for messages.
	App string
	// SCMURL is the app's SCM (Kudu) site, e.g.
	// https://fb-x-r1-function1.scm.azurewebsites.net; plain http only for
	// a loopback host (tests).
	SCMURL string
	// Package is the path of the zip to publish.
	Package string
}

// Deployer publishes packages with One Deploy. It is safe for concurrent
// use on different apps.
type Deployer struct {
	cfg Config
}

// New validates cfg and returns a Deployer.
func New(cfg Config) (*Deployer, error) {
	if cfg.Credential == nil {
		return nil, errors.New("azure one deploy: no credential")
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 5 * time.Minute}
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = DefaultPollInterval
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.Wait == nil {
		cfg.Wait = wait
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Deployer{cfg: cfg}, nil
}

// NewCredential returns the credential the Azure stack's Pulumi provider
// uses too: the service principal in ARM_CLIENT_ID, ARM_CLIENT_SECRET and
// ARM_TENANT_ID when they are set, else the Azure CLI's login (az login).
func NewCredential(getenv func(string) string) (azcore.TokenCredential, error) {
	id, secret, tenant := getenv("ARM_CLIENT_ID"), getenv("ARM_CLIENT_SECRET"), getenv("ARM_TENANT_ID")
	switch {
	case id != "" && secret != "" && tenant != "":
		return azidentity.NewClientSecretCredential(tenant, id, secret, nil)
	case id != "" || secret != "" || tenant != "":
		return nil, errors.New("azure: set ARM_CLIENT_ID, ARM_CLIENT_SECRET and ARM_TENANT_ID together (or none, to use az login)")
	}
	return azidentity.NewAzureCLICredential(nil)
}

// Deploy publishes t.Package to t's app and waits until the deployment
// succeeded. Every failure is one line naming the app; a failed
// deployment's error carries its log URL.
func (d *Deployer) Deploy(ctx context.Context, t Target) error {
	if err := httpx.CheckURL(t.SCMURL, true); err != nil {
		return fmt.Errorf("azure one deploy %s: SCM URL: %w", t.App, err)
	}
	zip, err := os.ReadFile(t.Package)
	if err != nil {
		return fmt.Errorf("azure one deploy %s: package: %w", t.App, err)
	}
	if len(zip) == 0 {
		return fmt.Errorf("azure one deploy %s: package %s is empty", t.App, t.Package)
	}
	// The time limit bounds the whole call on the clock too: the poll
	// count alone does not, as each request may take up to the HTTP
	// client's timeout (an SCM site that accepts connections and never
	// answers would hold the run for polls × 5 minutes).
	ctx, cancel := context.WithTimeoutCause(ctx, d.cfg.Timeout, errBudget)
	defer cancel()
	r := &run{d: d, t: t, scm: strings.TrimRight(t.SCMURL, "/"), polls: int(d.cfg.Timeout / d.cfg.PollInterval)}
	id, err := r.publish(ctx, zip)
	if err != nil {
		return err
	}
	return r.await(ctx, id)
}

// run is one Deploy call: its target and its remaining polls.
type run struct {
	d     *Deployer
	t     Target
	scm   string
	polls int // waits left before the deployment is given up on
}

// pause consumes one poll and waits the poll interval; it returns
// errBudget when no poll is left, or ctx's error.
func (r *run) pause(ctx context.Context) error {
	if r.polls <= 0 {
		return errBudget
	}
	r.polls--
	return r.d.cfg.Wait(ctx, r.d.cfg.PollInterval)
}

var errBudget = errors.New("time limit reached")

// publish POSTs the zip, retrying while another deployment is in progress
// (409), and returns the deployment id ("latest" when the answer names
// none).
func (r *run) publish(ctx context.Context, zip []byte) (string, error) {
	u := r.scm + "/api/publish?RemoteBuild=false"
	for {
		status, h, body, err := r.do(ctx, http.MethodPost, u, zip)
		if errors.Is(context.Cause(ctx), errBudget) {
			return "", r.failf("publish did not finish within %v; follow it at %s/api/deployments/latest", r.d.cfg.Timeout, r.scm)
		}
		if err != nil {
			return "", r.failf("publish: %w", err)
		}
		switch {
		case status == http.StatusAccepted || status == http.StatusOK:
			var id string
			if json.Unmarshal(body, &id) != nil || id == "" || strings.ContainsAny(id, "/?#") {
				id = "latest"
			}
			r.d.cfg.Logger.Info("one deploy: package accepted", "app", r.t.App, "status", status, "deployment", id)
			return id, nil
		case status == http.StatusConflict:
			r.d.cfg.Logger.Info("one deploy: another deployment is in progress, retrying", "app", r.t.App)
			if err := r.pause(ctx); errors.Is(err, errBudget) || errors.Is(context.Cause(ctx), errBudget) {
				return "", r.failf("another deployment kept the app busy (409 Conflict) for %v; follow it at %s/api/deployments/latest",
					r.d.cfg.Timeout, r.scm)
			} else if err != nil {
				return "", r.failf("publish: %w", err)
			}
		default:
			return "", r.httpError("publish", status, h, body)
		}
	}
}

// deployment is the part of Kudu's deployment record read here.
type deployment struct {
	ID         string `json:"id"`
	Status     *int   `json:"status"`
	StatusText string `json:"status_text"`
	LogURL     string `json:"log_url"`
}

// await polls the deployment until it ends, the time limit is reached or
// ctx ends. 404 before any record (the record is not there yet; up to
// notFoundLimit polls in a row), 5xx and transport errors (the SCM site
// restarts with the app) are retried within the limit. A 404 after the record was seen in progress is the
// deployment worker recycled once the deployment completed (azd's
// FuncAppHostClient.waitForDeployment, Azure/azure-dev
// cli/azd/pkg/azsdk/funcapp_host_client.go, takes it for the end of the
// deployment): the outcome is then unknown here, the wait ends without an
// error and the caller's readiness probe of the app decides.
func (r *run) await(ctx context.Context, id string) error {
	u := r.scm + "/api/deployments/" + id
	last := "no answer yet"
	seen := false // a record in progress was read
	notFound := 0 // 404s in a row before any record
	for {
		status, h, body, err := r.do(ctx, http.MethodGet, u, nil)
		var dep deployment
		switch {
		case errors.Is(context.Cause(ctx), errBudget):
			return r.failf("deployment %s did not finish within %v (last: %s); follow it at %s", id, r.d.cfg.Timeout, last, u)
		case ctx.Err() != nil:
			return r.failf("deployment %s: %w", id, ctx.Err())
		case err != nil:
			last = err.Error()
		case status == http.StatusNotFound && seen:
			r.d.cfg.Logger.Warn("one deploy: the deployment record is gone after it was in progress (the deployment worker recycled "+
				"when it completed); the readiness probe decides whether the app runs the package", "app", r.t.App, "deployment", id)
			return nil
		case status == http.StatusNotFound && notFound+1 >= notFoundLimit:
			r.d.cfg.Logger.Warn("one deploy: the deployment record never appeared (recycled before it was read, or the deployment "+
				"failed early; see its log in the portal's Deployment Center); the readiness probe decides whether the app runs the package",
				"app", r.t.App, "deployment", id, "polls", notFoundLimit)
			return nil
		case status == http.StatusNotFound:
			notFound++
			last = fmt.Sprintf("HTTP %d", status)
		case status >= 500:
			last = fmt.Sprintf("HTTP %d", status)
		case status != http.StatusOK && status != http.StatusAccepted:
			return r.httpError("deployment status", status, h, body)
		case json.Unmarshal(body, &dep) != nil || dep.Status == nil:
			return r.failf("deployment %s: unreadable status %q", id, snippet(body))
		default:
			done, err := r.outcome(id, dep)
			if done {
				return err
			}
			seen, notFound = true, 0
			last = "status " + statusName(*dep.Status)
		}
		if err := r.pause(ctx); errors.Is(err, errBudget) || errors.Is(context.Cause(ctx), errBudget) {
			return r.failf("deployment %s did not finish within %v (last: %s); follow it at %s", id, r.d.cfg.Timeout, last, u)
		} else if err != nil {
			return r.failf("deployment %s: %w", id, err)
		}
	}
}

// outcome says whether dep has ended, and how.
func (r *run) outcome(id string, dep deployment) (bool, error) {
	st := *dep.Status
	switch st {
	case statusSuccess:
		r.d.cfg.Logger.Info("one deploy: deployment succeeded", "app", r.t.App, "deployment", id)
		return true, nil
	case statusPending, statusBuilding, statusDeploying:
		return false, nil
	}
	log := dep.LogURL
	if log == "" {
		log = r.scm + "/api/deployments/" + id + "/log"
	}
	text := dep.StatusText
	if text == "" {
		text = "no status text"
	}
	return true, r.failf("deployment %s %s: %s; log: %s", id, statusName(st), oneLine(text), log)
}

// statusName names a Kudu deployment status.
func statusName(s int) string {
	switch s {
	case statusCancelled:
		return "cancelled"
	case statusPending:
		return "pending"
	case statusBuilding:
		return "building"
	case statusDeploying:
		return "deploying"
	case statusFailed:
		return "failed"
	case statusSuccess:
		return "succeeded"
	case statusConflict:
		return "cancelled by a conflicting deployment"
	case statusPartial:
		return "partly succeeded"
	}
	return fmt.Sprintf("in unknown state %d", s)
}

// do sends one authenticated request and reads (a bounded part of) the
// answer.
func (r *run) do(ctx context.Context, method, u string, body []byte) (int, http.Header, []byte, error) {
	tok, err := r.d.cfg.Credential.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{ARMScope}})
	if err != nil {
		return 0, nil, nil, fmt.Errorf("no token for scope %s (sign in with az login or set ARM_CLIENT_ID/ARM_CLIENT_SECRET/ARM_TENANT_ID): %s",
			ARMScope, oneLine(err.Error()))
	}
	req, err := http.NewRequestWithContext(ctx, method, u, bytes.NewReader(body))
	if err != nil {
		return 0, nil, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+tok.Token)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/zip")
	}
	resp, err := r.d.cfg.HTTPClient.Do(req)
	if err != nil {
		return 0, nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	return resp.StatusCode, resp.Header, b, err
}

// httpError turns a refused request into one line: 401 names the token
// scope, 403 the missing rights, 404 a missing app.
func (r *run) httpError(what string, status int, h http.Header, body []byte) error {
	switch status {
	case http.StatusUnauthorized:
		why := h.Get("WWW-Authenticate")
		if why == "" {
			why = snippet(body)
		}
		return r.failf("%s: 401 Unauthorized: the SCM site refused the token for scope %s (%s); sign in again (az login or ARM_* credentials)",
			what, ARMScope, oneLine(why))
	case http.StatusForbidden:
		return r.failf("%s: 403 Forbidden: the signed-in identity may not deploy to the app (it needs e.g. Website Contributor on it): %s",
			what, snippet(body))
	case http.StatusNotFound:
		return r.failf("%s: 404 at %s: the app does not exist (yet) or is not on Flex Consumption", what, r.scm)
	}
	return r.failf("%s: HTTP %d: %s", what, status, snippet(body))
}

// failf is an error naming the app.
func (r *run) failf(format string, args ...any) error {
	return fmt.Errorf("azure one deploy %s: "+format, append([]any{r.t.App}, args...)...)
}

// snippet is the start of body on one line.
func snippet(body []byte) string {
	s := oneLine(string(body))
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	if s == "" {
		return "empty body"
	}
	return s
}

// oneLine joins s's lines.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// wait waits d or until ctx ends.
func wait(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
