package doctor

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go/logging"

	"github.com/faas-benchmarker/faas-benchmarker/results/blobstore"
	"github.com/faas-benchmarker/faas-benchmarker/stacks/stackcfg"
)

// awsConfig loads the AWS default credential chain for region.
func (e Env) awsConfig(ctx context.Context, region string) (aws.Config, error) {
	cfg, err := awsconfig.LoadDefaultConfig(ctx, awsconfig.WithRegion(region), awsconfig.WithLogger(logging.Nop{}))
	if err != nil {
		return cfg, err
	}
	if e.AWSEndpoint != "" {
		cfg.BaseEndpoint = aws.String(e.AWSEndpoint)
	}
	return cfg, nil
}

// AWSCredentials calls STS GetCallerIdentity, which any valid AWS
// credentials may call and which creates nothing.
func AWSCredentials(e Env, region string) Check {
	return checkFunc{"aws credentials", func(ctx context.Context) Result {
		fix := "set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or run aws configure)"
		cfg, err := e.awsConfig(ctx, region)
		if err != nil {
			return problem(err.Error(), fix)
		}
		// Resolve the credentials first (local for keys and profiles), so
		// that missing ones are named without a network call.
		if _, err := cfg.Credentials.Retrieve(ctx); err != nil {
			return problem("aws: no usable credentials: "+err.Error(), fix)
		}
		out, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		if err != nil {
			return problem("STS GetCallerIdentity: "+err.Error(), fix)
		}
		return ok(fmt.Sprintf("account %s as %s", aws.ToString(out.Account), aws.ToString(out.Arn)))
	}}
}

// LambdaAccount calls Lambda GetAccountSettings and compares the account's
// unreserved concurrency with what the experiment needs. (The account's
// memory quota — 3008 MB on some new accounts — is not part of that
// reply; a stack asking for more fails at deploy with the quota named.)
func LambdaAccount(e Env, region string) Check {
	return checkFunc{"lambda account limits", func(ctx context.Context) Result {
		cfg, err := e.awsConfig(ctx, region)
		if err == nil {
			_, err = cfg.Credentials.Retrieve(ctx)
		}
		if err != nil {
			return problem("not checked: no usable AWS credentials", "fix the AWS credentials first")
		}
		out, err := lambda.NewFromConfig(cfg).GetAccountSettings(ctx, &lambda.GetAccountSettingsInput{})
		if err != nil {
			return problem("Lambda GetAccountSettings in "+region+": "+err.Error(), "allow lambda:GetAccountSettings for these credentials")
		}
		if out.AccountLimit == nil {
			return problem("GetAccountSettings returned no AccountLimit", "retry; check the region")
		}
		total := out.AccountLimit.ConcurrentExecutions
		free := aws.ToInt32(out.AccountLimit.UnreservedConcurrentExecutions)
		if e.Concurrency > 0 && int(free) < e.Concurrency {
			return problem(fmt.Sprintf("the account allows %d unreserved concurrent executions in %s (of %d), the experiment makes up to %d at once",
				free, region, total, e.Concurrency),
				"request a higher \"Concurrent executions\" quota in Service Quotas, or lower the experiment's concurrency")
		}
		return ok(fmt.Sprintf("%d concurrent executions (%d unreserved) in %s", total, free, region))
	}}
}

