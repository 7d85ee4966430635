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
	// GatewayCIDRs are the only source ranges the gateway's load balancer
	// admits. Required, and never 0.0.0.0/0: the gateway is plain HTTP
	// behind the NLB (an AWS-generated hostname no certificate can name),
	// so the CIDR restriction is what keeps its basic-auth password on the
	// path between the client and the load balancer; set the
	// orchestrator's address, e.g. 203.0.113.7/32.
	GatewayCIDRs []string
	// Edition is the OpenFaaS edition the stack installs and the limits it
	// is validated against: EditionCE (default; at most 5 replicas per
	// function, 15 functions, no scale to zero on the gateway) or
	// EditionPro (needs a licence the chart is configured with by the
	// user, see fb:functionCrd).
	Edition string
	// ScaleMin and ScaleMax are the com.openfaas.scale.min/max labels
	// (defaults 1 and 5, CE's cap).
	ScaleMin, ScaleMax int
	// FunctionTimeoutSeconds is how long one invocation may take (default
	// 300). The gateway's and faas-netes' read/write timeouts, the gateway's
	// upstream timeout and the watchdog's timeouts are derived from it (see
	// GatewayTimeouts), so that no component cuts a call the function is
	// still allowed to run, including a Fargate pod started from zero.
	FunctionTimeoutSeconds int
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
		Edition:           EditionCE,
		ScaleMin:          1,
		ScaleMax:          CEMaxReplicas,

		FunctionTimeoutSeconds: 300,
		MemoryMB:               128,
		CPUMillis:              250,
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
		field{"gatewayCidrs", `comma-separated CIDRs allowed to reach the plain-HTTP gateway, required, not 0.0.0.0/0 (e.g. this machine's /32)`, list(&c.GatewayCIDRs)},
		field{"edition", `OpenFaaS edition ce or pro; ce limits scaleMax to 5 and the functions to 15 (default "ce")`, str(&c.Edition)},
		field{"scaleMin", `com.openfaas.scale.min (default 1)`, integer(&c.ScaleMin)},
		field{"scaleMax", `com.openfaas.scale.max, at most 5 on CE (default 5)`, integer(&c.ScaleMax)},
		field{"functionTimeout", `longest invocation in seconds; the gateway timeouts are derived from it (default 300)`, integer(&c.FunctionTimeoutSeconds)},
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
		p.addf("gatewayCidrs", "required: the CIDRs of the machines that run the benchmark, e.g. 203.0.113.7/32 "+
			"(the gateway is plain HTTP behind its load balancer, so it must not be open to everyone)")
	}
	for _, s := range c.GatewayCIDRs {
		pfx, err := netip.ParsePrefix(s)
		switch {
		case err != nil:
			p.addf("gatewayCidrs", "%q is not a CIDR", s)
		case pfx.Bits() == 0:
			p.addf("gatewayCidrs", "%q would open the plain-HTTP gateway to the whole internet", s)
		}
	}
	switch c.Edition {
	case EditionCE:
		if c.ScaleMax > CEMaxReplicas {
			p.addf("scaleMax", "%d: OpenFaaS CE caps a function at %d replicas (set fb:edition=pro for more)", c.ScaleMax, CEMaxReplicas)
		}
		if len(c.Functions) > CEMaxFunctions {
			p.addf("functions", "%d functions: OpenFaaS CE allows at most %d", len(c.Functions), CEMaxFunctions)
		}
		if c.FunctionCRD {
			p.addf("functionCrd", "the Function CRD (operator) is an OpenFaaS Pro feature: set fb:edition=pro")
		}
	case EditionPro:
	default:
		p.addf("edition", "%q must be %s or %s", c.Edition, EditionCE, EditionPro)
	}
	if c.ScaleMin < 0 || c.ScaleMax < 1 || c.ScaleMin > c.ScaleMax {
		p.addf("scaleMin", "need 0 <= scaleMin (%d) <= scaleMax (%d), scaleMax >= 1", c.ScaleMin, c.ScaleMax)
	}
	if c.FunctionTimeoutSeconds < 1 || c.FunctionTimeoutSeconds > 3600 {
		p.addf("functionTimeout", "%d s is outside 1..3600", c.FunctionTimeoutSeconds)
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

// OpenFaaS editions (OpenFaaS.Edition).
const (
	// EditionCE is OpenFaaS Community Edition.
	EditionCE = "ce"
	// EditionPro is OpenFaaS Pro/Enterprise.
	EditionPro = "pro"
)

// Limits of OpenFaaS CE: faas-netes CE caps a function's replicas at 5
// and an installation at 15 functions (providers/openfaas has the same
// constants for the client side).
const (
	CEMaxReplicas  = 5
	CEMaxFunctions = 15
)

// Timeouts are the chart's and the watchdog's timeouts, as Go duration
// strings.
type Timeouts struct {
	// Read and Write are gateway.readTimeout/writeTimeout and
	// faasnetes.readTimeout/writeTimeout (the chart defaults are about a
	// minute).
	Read, Write string
	// Upstream is gateway.upstreamTimeout: how long the gateway waits for
	// a function; it must stay below Read and Write.
	Upstream string
	// Exec is the watchdog's exec_timeout: the function's own limit.
	Exec string
	// WatchdogReadWrite is the watchdog's read_timeout/write_timeout.
	WatchdogReadWrite string
}

// GatewayTimeouts derives every timeout from FunctionTimeoutSeconds, as
// OpenFaaS' "Expanded timeouts" guide orders them: function exec timeout <
// watchdog read/write < gateway upstream timeout < gateway read/write.
func (c OpenFaaS) GatewayTimeouts() Timeouts {
	t := c.FunctionTimeoutSeconds
	return Timeouts{
		Exec:              fmt.Sprintf("%ds", t),
		WatchdogReadWrite: fmt.Sprintf("%ds", t+5),
		Upstream:          fmt.Sprintf("%ds", t+10),
		Read:              fmt.Sprintf("%ds", t+15),
		Write:             fmt.Sprintf("%ds", t+15),
	}
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
