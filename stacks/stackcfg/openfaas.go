package stackcfg

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/netip"
	"regexp"
)

var (
	k8sVersionPattern = regexp.MustCompile(`^1\.[0-9]{2}$`)
	awsRegionPattern  = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]$`)
)

// OpenFaaS configures the per-experiment OpenFaaS stack: an EKS cluster whose
// pods all run on Fargate, OpenFaaS from its Helm chart, the AWS Load
// Balancer Controller that exposes the gateway through an NLB, and the lab
// functions.
type OpenFaaS struct {
	Common
	// Region is the AWS region (default eu-west-1).
	Region string
	// KubernetesVersion is the EKS version (default 1.34).
	KubernetesVersion string
	// VpcCIDR is the CIDR of the VPC the stack creates (default 10.42.0.0/16).
	VpcCIDR string
	// ChartVersion pins the openfaas Helm chart; empty means the newest
	// version at deploy time (the deployed one is a stack output).
	ChartVersion string
	// LBControllerChartVersion pins the aws-load-balancer-controller chart;
	// empty means the newest.
	LBControllerChartVersion string
	// Image is the container image of function1..3 (built from
	// functions/openfaas/Dockerfile and pushed by the user). Required.
	Image string
	// MonolithImage is the monolith's image (the same Dockerfile with
	// --build-arg BINARY=monolith). Required when monolith is deployed.
	MonolithImage string
	// GatewayPassword is the OpenFaaS admin password. Required; set it with
	// `pulumi config set --secret fb:gatewayPassword ...` (see NewPassword).
	GatewayPassword string
	// GatewayCIDRs are the source ranges allowed to reach the gateway's load
	// balancer (default 0.0.0.0/0; set the orchestrator's /32).
	GatewayCIDRs []string
	// ScaleMin and ScaleMax are the com.openfaas.scale.min/max labels
	// (defaults 1 and 20).
	ScaleMin, ScaleMax int
	// MemoryMB is the function pods' memory request and limit (default 128;
	// Fargate rounds a pod up to at least 0.5 GB).
	MemoryMB int
	// CPUMillis is the function pods' CPU request (default 250).
	CPUMillis int
	// FunctionCRD deploys the functions as openfaas.com/v1 Function resources
	// (operator mode, OpenFaaS Pro/Enterprise only). Default false: the
	// functions are the Deployments and Services faas-netes CE itself creates
	// and discovers (label faas_function).
	FunctionCRD bool
	// Env is extra environment for every function.
	Env map[string]string
}

// DefaultOpenFaaS returns the OpenFaaS stack defaults.
func DefaultOpenFaaS() OpenFaaS {
	return OpenFaaS{
		Common:            DefaultCommon(),
		Region:            "eu-west-1",
		KubernetesVersion: "1.34",
		VpcCIDR:           "10.42.0.0/16",
		GatewayCIDRs:      []string{"0.0.0.0/0"},
		ScaleMin:          1,
		ScaleMax:          20,
		MemoryMB:          128,
		CPUMillis:         250,
	}
}

// Platform implements Settings.
func (c *OpenFaaS) Platform() Platform { return PlatformOpenFaaS }

func (c *OpenFaaS) fields() []field {
	return append(c.Common.fields(),
		field{"region", `AWS region (default "eu-west-1")`, str(&c.Region)},
		field{"kubernetesVersion", `EKS Kubernetes version (default "1.34")`, str(&c.KubernetesVersion)},
		field{"vpcCidr", `CIDR of the stack's VPC (default "10.42.0.0/16")`, str(&c.VpcCIDR)},
		field{"chartVersion", `openfaas Helm chart version (default: newest at deploy time)`, str(&c.ChartVersion)},
		field{"lbControllerChartVersion", `aws-load-balancer-controller chart version (default: newest)`, str(&c.LBControllerChartVersion)},
		field{"image", `container image of function1..3, required (push it first)`, str(&c.Image)},
		field{"monolithImage", `container image of monolith, required when monolith is deployed`, str(&c.MonolithImage)},
		field{"gatewayPassword", `OpenFaaS admin password, required, set with --secret`, str(&c.GatewayPassword)},
		field{"gatewayCidrs", `comma-separated CIDRs allowed to reach the gateway (default "0.0.0.0/0")`, list(&c.GatewayCIDRs)},
		field{"scaleMin", `com.openfaas.scale.min (default 1)`, integer(&c.ScaleMin)},
		field{"scaleMax", `com.openfaas.scale.max (default 20)`, integer(&c.ScaleMax)},
		field{"memory", `function pod memory in MB (default 128)`, integer(&c.MemoryMB)},
		field{"cpu", `function pod CPU request in millicores (default 250)`, integer(&c.CPUMillis)},
		field{"functionCrd", `deploy openfaas.com/v1 Function resources (OpenFaaS Pro only; default false)`, boolean(&c.FunctionCRD)},
		field{"env", `extra function environment K=v,K2=v2 (default none)`, kvmap(&c.Env)},
	)
}

