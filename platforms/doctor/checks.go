package doctor

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/faas-benchmarker/faas-benchmarker/internal/hostdirs"
)

// Env is what the checks read: the environment, the run's settings and,
// for tests, the API endpoints of the stand-ins.
type Env struct {
	// Getenv reads a variable; nil means os.Getenv.
	Getenv func(string) string
	// PulumiPath is an explicit Pulumi CLI (--pulumi); empty means
	// $FB_PULUMI, pulumi on PATH, then $FB_TOOLS_DIR/bin/pulumi.
	PulumiPath string
	// BackendURL is the state backend (--state); empty means the default
	// file backend, which needs no check.
	BackendURL string
	// StackSets are the run's "key=value" stack settings.
	StackSets []string
	// Concurrency is the most concurrent invocations the experiment makes
	// (0: not checked against the account).
	Concurrency int
	// ServedPlugins maps a resource plugin name to the executable that
	// serves it itself (fbrun-cloud serves fblocal): such a plugin needs
	// no installation.
	ServedPlugins map[string]string
	// AWSEndpoint, AzureLoginURL, AzureManagementURL and DigitalOceanURL
	// replace the services' public endpoints (tests); empty means the
	// real ones.
	AWSEndpoint, AzureLoginURL, AzureManagementURL, DigitalOceanURL string
}

func (e Env) getenv(k string) string {
	if e.Getenv != nil {
		return e.Getenv(k)
	}
	return os.Getenv(k)
}

// findPulumi finds the Pulumi CLI as a run will (hostdirs.FindPulumi),
// reading the environment through e.
func (e Env) findPulumi() (string, error) {
	h := hostdirs.System()
	h.Getenv = e.getenv
	return h.FindPulumi(e.PulumiPath)
}

var versionRE = regexp.MustCompile(`^v?(\d+)\.(\d+)\.(\d+)`)

// PulumiCLI checks that the Pulumi CLI runs and is v3.
func PulumiCLI(e Env) Check {
	return checkFunc{"pulumi cli", func(ctx context.Context) Result {
		path, err := e.findPulumi()
		if err != nil {
			return problem(err.Error(), "install Pulumi (https://www.pulumi.com/docs/install/) or build the pinned one with scripts/tools/30-pulumi.sh")
		}
		out, err := exec.CommandContext(ctx, path, "version").Output()
		if err != nil {
			return problem(fmt.Sprintf("%s version: %v", path, err), "reinstall the Pulumi CLI")
		}
		v := strings.TrimSpace(string(out))
		m := versionRE.FindStringSubmatch(v)
		if m == nil || m[1] != "3" {
			return problem(fmt.Sprintf("%s reports version %q", path, v),
				"install Pulumi v3 (a CLI built without a stamped version is refused by the Automation API)")
		}
		return ok(v + " at " + path)
	}}
}

