// Package openfaas is the per-experiment OpenFaaS stack: a VPC, an EKS
// cluster (pulumi-eks) whose pods all run on Fargate (profiles for
// kube-system, openfaas and openfaas-fn), the AWS Load Balancer Controller,
// OpenFaaS Community Edition from its Helm chart with a pre-created
// basic-auth secret, the gateway exposed over plain HTTP through an
// internet-facing NLB that admits only the configured CIDRs, and the lab
// functions. Every timeout on the request path is derived from the
// function timeout and checked against the NLB's idle timeout
// (stackcfg.Timeouts). Every Kubernetes resource uses an explicit provider
// built from the cluster's kubeconfig.
//
// OpenFaaS CE has no Function CRD (the operator is an OpenFaaS Pro
// feature), so each function is the Deployment and Service pair faas-netes
// CE creates and discovers itself (label faas_function in openfaas-fn).
//
// Destroy order: the gateway's NLB is created by the AWS Load Balancer
// Controller, not by Pulumi, and the controller's finalizer on the Service
// (service.k8s.aws/resources) holds the Service until the controller has
// deleted the NLB. The controller runs on Fargate in the private subnets
// and needs outbound internet access to the AWS APIs (AWS re:Post, "How do
// I set up the AWS Load Balancer Controller…": "AWS Load Balancer Controller
// requires an outbound internet connection") and its IAM policy to call
// them. So the Kubernetes provider, the controller's release and the
// Service depend on the route-table associations, the NAT gateway and the
// controller's policy, and a destroy deletes the Service (and then the
// controller) before any of them.
package openfaas

import (
	"fmt"
	"strconv"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	awseks "github.com/pulumi/pulumi-aws/sdk/v6/go/aws/eks"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi-eks/sdk/v2/go/eks"
	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	helmv3 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/helm/v3"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/faas-benchmarker/faas-benchmarker/stacks/internal/exporting"
	"github.com/faas-benchmarker/faas-benchmarker/stacks/stackcfg"
)

// Names inside the cluster.
const (
	// GatewayNamespace holds the OpenFaaS control plane.
	GatewayNamespace = "openfaas"
	// FunctionNamespace holds the functions.
	FunctionNamespace = "openfaas-fn"
	// GatewayUser is the basic-auth user of the gateway.
	GatewayUser = "admin"
	// GatewayPort is the gateway's HTTP port (service and container).
	GatewayPort = 8080
	// openfaasRepo and lbcRepo are the Helm chart repositories.
	openfaasRepo = "https://openfaas.github.io/faas-netes/"
	lbcRepo      = "https://aws.github.io/eks-charts"
)

// serviceDeleteTimeout bounds the delete of the gateway's Service, which
// waits until the load balancer controller has deleted the NLB.
const serviceDeleteTimeout = "10m"

// OutChartVersion is the extra output of this stack: the openfaas chart
// version actually deployed (recorded with the results when not pinned).
const OutChartVersion = "openfaasChartVersion"

// Program returns the Pulumi program of the stack for cfg.
func Program(cfg stackcfg.OpenFaaS) pulumi.RunFunc {
	return exporting.Program(cfg, Deploy)
}

// Deploy validates cfg, declares the stack's resources and returns its
// outputs keyed by the stackcfg.Out* constants (and OutChartVersion).
// The resources are declared in the order of the steps below; each step
// reads what the earlier ones declared.
func Deploy(ctx *pulumi.Context, cfg stackcfg.OpenFaaS) (map[string]pulumi.Output, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s := &stack{ctx: ctx, cfg: cfg, clusterName: "fb-" + cfg.Experiment + "-" + cfg.Run}
	steps := []func() error{
		s.awsProvider,
		s.network,
		s.cluster,
		s.kubernetesProvider,
		s.loadBalancerController,
		s.namespaces,
		s.basicAuth,
		s.openfaasRelease,
		s.gatewayService,
		s.functions,
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return nil, err
		}
	}
	return s.outputs(), nil
}

// stack is one Deploy in progress: the configuration and the resources
// declared so far, which the later steps depend on.
type stack struct {
	ctx         *pulumi.Context
	cfg         stackcfg.OpenFaaS
	clusterName string

	aws     *aws.Provider
	awsOpt  pulumi.ResourceOrInvokeOption
	net     *network
	eks     *eks.Cluster
	k8sOpt  pulumi.ResourceOption
	lbcRole *iam.Role
	// controllerNeeds is what the load balancer controller needs to delete
	// the NLB (see the package documentation): everything in the cluster
	// depends on it, so a destroy deletes them first.
	controllerNeeds pulumi.ResourceOption
	lbc             *helmv3.Release
	ns              map[string]*corev1.Namespace
	password        pulumi.StringOutput
	auth            *corev1.Secret
	openfaas        *helmv3.Release
	gatewayURL      pulumi.StringOutput
	fnNames         map[string]string
}

