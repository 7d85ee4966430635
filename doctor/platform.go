package doctor

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/faas-benchmarker/faas-benchmarker/platforms/localstack"
	"github.com/faas-benchmarker/faas-benchmarker/stacks/stackcfg"
)

var (
	execLook   = exec.LookPath
	execOutput = func(ctx context.Context, name string, args ...string) ([]byte, error) {
		return exec.CommandContext(ctx, name, args...).Output()
	}
)

// ForPlatform returns the checks of a run on platform (one of local,
// local-stack, aws, azure, openfaas, permanent) with managed telling
// whether the run deploys its own stack. dataDir is where the results
// database lives.
func ForPlatform(platform string, managed bool, dataDir string, e Env) ([]Check, error) {
	local := []Check{writableDir("results directory", dataDir)}
	pulumi := []Check{PulumiCLI(e), Passphrase(e), Backend(e)}
	region := func(def string) string {
		for _, o := range e.StackSets {
			if k, v, err := stackcfg.ParseOverride(o); err == nil && k == "region" {
				return v
			}
		}
		if r := e.getenv("AWS_REGION"); r != "" && !managed {
			return r
		}
		return def
	}
	switch platform {
	case "local", "http":
		return local, nil
	case localstack.Name:
		return append(append(local, pulumi...), PulumiPlugins(e, "fblocal")), nil
	case "aws":
		r := region(stackcfg.DefaultAWS().Region)
		cs := append(local, AWSCredentials(e, r), AWSPermissionsCheck(e, r, managed, e.StackSets), LambdaAccount(e, r))
		if managed {
			cs = append(cs, pulumi...)
			cs = append(cs, PulumiPlugins(e, "aws"), StackSettings(stackcfg.PlatformAWS, e.StackSets), Artifacts(stackcfg.PlatformAWS, e.StackSets))
		}
		return cs, nil
	case "azure":
		cs := append(local, AzureCredentials(e))
		if managed {
			cs = append(cs, pulumi...)
			cs = append(cs, PulumiPlugins(e, "azure-native"), StackSettings(stackcfg.PlatformAzure, e.StackSets), Artifacts(stackcfg.PlatformAzure, e.StackSets))
		}
		return cs, nil
	case "openfaas":
		if !managed {
			return local, nil
		}
		r := region(stackcfg.DefaultOpenFaaS().Region)
		cs := append(local, AWSCredentials(e, r))
		cs = append(cs, pulumi...)
		return append(cs, PulumiPlugins(e, "aws", "eks", "kubernetes"), StackSettings(stackcfg.PlatformOpenFaaS, e.StackSets),
			OnPath("kubectl", "pulumi-eks patches CoreDNS with it", "install kubectl (https://kubernetes.io/docs/tasks/tools/)"),
			OnPath("aws", "the cluster's kubeconfig runs aws eks get-token", "install the AWS CLI v2")), nil
	case string(stackcfg.PlatformPermanent):
		return append(pulumi, DigitalOceanCredentials(e), PulumiPlugins(e, "digitalocean"), StackSettings(stackcfg.PlatformPermanent, e.StackSets)), nil
	}
	return nil, fmt.Errorf("doctor: unknown platform %q", platform)
}

// writableDir checks that dir exists or can be created, and is writable.
func writableDir(name, dir string) Check {
	return checkFunc{name, func(context.Context) Result {
		if dir == "" {
			return ok("in memory")
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return problem(err.Error(), "choose another --db location")
		}
		f, err := os.CreateTemp(dir, ".doctor-")
		if err != nil {
			return problem(filepath.Clean(dir)+" is not writable", "choose another --db location")
		}
		f.Close()
		os.Remove(f.Name())
		return ok(dir + " is writable")
	}}
}
