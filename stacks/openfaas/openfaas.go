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
func Deploy(ctx *pulumi.Context, cfg stackcfg.OpenFaaS) (map[string]pulumi.Output, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	tagMap := cfg.ResourceTags()
	tags := pulumi.ToStringMap(tagMap)
	prefix := cfg.Prefix()
	clusterName := "fb-" + cfg.Experiment + "-" + cfg.Run

	awsProvider, err := aws.NewProvider(ctx, "aws", &aws.ProviderArgs{Region: pulumi.String(cfg.Region)})
	if err != nil {
		return nil, fmt.Errorf("openfaas stack: aws provider: %w", err)
	}
	awsOpt := pulumi.Provider(awsProvider)

	net, err := newNetwork(ctx, clusterName, cfg.VpcCIDR, clusterName, tagMap, awsOpt)
	if err != nil {
		return nil, err
	}

	selectors := awseks.FargateProfileSelectorArray{}
	for _, ns := range []string{"kube-system", GatewayNamespace, FunctionNamespace} {
		selectors = append(selectors, awseks.FargateProfileSelectorArgs{Namespace: pulumi.String(ns)})
	}
	cluster, err := eks.NewCluster(ctx, "cluster", &eks.ClusterArgs{
		Name:                 pulumi.String(clusterName),
		Version:              pulumi.String(cfg.KubernetesVersion),
		VpcId:                net.vpc.ID(),
		PublicSubnetIds:      net.publicSubnets,
		PrivateSubnetIds:     net.privateSubnets,
		EndpointPublicAccess: pulumi.Bool(true),
		Fargate:              &eks.FargateProfileArgs{Selectors: selectors},
		Tags:                 tags,
	}, pulumi.Providers(awsProvider))
	if err != nil {
		return nil, fmt.Errorf("openfaas stack: cluster: %w", err)
	}

	role, policy, err := lbcRole(ctx, prefix, clusterName, cluster, tags, awsOpt)
	if err != nil {
		return nil, err
	}
	// What the controller needs to delete the NLB (see the package
	// documentation): everything in the cluster is deleted before it.
	controllerNeeds := pulumi.DependsOn(append(append([]pulumi.Resource{}, net.egress...), policy))

	k8s, err := kubernetes.NewProvider(ctx, "k8s", &kubernetes.ProviderArgs{
		Kubeconfig: cluster.KubeconfigJson,
	}, controllerNeeds)
	if err != nil {
		return nil, fmt.Errorf("openfaas stack: kubernetes provider: %w", err)
	}
	k8sOpt := pulumi.Provider(k8s)

	lbc, err := helmv3.NewRelease(ctx, "aws-load-balancer-controller", &helmv3.ReleaseArgs{
		Chart:          pulumi.String("aws-load-balancer-controller"),
		Version:        optional(cfg.LBControllerChartVersion),
		Namespace:      pulumi.String(lbcNamespace),
		RepositoryOpts: &helmv3.RepositoryOptsArgs{Repo: pulumi.String(lbcRepo)},
		Values: pulumi.Map{
			"clusterName": pulumi.String(clusterName),
			"region":      pulumi.String(cfg.Region),
			"vpcId":       net.vpc.ID(),
			"serviceAccount": pulumi.Map{
				"create": pulumi.Bool(true),
				"name":   pulumi.String(lbcServiceAccount),
				"annotations": pulumi.Map{
					"eks.amazonaws.com/role-arn": role.Arn,
				},
			},
		},
	}, k8sOpt, controllerNeeds)
	if err != nil {
		return nil, fmt.Errorf("openfaas stack: load balancer controller: %w", err)
	}

	namespaces := map[string]*corev1.Namespace{}
	for ns, role := range map[string]string{GatewayNamespace: "openfaas-system", FunctionNamespace: "openfaas-fn"} {
		n, err := corev1.NewNamespace(ctx, ns, &corev1.NamespaceArgs{
			Metadata: &metav1.ObjectMetaArgs{
				Name:   pulumi.String(ns),
				Labels: pulumi.StringMap{"role": pulumi.String(role), "access": pulumi.String("openfaas-system")},
			},
		}, k8sOpt)
		if err != nil {
			return nil, fmt.Errorf("openfaas stack: namespace %s: %w", ns, err)
		}
		namespaces[ns] = n
	}

	password := pulumi.ToSecret(pulumi.String(cfg.GatewayPassword)).(pulumi.StringOutput)
	basicAuth, err := corev1.NewSecret(ctx, "basic-auth", &corev1.SecretArgs{
		Metadata: &metav1.ObjectMetaArgs{
			Name:      pulumi.String("basic-auth"),
			Namespace: namespaces[GatewayNamespace].Metadata.Name(),
		},
		StringData: pulumi.StringMap{
			"basic-auth-user":     pulumi.String(GatewayUser),
			"basic-auth-password": password,
		},
	}, k8sOpt)
	if err != nil {
		return nil, fmt.Errorf("openfaas stack: basic-auth secret: %w", err)
	}

	// The load balancer controller's Service webhook fails closed: no
	// Service can be created until its pods serve, so OpenFaaS (and with it
	// every Service below) waits for that release.
	// Every timeout on the request path exceeds the function's (the chart
	// defaults are about a minute; a Fargate pod started from zero alone
	// can take that long), in the order stackcfg.Timeouts.Check states
	// (OpenFaaS "Extended timeouts": upstream below read/write; the
	// gateway's read/write also cover its scale-from-zero wait).
	to := cfg.GatewayTimeouts()
	gatewayTimeout := pulumi.String(stackcfg.GoDuration(to.Gateway))
	openfaas, err := helmv3.NewRelease(ctx, "openfaas", &helmv3.ReleaseArgs{
		Chart:          pulumi.String("openfaas"),
		Version:        optional(cfg.ChartVersion),
		Namespace:      namespaces[GatewayNamespace].Metadata.Name(),
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
	}, k8sOpt, pulumi.DependsOn([]pulumi.Resource{basicAuth, namespaces[FunctionNamespace], lbc}))
	if err != nil {
		return nil, fmt.Errorf("openfaas stack: openfaas chart: %w", err)
	}

	sourceRanges := pulumi.ToStringArray(cfg.GatewayCIDRs)
	gateway, err := corev1.NewService(ctx, stackcfg.GatewayServiceName, &corev1.ServiceArgs{
		Metadata: &metav1.ObjectMetaArgs{
			Name:      pulumi.String(stackcfg.GatewayServiceName),
			Namespace: pulumi.String(GatewayNamespace),
			Annotations: pulumi.StringMap{
				"service.beta.kubernetes.io/aws-load-balancer-type":            pulumi.String("external"),
				"service.beta.kubernetes.io/aws-load-balancer-nlb-target-type": pulumi.String("ip"),
				"service.beta.kubernetes.io/aws-load-balancer-scheme":          pulumi.String("internet-facing"),
				"service.beta.kubernetes.io/aws-load-balancer-additional-resource-tags": pulumi.String(
					stackcfg.TagExperiment + "=" + cfg.Experiment + "," + stackcfg.TagRun + "=" + cfg.Run),
			},
		},
		Spec: &corev1.ServiceSpecArgs{
			Type:                     pulumi.String("LoadBalancer"),
			LoadBalancerClass:        pulumi.String("service.k8s.aws/nlb"),
			LoadBalancerSourceRanges: sourceRanges,
			Selector:                 pulumi.StringMap{"app": pulumi.String("gateway")},
			Ports: corev1.ServicePortArray{corev1.ServicePortArgs{
				Name:       pulumi.String("http"),
				Port:       pulumi.Int(GatewayPort),
				TargetPort: pulumi.Int(GatewayPort),
				Protocol:   pulumi.String("TCP"),
			}},
		},
	}, k8sOpt, pulumi.DependsOn([]pulumi.Resource{lbc, openfaas}), controllerNeeds,
		// The delete waits for the controller to clear its finalizer;
		// bounded, so a stuck controller fails the destroy with the
		// Service named instead of holding it for the whole teardown.
		pulumi.Timeouts(&pulumi.CustomTimeouts{Delete: serviceDeleteTimeout}))
	if err != nil {
		return nil, fmt.Errorf("openfaas stack: gateway service: %w", err)
	}
	// Plain HTTP: the NLB's hostname is generated by AWS, so no
	// certificate can name it; the load balancer admits only
	// fb:gatewayCidrs (never 0.0.0.0/0, see stackcfg), which the outputs
	// state so the client can opt in to HTTP knowingly.
	host := gateway.Status.LoadBalancer().Ingress().Index(pulumi.Int(0)).Hostname().Elem()
	gatewayURL := pulumi.Sprintf("http://%s:%d", host, GatewayPort)

	fnNames, err := deployFunctions(ctx, cfg, k8sOpt, openfaas)
	if err != nil {
		return nil, err
	}
	names := pulumi.StringMap{}
	urls := pulumi.StringMap{}
	for lab, name := range fnNames {
		names[lab] = pulumi.String(name)
		urls[lab] = pulumi.Sprintf("%s/function/%s", gatewayURL, name)
	}

	return map[string]pulumi.Output{
		stackcfg.OutGatewayTransport: pulumi.String(stackcfg.GatewayTransportRestrictedHTTP).ToStringOutput(),
		stackcfg.OutGatewayCIDRs:     pulumi.ToStringArray(cfg.GatewayCIDRs).ToStringArrayOutput(),
		stackcfg.OutFunctionTimeout:  pulumi.String(strconv.Itoa(cfg.FunctionTimeoutSeconds)).ToStringOutput(),
		stackcfg.OutPlatform:         pulumi.String(string(stackcfg.PlatformOpenFaaS)).ToStringOutput(),
		stackcfg.OutExperiment:       pulumi.String(cfg.Experiment).ToStringOutput(),
		stackcfg.OutRun:              pulumi.String(cfg.Run).ToStringOutput(),
		stackcfg.OutRegion:           pulumi.String(cfg.Region).ToStringOutput(),
		stackcfg.OutClusterName:      pulumi.String(clusterName).ToStringOutput(),
		stackcfg.OutKubeconfig:       pulumi.ToSecret(cluster.KubeconfigJson),
		stackcfg.OutGatewayURL:       gatewayURL,
		stackcfg.OutGatewayUser:      pulumi.String(GatewayUser).ToStringOutput(),
		stackcfg.OutGatewayPassword:  password,
		stackcfg.OutFunctionNames:    names.ToStringMapOutput(),
		stackcfg.OutFunctionURLs:     urls.ToStringMapOutput(),
		OutChartVersion:              openfaas.Status.Version().Elem(),
	}, nil
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