func (s *stack) awsProvider() error {
	p, err := aws.NewProvider(s.ctx, "aws", &aws.ProviderArgs{Region: pulumi.String(s.cfg.Region)})
	if err != nil {
		return fmt.Errorf("openfaas stack: aws provider: %w", err)
	}
	s.aws, s.awsOpt = p, pulumi.Provider(p)
	return nil
}

func (s *stack) network() error {
	net, err := newNetwork(s.ctx, s.clusterName, s.cfg.VpcCIDR, s.clusterName, s.cfg.ResourceTags(), s.awsOpt)
	s.net = net
	return err
}

// cluster declares the EKS cluster, whose pods all run on Fargate, and the
// IAM role of the load balancer controller (which needs the cluster's OIDC
// provider).
func (s *stack) cluster() error {
	selectors := awseks.FargateProfileSelectorArray{}
	for _, ns := range []string{"kube-system", GatewayNamespace, FunctionNamespace} {
		selectors = append(selectors, awseks.FargateProfileSelectorArgs{Namespace: pulumi.String(ns)})
	}
	tags := pulumi.ToStringMap(s.cfg.ResourceTags())
	cluster, err := eks.NewCluster(s.ctx, "cluster", &eks.ClusterArgs{
		Name:                 pulumi.String(s.clusterName),
		Version:              pulumi.String(s.cfg.KubernetesVersion),
		VpcId:                s.net.vpc.ID(),
		PublicSubnetIds:      s.net.publicSubnets,
		PrivateSubnetIds:     s.net.privateSubnets,
		EndpointPublicAccess: pulumi.Bool(true),
		Fargate:              &eks.FargateProfileArgs{Selectors: selectors},
		Tags:                 tags,
	}, pulumi.Providers(s.aws))
	if err != nil {
		return fmt.Errorf("openfaas stack: cluster: %w", err)
	}
	s.eks = cluster
	role, policy, err := lbcRole(s.ctx, s.cfg.Prefix(), s.clusterName, cluster, tags, s.awsOpt)
	if err != nil {
		return err
	}
	s.lbcRole = role
	s.controllerNeeds = pulumi.DependsOn(append(append([]pulumi.Resource{}, s.net.egress...), policy))
	return nil
}

// kubernetesProvider is the explicit provider every Kubernetes resource
// uses, built from the cluster's kubeconfig.
func (s *stack) kubernetesProvider() error {
	k8s, err := kubernetes.NewProvider(s.ctx, "k8s", &kubernetes.ProviderArgs{
		Kubeconfig: s.eks.KubeconfigJson,
	}, s.controllerNeeds)
	if err != nil {
		return fmt.Errorf("openfaas stack: kubernetes provider: %w", err)
	}
	s.k8sOpt = pulumi.Provider(k8s)
	return nil
}

func (s *stack) loadBalancerController() error {
	lbc, err := helmv3.NewRelease(s.ctx, "aws-load-balancer-controller", &helmv3.ReleaseArgs{
		Chart:          pulumi.String("aws-load-balancer-controller"),
		Version:        optional(s.cfg.LBControllerChartVersion),
		Namespace:      pulumi.String(lbcNamespace),
		RepositoryOpts: &helmv3.RepositoryOptsArgs{Repo: pulumi.String(lbcRepo)},
		Values: pulumi.Map{
			"clusterName": pulumi.String(s.clusterName),
			"region":      pulumi.String(s.cfg.Region),
			"vpcId":       s.net.vpc.ID(),
			"serviceAccount": pulumi.Map{
				"create": pulumi.Bool(true),
				"name":   pulumi.String(lbcServiceAccount),
				"annotations": pulumi.Map{
					"eks.amazonaws.com/role-arn": s.lbcRole.Arn,
				},
			},
		},
	}, s.k8sOpt, s.controllerNeeds)
	if err != nil {
		return fmt.Errorf("openfaas stack: load balancer controller: %w", err)
	}
	s.lbc = lbc
	return nil
}

func (s *stack) namespaces() error {
	s.ns = map[string]*corev1.Namespace{}
	for ns, role := range map[string]string{GatewayNamespace: "openfaas-system", FunctionNamespace: "openfaas-fn"} {
		n, err := corev1.NewNamespace(s.ctx, ns, &corev1.NamespaceArgs{
			Metadata: &metav1.ObjectMetaArgs{
				Name:   pulumi.String(ns),
				Labels: pulumi.StringMap{"role": pulumi.String(role), "access": pulumi.String("openfaas-system")},
			},
		}, s.k8sOpt)
		if err != nil {
			return fmt.Errorf("openfaas stack: namespace %s: %w", ns, err)
		}
		s.ns[ns] = n
	}
	return nil
}