// PulumiPlugins checks the resource plugins the platform's stack needs:
// installed (`pulumi plugin ls --json`), on PATH as pulumi-resource-<name>,
// served by fbrun-cloud itself (Env.ServedPlugins), or — as the docs say —
// downloaded by the Pulumi CLI on first use, which is fine unless
// PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION forbids it. A plugin that
// is none of these (fblocal is never published) is a problem.
func PulumiPlugins(e Env, names ...string) Check {
	return checkFunc{"pulumi plugins", func(ctx context.Context) Result {
		path, err := e.findPulumi()
		if err != nil {
			return problem("no Pulumi CLI to ask", "install the Pulumi CLI first")
		}
		have := map[string]string{}
		if out, err := exec.CommandContext(ctx, path, "plugin", "ls", "--json").Output(); err == nil {
			var ps []struct {
				Name, Kind, Version string
			}
			if json.Unmarshal(out, &ps) == nil {
				for _, p := range ps {
					if p.Kind == "resource" {
						have[p.Name] = p.Version
					}
				}
			}
		}
		var missing, found []string
		for _, n := range names {
			if have[n] != "" {
				found = append(found, n+" "+have[n])
			} else if p, err := exec.LookPath("pulumi-resource-" + n); err == nil {
				found = append(found, n+" ("+p+")")
			} else if p := e.ServedPlugins[n]; p != "" {
				found = append(found, n+" (served by "+p+")")
			} else {
				missing = append(missing, n)
			}
		}
		if len(missing) == 0 {
			return ok(strings.Join(found, ", "))
		}
		var unpublished []string
		for _, n := range missing {
			if n == "fblocal" {
				unpublished = append(unpublished, n)
			}
		}
		if len(unpublished) > 0 {
			return problem("missing resource plugins: "+strings.Join(missing, ", ")+" (fblocal is not published: fbrun-cloud serves it)",
				"install fbrun-cloud next to fbrun (`go install ./cmd/...`)")
		}
		if v := strings.ToLower(e.getenv("PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION")); v == "true" || v == "1" {
			return problem("missing resource plugins: "+strings.Join(missing, ", ")+" and PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION forbids downloading them",
				"unset it to let the Pulumi CLI download them on first use, or `pulumi plugin install resource <name> <version> --file pulumi-resource-<name>` (versions in docs/infrastructure.md)")
		}
		detail := "not installed yet: " + strings.Join(missing, ", ") + " — the Pulumi CLI downloads them on first use (needs internet access)"
		if len(found) > 0 {
			detail = strings.Join(found, ", ") + "; " + detail
		}
		return ok(detail)
	}}
}

// Passphrase checks that the stack secrets passphrase is set.
func Passphrase(e Env) Check {
	return checkFunc{"stack passphrase", func(context.Context) Result {
		if e.getenv("PULUMI_CONFIG_PASSPHRASE") != "" {
			return ok("PULUMI_CONFIG_PASSPHRASE is set")
		}
		if f := e.getenv("PULUMI_CONFIG_PASSPHRASE_FILE"); f != "" {
			if _, err := os.Stat(f); err != nil {
				return problem("PULUMI_CONFIG_PASSPHRASE_FILE: "+err.Error(), "point it at a readable file")
			}
			return ok("PULUMI_CONFIG_PASSPHRASE_FILE=" + f)
		}
		return problem("no PULUMI_CONFIG_PASSPHRASE", "export PULUMI_CONFIG_PASSPHRASE=<secret> and keep it: destroying a stack later needs the same one")
	}}
}

// Backend checks that a file state backend's directory is writable; an
// s3:// backend is probed by StateBucket.
func Backend(e Env) Check {
	return checkFunc{"state backend", func(ctx context.Context) Result {
		u := e.BackendURL
		switch {
		case u == "":
			return ok("the default file backend under the data directory")
		case strings.HasPrefix(u, "file://"):
			dir := filepath.FromSlash(strings.TrimPrefix(u, "file://"))
			if err := os.MkdirAll(dir, 0o700); err != nil {
				return problem(err.Error(), "use a writable directory for --state")
			}
			f, err := os.CreateTemp(dir, ".doctor-")
			if err != nil {
				return problem(dir+" is not writable: "+err.Error(), "use a writable directory for --state")
			}
			f.Close()
			os.Remove(f.Name())
			return ok(dir + " is writable")
		case strings.HasPrefix(u, "s3://"):
			return stateBucket(ctx, e, u)
		}
		return problem(fmt.Sprintf("unsupported backend %q", u), "use file://<dir> or s3://<bucket>?...")
	}}
}

// parseS3Backend splits a Pulumi s3:// backend URL into bucket, endpoint
// and region.
func parseS3Backend(raw string) (bucket, endpoint, region string, err error) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "", "", "", fmt.Errorf("invalid s3 backend URL")
	}
	q := u.Query()
	region = q.Get("region")
	if region == "" {
		region = "us-east-1"
	}
	return u.Host, q.Get("endpoint"), region, nil
}

// OnPath checks that a tool a stack needs is on PATH.
func OnPath(tool, why, fix string) Check {
	return checkFunc{tool, func(context.Context) Result {
		if p, err := exec.LookPath(tool); err == nil {
			return ok(p)
		}
		return problem(tool+" is not on PATH ("+why+")", fix)
	}}
}