// stateBucket lists the .pulumi/ prefix of an s3:// state backend.
func stateBucket(ctx context.Context, e Env, raw string) Result {
	bucket, endpoint, region, err := parseS3Backend(raw)
	if err != nil {
		return problem(err.Error(), "use s3://<bucket>?endpoint=<url>&region=<r>")
	}
	// A URL that names a profile (the permanent stack's does) is read with
	// the Spaces key pair, which fbrun hands to the Pulumi CLI as that
	// profile; the AWS_* variables belong to the AWS account.
	id, secret := e.getenv("AWS_ACCESS_KEY_ID"), e.getenv("AWS_SECRET_ACCESS_KEY")
	fix := "set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY to a key of that bucket"
	if u, err := url.Parse(raw); err == nil && u.Query().Get("profile") != "" {
		id, secret = e.getenv("SPACES_ACCESS_KEY_ID"), e.getenv("SPACES_SECRET_ACCESS_KEY")
		fix = "export SPACES_ACCESS_KEY_ID/SPACES_SECRET_ACCESS_KEY (the Spaces key pair; fbrun gives it to the Pulumi CLI as profile " +
			u.Query().Get("profile") + ")"
		if id == "" || secret == "" {
			return problem("no Spaces key pair for the state bucket", fix)
		}
	}
	store, err := blobstore.New(ctx, blobstore.Config{Bucket: bucket, Endpoint: endpoint, Region: region,
		UsePathStyle: strings.Contains(raw, "PathStyle=true") || strings.Contains(raw, "path_style=true"),
		AccessKeyID:  id, SecretAccessKey: secret})
	if err != nil {
		return problem(err.Error(), "check the backend URL")
	}
	objs, err := store.List(ctx, ".pulumi/")
	if err != nil {
		return problem("cannot list the state bucket: "+err.Error(), fix)
	}
	return ok(fmt.Sprintf("bucket %s reachable (%d state objects)", bucket, len(objs)))
}

// getJSON sends a GET with a bearer token and decodes a JSON reply.
func getJSON(ctx context.Context, u, token string, v any) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return resp.StatusCode, fmt.Errorf("%s", resp.Status)
	}
	return resp.StatusCode, json.NewDecoder(http.MaxBytesReader(nil, resp.Body, 1<<20)).Decode(v)
}

// AzureCredentials checks a service principal the way the azure-native
// provider uses it: a client-credentials token from Microsoft Entra ID
// (POST {login}/{tenant}/oauth2/v2.0/token), then GET the subscription
// from Azure Resource Manager (api-version 2022-12-01), which must be
// Enabled. Without ARM_* variables it falls back to `az account show`.
func AzureCredentials(e Env) Check {
	return checkFunc{"azure credentials", func(ctx context.Context) Result {
		fix := "set ARM_CLIENT_ID, ARM_CLIENT_SECRET, ARM_TENANT_ID and ARM_SUBSCRIPTION_ID, or run az login"
		id, secret, tenant, sub := e.getenv("ARM_CLIENT_ID"), e.getenv("ARM_CLIENT_SECRET"), e.getenv("ARM_TENANT_ID"), e.getenv("ARM_SUBSCRIPTION_ID")
		if id == "" || secret == "" || tenant == "" || sub == "" {
			if _, err := execLook("az"); err == nil {
				out, err := execOutput(ctx, "az", "account", "show", "--output", "json")
				if err == nil {
					var acc struct{ ID, State string }
					if json.Unmarshal(out, &acc) == nil && acc.State == "Enabled" {
						return ok("az login: subscription " + acc.ID)
					}
				}
			}
			return problem("no ARM_* service principal and no az login", fix)
		}
		login, mgmt := e.AzureLoginURL, e.AzureManagementURL
		if login == "" {
			login = "https://login.microsoftonline.com"
		}
		if mgmt == "" {
			mgmt = "https://management.azure.com"
		}
		form := url.Values{"grant_type": {"client_credentials"}, "client_id": {id}, "client_secret": {secret},
			"scope": {strings.TrimRight(mgmt, "/") + "/.default"}}
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, login+"/"+url.PathEscape(tenant)+"/oauth2/v2.0/token", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return problem("Entra ID token: "+err.Error(), fix)
		}
		var tok struct {
			AccessToken string `json:"access_token"`
			Error       string `json:"error"`
			Description string `json:"error_description"`
		}
		_ = json.NewDecoder(http.MaxBytesReader(nil, resp.Body, 1<<20)).Decode(&tok)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || tok.AccessToken == "" {
			return problem(fmt.Sprintf("Entra ID refused the service principal: %s %s", tok.Error, firstLine(tok.Description)), fix)
		}
		var s struct {
			SubscriptionID string `json:"subscriptionId"`
			DisplayName    string `json:"displayName"`
			State          string `json:"state"`
		}
		if _, err := getJSON(ctx, mgmt+"/subscriptions/"+url.PathEscape(sub)+"?api-version=2022-12-01", tok.AccessToken, &s); err != nil {
			return problem("subscription "+sub+": "+err.Error(), "give the service principal a role on the subscription (e.g. Contributor)")
		}
		if s.State != "Enabled" {
			return problem(fmt.Sprintf("subscription %s is %s", sub, s.State), "use an enabled subscription")
		}
		return ok(fmt.Sprintf("subscription %s (%s)", s.SubscriptionID, s.DisplayName))
	}}
}

