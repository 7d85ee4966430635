package doctor

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// awsStandIn speaks the two AWS APIs the checks call, in their documented
// wire formats, and refuses unsigned requests as AWS does:
//   - STS GetCallerIdentity: awsquery protocol, POST form Action=
//     GetCallerIdentity&Version=2011-06-15, XML reply
//     (https://docs.aws.amazon.com/STS/latest/APIReference/API_GetCallerIdentity.html);
//   - Lambda GetAccountSettings: GET /2016-08-19/account-settings, JSON
//     reply with AccountLimit (https://docs.aws.amazon.com/lambda/latest/api/API_GetAccountSettings.html).
func awsStandIn(t *testing.T, unreserved int) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 Credential=AKIDDOCTOR/") {
			w.WriteHeader(http.StatusForbidden)
			io.WriteString(w, `<ErrorResponse><Error><Type>Sender</Type><Code>InvalidClientTokenId</Code><Message>The security token included in the request is invalid.</Message></Error></ErrorResponse>`)
			return
		}
		body, _ := io.ReadAll(r.Body)
		switch {
		case r.Method == http.MethodPost && r.URL.Path == "/":
			q, _ := url.ParseQuery(string(body))
			if q.Get("Action") != "GetCallerIdentity" || q.Get("Version") != "2011-06-15" {
				t.Errorf("STS request %q", body)
				w.WriteHeader(http.StatusBadRequest)
				return
			}
			w.Header().Set("Content-Type", "text/xml")
			io.WriteString(w, `<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult>`+
				`<Arn>arn:aws:iam::123456789012:user/bench</Arn><UserId>AIDAEXAMPLE</UserId><Account>123456789012</Account>`+
				`</GetCallerIdentityResult><ResponseMetadata><RequestId>01234567-89ab-cdef-0123-456789abcdef</RequestId></ResponseMetadata></GetCallerIdentityResponse>`)
		case r.Method == http.MethodGet && r.URL.Path == "/2016-08-19/account-settings":
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"AccountLimit":{"TotalCodeSize":80530636800,"CodeSizeUnzipped":262144000,"CodeSizeZipped":52428800,`+
				`"ConcurrentExecutions":1000,"UnreservedConcurrentExecutions":`+itoa(unreserved)+`},"AccountUsage":{"TotalCodeSize":0,"FunctionCount":0}}`)
		default:
			t.Errorf("unexpected AWS request %s %s %q", r.Method, r.URL, body)
			w.WriteHeader(http.StatusNotFound)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func itoa(n int) string { return strconv.Itoa(n) }

func awsEnv(t *testing.T, srv *httptest.Server, key string, concurrency int) Env {
	t.Setenv("AWS_ACCESS_KEY_ID", key)
	t.Setenv("AWS_SECRET_ACCESS_KEY", "doctor-secret")
	t.Setenv("AWS_CONFIG_FILE", "/nonexistent")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
	return Env{AWSEndpoint: srv.URL, Concurrency: concurrency}
}

func run1(t *testing.T, c Check) Result {
	t.Helper()
	rs, _ := Run(context.Background(), []Check{c}, io.Discard)
	return rs[0]
}

func TestAWSChecks(t *testing.T) {
	tests := []struct {
		name        string
		key         string
		unreserved  int
		concurrency int
		check       func(Env) Check
		wantOK      bool
		want        string
	}{
		{"identity", "AKIDDOCTOR", 1000, 0, func(e Env) Check { return AWSCredentials(e, "eu-west-1") }, true, "account 123456789012 as arn:aws:iam::123456789012:user/bench"},
		{"bad key", "AKIDWRONG", 1000, 0, func(e Env) Check { return AWSCredentials(e, "eu-west-1") }, false, "InvalidClientTokenId"},
		{"concurrency enough", "AKIDDOCTOR", 900, 500, func(e Env) Check { return LambdaAccount(e, "eu-west-1") }, true, "1000 concurrent executions (900 unreserved)"},
		// New accounts get 10 concurrent executions: an experiment with
		// 100 callers would be throttled from the first second.
		{"concurrency too low", "AKIDDOCTOR", 10, 100, func(e Env) Check { return LambdaAccount(e, "eu-west-1") }, false, "allows 10 unreserved concurrent executions"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := awsStandIn(t, tt.unreserved)
			r := run1(t, tt.check(awsEnv(t, srv, tt.key, tt.concurrency)))
			if r.OK != tt.wantOK || !strings.Contains(r.Detail, tt.want) {
				t.Fatalf("result %+v, want ok=%v with %q", r, tt.wantOK, tt.want)
			}
			if !r.OK && r.Fix == "" {
				t.Error("a problem without a fix")
			}
		})
	}
}

// TestAzureCredentials: a stand-in for Microsoft Entra ID's token endpoint
// (client credentials grant, form-encoded, AADSTS errors as
// {"error","error_description"}) and for Azure Resource Manager's GET
// subscription (bearer token required, api-version 2022-12-01).
func TestAzureCredentials(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch {
		case r.Method == http.MethodPost && r.URL.Path == "/tenant-1/oauth2/v2.0/token":
			r.ParseForm()
			if r.Form.Get("grant_type") != "client_credentials" || r.Form.Get("client_id") != "app-1" || !strings.HasSuffix(r.Form.Get("scope"), "/.default") {
				w.WriteHeader(http.StatusBadRequest)
				io.WriteString(w, `{"error":"invalid_request","error_description":"AADSTS900144: malformed"}`)
				return
			}
			if r.Form.Get("client_secret") != "s3cret" {
				w.WriteHeader(http.StatusUnauthorized)
				io.WriteString(w, `{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided.\r\nTrace ID: x"}`)
				return
			}
			io.WriteString(w, `{"token_type":"Bearer","expires_in":3599,"ext_expires_in":3599,"access_token":"tok-1"}`)
		case r.Method == http.MethodGet && r.URL.Path == "/subscriptions/sub-1" && r.URL.Query().Get("api-version") == "2022-12-01":
			if r.Header.Get("Authorization") != "Bearer tok-1" {
				w.WriteHeader(http.StatusUnauthorized)
				io.WriteString(w, `{"error":{"code":"InvalidAuthenticationToken","message":"The access token is invalid."}}`)
				return
			}
			io.WriteString(w, `{"id":"/subscriptions/sub-1","subscriptionId":"sub-1","displayName":"Lab","state":"Enabled"}`)
		default:
			w.WriteHeader(http.StatusNotFound)
		}
	}))
	defer srv.Close()
	env := func(secret string) Env {
		vars := map[string]string{"ARM_CLIENT_ID": "app-1", "ARM_CLIENT_SECRET": secret, "ARM_TENANT_ID": "tenant-1", "ARM_SUBSCRIPTION_ID": "sub-1"}
		return Env{Getenv: func(k string) string { return vars[k] }, AzureLoginURL: srv.URL, AzureManagementURL: srv.URL}
	}
	if r := run1(t, AzureCredentials(env("s3cret"))); !r.OK || r.Detail != "subscription sub-1 (Lab)" {
		t.Errorf("valid principal: %+v", r)
	}
	if r := run1(t, AzureCredentials(env("wrong"))); r.OK || !strings.Contains(r.Detail, "AADSTS7000215") {
		t.Errorf("wrong secret: %+v", r)
	}
}