// basicAuth is the gateway's pre-created basic-auth secret.
func (s *stack) basicAuth() error {
	s.password = pulumi.ToSecret(pulumi.String(s.cfg.GatewayPassword)).(pulumi.StringOutput)
	auth, err := corev1.NewSecret(s.ctx, "basic-auth", &corev1.SecretArgs{
		Metadata: &metav1.ObjectMetaArgs{
			Name:      pulumi.String("basic-auth"),
			Namespace: s.ns[GatewayNamespace].Metadata.Name(),
		},
		StringData: pulumi.StringMap{
			"basic-auth-user":     pulumi.String(GatewayUser),
			"basic-auth-password": s.password,
		},
	}, s.k8sOpt)
	if err != nil {
		return fmt.Errorf("openfaas stack: basic-auth secret: %w", err)
	}
	s.auth = auth
	return nil
}

// openfaasRelease is OpenFaaS CE from its Helm chart.
//
// The load balancer controller's Service webhook fails closed: no Service
// can be created until its pods serve, so OpenFaaS (and with it every
// Service below) waits for that release. Every timeout on the request path
// exceeds the function's (the chart defaults are about a minute; a Fargate
// pod started from zero alone can take that long), in the order
// stackcfg.Timeouts.Check states (OpenFaaS "Extended timeouts": upstream
// below read/write; the gateway's read/write also cover its scale-from-zero
// wait).
func (s *stack) openfaasRelease() error {
	to := s.cfg.GatewayTimeouts()
	gatewayTimeout := pulumi.String(stackcfg.GoDuration(to.Gateway))
	openfaas, err := helmv3.NewRelease(s.ctx, "openfaas", &helmv3.ReleaseArgs{
		Chart:          pulumi.String("openfaas"),
		Version:        optional(s.cfg.ChartVersion),
		Namespace:      s.ns[GatewayNamespace].Metadata.Name(),
		RepositoryOpts: &helmv3.RepositoryOptsArgs{Repo: pulumi.String(openfaasRepo)},
		Values: pulumi.Map{
			"functionNamespace": pulumi.String(FunctionNamespace),
			"basic_auth":        pulumi.Bool(true),
			"generateBasicAuth": pulumi.Bool(false),
			"exposeServices":    pulumi.Bool(false),
			"serviceType":       pulumi.String("ClusterIP"),
			// CE has no operator (an OpenFaaS Pro feature).
			"operator": pulumi.Map{"create": pulumi.Bool(false)},
			"gateway": pulumi.Map{
				"readTimeout":     gatewayTimeout,
				"writeTimeout":    gatewayTimeout,
				"upstreamTimeout": pulumi.String(stackcfg.GoDuration(to.Upstream)),
				// Scale from zero is what brings a function back after a
				// forced cold start (kept in CE; the chart default, set
				// explicitly because the benchmark depends on it).
				"scaleFromZero": pulumi.Bool(true),
			},
			"faasnetes": pulumi.Map{
				"readTimeout":  gatewayTimeout,
				"writeTimeout": gatewayTimeout,
			},
			"queueWorker": pulumi.Map{"ackWait": gatewayTimeout},
		},
	}, s.k8sOpt, pulumi.DependsOn([]pulumi.Resource{s.auth, s.ns[FunctionNamespace], s.lbc}))
	if err != nil {
		return fmt.Errorf("openfaas stack: openfaas chart: %w", err)
	}
	s.openfaas = openfaas
	return nil
}