// DigitalOceanCredentials calls GET /v2/account with DIGITALOCEAN_TOKEN.
func DigitalOceanCredentials(e Env) Check {
	return checkFunc{"digitalocean credentials", func(ctx context.Context) Result {
		fix := "export DIGITALOCEAN_TOKEN=<a personal access token with write scope>"
		token := e.getenv("DIGITALOCEAN_TOKEN")
		if token == "" {
			return problem("no DIGITALOCEAN_TOKEN", fix)
		}
		base := e.DigitalOceanURL
		if base == "" {
			base = "https://api.digitalocean.com"
		}
		var acc struct {
			Account struct {
				Email  string `json:"email"`
				Status string `json:"status"`
			} `json:"account"`
		}
		if _, err := getJSON(ctx, base+"/v2/account", token, &acc); err != nil {
			return problem("GET /v2/account: "+err.Error(), fix)
		}
		if acc.Account.Status != "active" {
			return problem("account status "+acc.Account.Status, "resolve the account's status in the DigitalOcean console")
		}
		return ok("account " + acc.Account.Email)
	}}
}

// StackSettings applies the run's stack settings to the defaults of
// stack program platform and validates them, as the run will before any
// resource exists.
func StackSettings(platform stackcfg.Platform, sets []string) Check {
	return checkFunc{"stack settings", func(context.Context) Result {
		s, err := stackcfg.New(platform)
		if err != nil {
			return problem(err.Error(), "pick a known platform")
		}
		for _, k := range []string{"experiment", "run"} {
			_ = s.Set(k, "doctor") // the permanent stack has neither key
		}
		// As the runner does: a secret comes from its environment
		// variable, and the OpenFaaS gateway password, when not given, is
		// generated per run.
		for _, k := range stackcfg.SecretKeys() {
			env, _ := stackcfg.SecretEnv(k)
			if v := os.Getenv(env); v != "" {
				if err := s.Set(k, v); err != nil {
					return problem(env+": "+err.Error(), "fix or unset "+env)
				}
			}
		}
		if g, ok := s.(stackcfg.RunSecrets); ok {
			_ = g.FillRunSecrets(func() (string, error) { return "generated-per-run", nil })
		}
		if err := stackcfg.ApplyOverrides(s, sets); err != nil {
			return problem(err.Error(), "pass the missing or corrected keys with --stack-set KEY=VALUE (docs/infrastructure.md)")
		}
		return ok(fmt.Sprintf("%s stack settings valid", platform))
	}}
}

// Artifacts checks that the function packages a stack deploys exist.
func Artifacts(platform stackcfg.Platform, sets []string) Check {
	return checkFunc{"function packages", func(context.Context) Result {
		s, err := stackcfg.New(platform)
		if err != nil {
			return problem(err.Error(), "pick a known platform")
		}
		for _, o := range sets {
			if k, v, err := stackcfg.ParseOverride(o); err == nil {
				_ = s.Set(k, v)
			}
		}
		a, isArt := s.(interface{ Artifact(lab string) string })
		if !isArt {
			return ok("none needed (the stack deploys container images)")
		}
		var missing, found []string
		for _, lab := range stackcfg.LabFunctions() {
			p := a.Artifact(lab)
			if _, err := os.Stat(p); err != nil {
				missing = append(missing, p)
			} else {
				found = append(found, p)
			}
		}
		if len(missing) > 0 {
			return problem("missing "+strings.Join(dedup(missing), ", "), "run scripts/build-functions (in a source checkout), or set fb:artifactDir with --stack-set")
		}
		return ok(strings.Join(dedup(found), ", "))
	}}
}

func dedup(xs []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, x := range xs {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}