// TestDigitalOceanCredentials: a stand-in for GET /v2/account
// (https://docs.digitalocean.com/reference/api/api-reference/#operation/account_get).
func TestDigitalOceanCredentials(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Path != "/v2/account" || r.Header.Get("Authorization") != "Bearer dop_v1_good" {
			w.WriteHeader(http.StatusUnauthorized)
			io.WriteString(w, `{"id":"Unauthorized","message":"Unable to authenticate you"}`)
			return
		}
		io.WriteString(w, `{"account":{"droplet_limit":25,"floating_ip_limit":3,"email":"lab@example.com","uuid":"u1","email_verified":true,"status":"active","status_message":""}}`)
	}))
	defer srv.Close()
	for token, wantOK := range map[string]bool{"dop_v1_good": true, "dop_v1_bad": false, "": false} {
		e := Env{Getenv: func(k string) string {
			if k == "DIGITALOCEAN_TOKEN" {
				return token
			}
			return ""
		}, DigitalOceanURL: srv.URL}
		if r := run1(t, DigitalOceanCredentials(e)); r.OK != wantOK {
			t.Errorf("token %q: %+v", token, r)
		}
	}
}

// TestManagedChecks: the settings and package checks name what is missing
// and how to fix it, one line each.
func TestManagedChecks(t *testing.T) {
	empty := Env{Getenv: func(string) string { return "" }, StackSets: []string{"artifactDir=" + t.TempDir()}}
	var out bytes.Buffer
	Run(context.Background(), []Check{Passphrase(empty), Artifacts("aws", empty.StackSets),
		StackSettings("openfaas", []string{"image=x", "monolithImage=y", "gatewayPassword=0123456789abcdef"})}, &out)
	for _, want := range []string{
		"PROBLEM  stack passphrase: no PULUMI_CONFIG_PASSPHRASE — fix: export PULUMI_CONFIG_PASSPHRASE",
		"PROBLEM  function packages: missing ", "fix: run scripts/build-functions",
		"PROBLEM  stack settings: ", "fb:gatewayCidrs",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	if strings.Count(out.String(), "\n") != 3 {
		t.Errorf("not one line per check:\n%s", out.String())
	}
}

// fakePulumi writes a Pulumi CLI stand-in that lists the given plugins.
func fakePulumi(t *testing.T, pluginsJSON string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "pulumi")
	script := "#!/bin/sh\nif [ \"$1\" = plugin ]; then echo '" + pluginsJSON + "'; else echo v3.274.1; fi\n"
	if err := os.WriteFile(p, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestPluginsDownloadedOnFirstUse: as the docs say, a plugin that is not
// installed yet is fine — the Pulumi CLI downloads it on first use —
// unless downloads are disabled; fblocal, which is never published, is
// fine when fbrun-cloud serves it and a problem otherwise.
func TestPluginsDownloadedOnFirstUse(t *testing.T) {
	t.Setenv("PATH", t.TempDir()) // no pulumi-resource-* on PATH
	cli := fakePulumi(t, `[{"name":"aws","kind":"resource","version":"6.83.4"}]`)
	for _, tc := range []struct {
		name    string
		env     map[string]string
		served  map[string]string
		plugins []string
		ok      bool
		detail  string
	}{
		{"installed", nil, nil, []string{"aws"}, true, "aws 6.83.4"},
		{"downloaded on first use", nil, nil, []string{"aws", "eks", "kubernetes"}, true, "not installed yet: eks, kubernetes — the Pulumi CLI downloads them on first use"},
		{"downloads disabled", map[string]string{"PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true"}, nil, []string{"eks"}, false, "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION forbids"},
		{"fblocal served by fbrun-cloud", map[string]string{"PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true"}, map[string]string{"fblocal": "/opt/bin/fbrun-cloud"}, []string{"fblocal"}, true, "fblocal (served by /opt/bin/fbrun-cloud)"},
		{"fblocal without fbrun-cloud", nil, nil, []string{"fblocal"}, false, "fbrun-cloud serves it"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := Env{PulumiPath: cli, ServedPlugins: tc.served, Getenv: func(k string) string { return tc.env[k] }}
			r := run1(t, PulumiPlugins(e, tc.plugins...))
			if r.OK != tc.ok || !strings.Contains(r.Detail, tc.detail) {
				t.Fatalf("got ok=%v %q, want ok=%v with %q", r.OK, r.Detail, tc.ok, tc.detail)
			}
		})
	}
}