// gatewayService exposes the gateway over plain HTTP through an
// internet-facing NLB. Plain HTTP: the NLB's hostname is generated by AWS,
// so no certificate can name it; the load balancer admits only
// fb:gatewayCidrs (never 0.0.0.0/0, see stackcfg), which the outputs state
// so the client can opt in to HTTP knowingly.
func (s *stack) gatewayService() error {
	gateway, err := corev1.NewService(s.ctx, stackcfg.GatewayServiceName, &corev1.ServiceArgs{
		Metadata: &metav1.ObjectMetaArgs{
			Name:      pulumi.String(stackcfg.GatewayServiceName),
			Namespace: pulumi.String(GatewayNamespace),
			Annotations: pulumi.StringMap{
				"service.beta.kubernetes.io/aws-load-balancer-type":            pulumi.String("external"),
				"service.beta.kubernetes.io/aws-load-balancer-nlb-target-type": pulumi.String("ip"),
				"service.beta.kubernetes.io/aws-load-balancer-scheme":          pulumi.String("internet-facing"),
				"service.beta.kubernetes.io/aws-load-balancer-additional-resource-tags": pulumi.String(
					stackcfg.TagExperiment + "=" + s.cfg.Experiment + "," + stackcfg.TagRun + "=" + s.cfg.Run),
			},
		},
		Spec: &corev1.ServiceSpecArgs{
			Type:                     pulumi.String("LoadBalancer"),
			LoadBalancerClass:        pulumi.String("service.k8s.aws/nlb"),
			LoadBalancerSourceRanges: pulumi.ToStringArray(s.cfg.GatewayCIDRs),
			Selector:                 pulumi.StringMap{"app": pulumi.String("gateway")},
			Ports: corev1.ServicePortArray{corev1.ServicePortArgs{
				Name:       pulumi.String("http"),
				Port:       pulumi.Int(GatewayPort),
				TargetPort: pulumi.Int(GatewayPort),
				Protocol:   pulumi.String("TCP"),
			}},
		},
	}, s.k8sOpt, pulumi.DependsOn([]pulumi.Resource{s.lbc, s.openfaas}), s.controllerNeeds,
		// The delete waits for the controller to clear its finalizer;
		// bounded, so a stuck controller fails the destroy with the
		// Service named instead of holding it for the whole teardown.
		pulumi.Timeouts(&pulumi.CustomTimeouts{Delete: serviceDeleteTimeout}))
	if err != nil {
		return fmt.Errorf("openfaas stack: gateway service: %w", err)
	}
	host := gateway.Status.LoadBalancer().Ingress().Index(pulumi.Int(0)).Hostname().Elem()
	s.gatewayURL = pulumi.Sprintf("http://%s:%d", host, GatewayPort)
	return nil
}

func (s *stack) functions() error {
	names, err := deployFunctions(s.ctx, s.cfg, s.k8sOpt, s.openfaas)
	s.fnNames = names
	return err
}

// outputs are the stack outputs keyed by the stackcfg.Out* constants.
func (s *stack) outputs() map[string]pulumi.Output {
	names := pulumi.StringMap{}
	urls := pulumi.StringMap{}
	for lab, name := range s.fnNames {
		names[lab] = pulumi.String(name)
		urls[lab] = pulumi.Sprintf("%s/function/%s", s.gatewayURL, name)
	}
	cfg := s.cfg
	return map[string]pulumi.Output{
		stackcfg.OutGatewayTransport: pulumi.String(stackcfg.GatewayTransportRestrictedHTTP).ToStringOutput(),
		stackcfg.OutGatewayCIDRs:     pulumi.ToStringArray(cfg.GatewayCIDRs).ToStringArrayOutput(),
		stackcfg.OutFunctionTimeout:  pulumi.String(strconv.Itoa(cfg.FunctionTimeoutSeconds)).ToStringOutput(),
		stackcfg.OutPlatform:         pulumi.String(string(stackcfg.PlatformOpenFaaS)).ToStringOutput(),
		stackcfg.OutExperiment:       pulumi.String(cfg.Experiment).ToStringOutput(),
		stackcfg.OutRun:              pulumi.String(cfg.Run).ToStringOutput(),
		stackcfg.OutRegion:           pulumi.String(cfg.Region).ToStringOutput(),
		stackcfg.OutClusterName:      pulumi.String(s.clusterName).ToStringOutput(),
		stackcfg.OutKubeconfig:       pulumi.ToSecret(s.eks.KubeconfigJson),
		stackcfg.OutGatewayURL:       s.gatewayURL,
		stackcfg.OutGatewayUser:      pulumi.String(GatewayUser).ToStringOutput(),
		stackcfg.OutGatewayPassword:  s.password,
		stackcfg.OutFunctionNames:    names.ToStringMapOutput(),
		stackcfg.OutFunctionURLs:     urls.ToStringMapOutput(),
		OutChartVersion:              s.openfaas.Status.Version().Elem(),
	}
}

// optional is nil for "" (the newest chart version) and the string otherwise.
func optional(s string) pulumi.StringPtrInput {
	if s == "" {
		return nil
	}
	return pulumi.String(s)
}

// ScaleLabels are the OpenFaaS scaling labels of every function.
func ScaleLabels(cfg stackcfg.OpenFaaS) map[string]string {
	return map[string]string{
		"com.openfaas.scale.min": strconv.Itoa(cfg.ScaleMin),
		"com.openfaas.scale.max": strconv.Itoa(cfg.ScaleMax),
	}
}
