package stackcfg

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/netip"
	"regexp"
	"time"
)

var (
	k8sVersionPattern = regexp.MustCompile(`^1\.[0-9]{2}$`)
	awsRegionPattern  = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]$`)
)

// OpenFaaS configures the per-experiment OpenFaaS stack: an EKS cluster whose
// pods all run on Fargate, OpenFaaS Community Edition from its Helm chart,
// the AWS Load Balancer Controller that exposes the gateway through an NLB,
// and the lab functions. The stack installs CE only (OpenFaaS Pro needs a
// licence and components this stack does not install); a Pro gateway is
// measured through the direct path (--endpoint), and the edition of every
// run is read from the running gateway's /system/info, never from here.
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
	// ScaleMin and ScaleMax are the com.openfaas.scale.min/max labels
	// (defaults 1 and 5, CE's cap).
	ScaleMin, ScaleMax int
	// FunctionTimeoutSeconds is how long one invocation may take (default
	// 180, at most MaxFunctionTimeoutSeconds). The watchdog's, the
	// gateway's and faas-netes' timeouts and the client's are derived from
	// it (see GatewayTimeouts), so that no component cuts a call the
	// function is still allowed to run, including one that first waits for
	// the gateway's scale-from-zero; a value the NLB's TCP idle timeout
	// cannot carry is refused.
	FunctionTimeoutSeconds int
	// MemoryMB is the function pods' memory request and limit (default 128;
	// Fargate rounds a pod up to at least 0.5 GB).
	MemoryMB int
	// CPUMillis is the function pods' CPU request (default 250).
	CPUMillis int
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
		ScaleMin:          1,
		ScaleMax:          CEMaxReplicas,

		FunctionTimeoutSeconds: 180,
		MemoryMB:               128,
		CPUMillis:              250,
	}
}

// Platform implements Settings.
func (c *OpenFaaS) Platform() Platform { return PlatformOpenFaaS }

// InvocationLimit implements InvocationLimiter: the function timeout.
func (c *OpenFaaS) InvocationLimit() time.Duration {
	return time.Duration(c.FunctionTimeoutSeconds) * time.Second
}

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
		field{"scaleMin", `com.openfaas.scale.min (default 1)`, integer(&c.ScaleMin)},
		field{"scaleMax", `com.openfaas.scale.max, at most 5 on CE (default 5)`, integer(&c.ScaleMax)},
		field{"functionTimeout", `longest invocation in seconds, at most 230 (the NLB's 350 s idle timeout); every other timeout is derived from it (default 180)`, integer(&c.FunctionTimeoutSeconds)},
		field{"memory", `function pod memory in MB (default 128)`, integer(&c.MemoryMB)},
		field{"cpu", `function pod CPU request in millicores (default 250)`, integer(&c.CPUMillis)},
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
	if c.ScaleMax > CEMaxReplicas {
		p.addf("scaleMax", "%d: OpenFaaS CE, which the stack installs, caps a function at %d replicas", c.ScaleMax, CEMaxReplicas)
	}
	if len(c.Functions) > CEMaxFunctions {
		p.addf("functions", "%d functions: OpenFaaS CE allows at most %d", len(c.Functions), CEMaxFunctions)
	}
	if c.ScaleMin < 0 || c.ScaleMax < 1 || c.ScaleMin > c.ScaleMax {
		p.addf("scaleMin", "need 0 <= scaleMin (%d) <= scaleMax (%d), scaleMax >= 1", c.ScaleMin, c.ScaleMax)
	}
	if c.FunctionTimeoutSeconds < 1 {
		p.addf("functionTimeout", "%d s: must be at least 1", c.FunctionTimeoutSeconds)
	} else if err := c.GatewayTimeouts().Check(); err != nil {
		p.addf("functionTimeout", "%d s: %v", c.FunctionTimeoutSeconds, err)
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

// Limits of OpenFaaS CE: faas-netes CE caps a function's replicas at 5
// and an installation at 15 functions (providers/openfaas has the same
// constants for the client side).
const (
	CEMaxReplicas  = 5
	CEMaxFunctions = 15
)

// GatewayServiceName is the openfaas stack's Kubernetes Service (namespace
// openfaas) that the AWS Load Balancer Controller exposes through the NLB;
// the controller's finalizer (service.k8s.aws/resources) holds the
// Service's delete until the controller has deleted the NLB.
const GatewayServiceName = "gateway-nlb"

// Fixed timeouts of the path from the client to an OpenFaaS function.
const (
	// NLBIdleTimeout is the TCP idle timeout of the gateway's Network Load
	// Balancer, kept at AWS's default: "The default idle timeout value for
	// TCP flows is 350 seconds" (Elastic Load Balancing, Network Load
	// Balancers, "Update the TCP idle timeout for your Network Load
	// Balancer listener",
	// https://docs.aws.amazon.com/elasticloadbalancing/latest/network/update-idle-timeout.html).
	// No byte flows on a connection while the gateway waits for a function,
	// so the NLB bounds the whole synchronous call.
	NLBIdleTimeout = 350 * time.Second
	// ScaleFromZeroWait is the longest the gateway holds a call to a
	// function at zero replicas while it scales it up: MaxPollCount 1000 ×
	// FunctionPollInterval 100 ms in the gateway's scaling config
	// (openfaas/faas gateway/main.go). It runs inside the gateway's write
	// timeout, before the upstream call.
	ScaleFromZeroWait = 100 * time.Second
	// timeoutStep separates consecutive timeouts of the chain.
	timeoutStep = 5 * time.Second
)

// MaxFunctionTimeoutSeconds is the longest fb:functionTimeout the path can
// carry: a cold call's scale-from-zero wait plus the function plus the
// steps between the timeouts must fit in the NLB's idle timeout.
const MaxFunctionTimeoutSeconds = int((NLBIdleTimeout - ScaleFromZeroWait - 4*timeoutStep) / time.Second)

// Timeouts are the timeouts on the path of one synchronous call, client →
// NLB → gateway → (scale from zero) → watchdog → function. OpenFaaS'
// "Extended timeouts" guide (https://docs.openfaas.com/tutorials/expanded-timeouts/)
// orders the OpenFaaS ones: the function's exec_timeout below the
// gateway's upstream_timeout, upstream below the gateway's read/write
// timeouts, and warns that a load balancer with a lower timeout cuts calls
// first. Check states the whole order.
type Timeouts struct {
	// Exec is the watchdog's exec_timeout: the function's own limit.
	Exec time.Duration
	// WatchdogReadWrite is the watchdog's read_timeout/write_timeout.
	WatchdogReadWrite time.Duration
	// Upstream is gateway.upstreamTimeout: how long the gateway waits for
	// the function once it runs.
	Upstream time.Duration
	// ScaleFromZero is how long the gateway may wait before that for a
	// function at zero replicas (ScaleFromZeroWait).
	ScaleFromZero time.Duration
	// Gateway is gateway.readTimeout/writeTimeout (also
	// faasnetes.readTimeout/writeTimeout and queueWorker.ackWait; the
	// chart's defaults are about a minute): the gateway's HTTP server
	// bounds the whole call, scale-from-zero included, with it.
	Gateway time.Duration
	// Client is the benchmark client's timeout for one invocation.
	Client time.Duration
	// NLBIdle is the load balancer's TCP idle timeout (NLBIdleTimeout).
	NLBIdle time.Duration
}

// GatewayTimeouts derives every timeout from FunctionTimeoutSeconds, each
// one step (5 s) above what it must cover: exec < watchdog < upstream;
// scale-from-zero + upstream < gateway read/write < client ≤ NLB idle.
func (c OpenFaaS) GatewayTimeouts() Timeouts {
	exec := time.Duration(c.FunctionTimeoutSeconds) * time.Second
	t := Timeouts{
		Exec:              exec,
		WatchdogReadWrite: exec + timeoutStep,
		Upstream:          exec + 2*timeoutStep,
		ScaleFromZero:     ScaleFromZeroWait,
		NLBIdle:           NLBIdleTimeout,
	}
	t.Gateway = t.ScaleFromZero + t.Upstream + timeoutStep
	t.Client = t.Gateway + timeoutStep
	return t
}

// Check returns nil when t is in the order a call needs — exec_timeout <
// watchdog read/write < gateway upstream; scale-from-zero + upstream <
// gateway read/write < client ≤ NLB idle — and otherwise the first
// inversion, as one line naming both timeouts and what a call would meet.
func (t Timeouts) Check() error {
	s := func(d time.Duration) string { return fmt.Sprintf("%g s", d.Seconds()) }
	switch {
	case t.Exec <= 0:
		return fmt.Errorf("the function's exec_timeout %s must be positive", s(t.Exec))
	case t.WatchdogReadWrite <= t.Exec:
		return fmt.Errorf("the watchdog's read/write timeout %s must exceed its exec_timeout %s", s(t.WatchdogReadWrite), s(t.Exec))
	case t.Upstream <= t.WatchdogReadWrite:
		return fmt.Errorf("the gateway's upstream timeout %s must exceed the watchdog's %s", s(t.Upstream), s(t.WatchdogReadWrite))
	case t.Gateway <= t.ScaleFromZero+t.Upstream:
		return fmt.Errorf("the gateway's read/write timeout %s must exceed its scale-from-zero wait %s plus its upstream timeout %s, "+
			"or it cuts a cold call the function may still answer", s(t.Gateway), s(t.ScaleFromZero), s(t.Upstream))
	case t.Client <= t.Gateway:
		return fmt.Errorf("the client timeout %s must exceed the gateway's read/write timeout %s, or the client gives up on calls the gateway still serves",
			s(t.Client), s(t.Gateway))
	case t.Client > t.NLBIdle:
		return fmt.Errorf("a cold call may take %s (scale from zero %s, function %s, gateway %s) but the NLB's TCP idle timeout is %s "+
			"(AWS default, kept): at most %d s fits", s(t.Client), s(t.ScaleFromZero), s(t.Exec), s(t.Gateway), s(t.NLBIdle),
			int((t.NLBIdle-t.Client+t.Exec)/time.Second))
	}
	return nil
}

// GoDuration formats d as a Go duration string in whole seconds ("235s"),
// the form the chart's and the watchdog's timeout settings take.
func GoDuration(d time.Duration) string {
	return fmt.Sprintf("%ds", int64(d/time.Second))
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

// FillRunSecrets sets an empty gateway password to newSecret(). It
// implements RunSecrets.
func (c *OpenFaaS) FillRunSecrets(newSecret func() (string, error)) error {
	if c.GatewayPassword != "" {
		return nil
	}
	pw, err := newSecret()
	if err != nil {
		return err
	}
	c.GatewayPassword = pw
	return nil
}