// Keys implements Settings.
func (c *OpenFaaS) Keys() []KeyDoc { return keyDocs(c.fields()) }

// Set implements Settings.
func (c *OpenFaaS) Set(key, value string) error {
	return setField(c.Platform(), c.fields(), key, value)
}

// Validate implements Settings.
func (c *OpenFaaS) Validate() error {
	var p problems
	c.Common.validate(&p)
	if !awsRegionPattern.MatchString(c.Region) {
		p.addf("region", "%q is not an AWS region name", c.Region)
	}
	if !k8sVersionPattern.MatchString(c.KubernetesVersion) {
		p.addf("kubernetesVersion", "%q is not a version like 1.34", c.KubernetesVersion)
	}
	if pfx, err := netip.ParsePrefix(c.VpcCIDR); err != nil || !pfx.Addr().Is4() || pfx.Bits() > 20 {
		p.addf("vpcCidr", "%q must be an IPv4 CIDR of /20 or larger", c.VpcCIDR)
	}
	needImage, needMonolith := false, false
	for _, f := range c.Functions {
		needMonolith = needMonolith || f == Monolith
		needImage = needImage || f != Monolith
	}
	if needImage && c.Image == "" {
		p.addf("image", "must be set to the pushed lab-function image (no image can be built by the stack)")
	}
	if needMonolith && c.MonolithImage == "" {
		p.addf("monolithImage", "must be set to the pushed monolith image (or leave monolith out of fb:functions)")
	}
	if len(c.GatewayPassword) < 12 {
		p.addf("gatewayPassword", "must be at least 12 characters; set it with `pulumi config set --secret fb:gatewayPassword <pw>`")
	}
	if len(c.GatewayCIDRs) == 0 {
		p.addf("gatewayCidrs", "at least one CIDR is required")
	}
	for _, s := range c.GatewayCIDRs {
		if _, err := netip.ParsePrefix(s); err != nil {
			p.addf("gatewayCidrs", "%q is not a CIDR", s)
		}
	}
	if c.ScaleMin < 0 || c.ScaleMax < 1 || c.ScaleMin > c.ScaleMax {
		p.addf("scaleMin", "need 0 <= scaleMin (%d) <= scaleMax (%d), scaleMax >= 1", c.ScaleMin, c.ScaleMax)
	}
	if c.MemoryMB < 64 || c.MemoryMB > 30720 {
		p.addf("memory", "%d MB is outside 64..30720", c.MemoryMB)
	}
	if c.CPUMillis < 10 || c.CPUMillis > 4000 {
		p.addf("cpu", "%d millicores is outside 10..4000", c.CPUMillis)
	}
	checkEnv(&p, "env", c.Env)
	return p.err(c.Platform())
}

// ImageFor is the container image of lab function lab.
func (c OpenFaaS) ImageFor(lab string) string {
	if lab == Monolith {
		return c.MonolithImage
	}
	return c.Image
}

// NewPassword returns a random 32-character hex password, for callers (the
// runner) that set fb:gatewayPassword.
func NewPassword() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("stackcfg: password: %w", err)
	}
	return hex.EncodeToString(b), nil
}
