package openfaas

import (
	"fmt"
	"sort"
	"strconv"

	appsv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/apps/v1"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/faas-benchmarker/faas-benchmarker/stacks/stackcfg"
)

// FunctionLabel is the label faas-netes uses to find a function's
// Deployment and route to its Service.
const FunctionLabel = "faas_function"

// functionEnv is the environment of lab function lab: the shared FB_
// variables, the in-cluster gateway URL template of its siblings (nested
// calls go through the gateway like any OpenFaaS function-to-function
// call), the memory limit and the user's extra variables.
func functionEnv(cfg stackcfg.OpenFaaS, lab string) map[string]string {
	env := cfg.FunctionEnv(lab)
	env[stackcfg.EnvPlatform] = stackcfg.LabPlatformOpenFaaS
	env[stackcfg.EnvMemoryMB] = strconv.Itoa(cfg.MemoryMB)
	env[stackcfg.EnvNestedURLTemplate] = fmt.Sprintf("http://gateway.%s.svc.cluster.local:%d/function/%s",
		GatewayNamespace, GatewayPort, cfg.NameTemplate())
	// The of-watchdog's timeouts (the image sets them for 300 s; the
	// stack's fb:functionTimeout is authoritative).
	to := cfg.GatewayTimeouts()
	env["exec_timeout"] = stackcfg.GoDuration(to.Exec)
	env["read_timeout"] = stackcfg.GoDuration(to.WatchdogReadWrite)
	env["write_timeout"] = stackcfg.GoDuration(to.WatchdogReadWrite)
	env[stackcfg.EnvFunctionTimeout] = strconv.Itoa(cfg.FunctionTimeoutSeconds)
	for k, v := range cfg.Env {
		env[k] = v
	}
	return env
}

// deployFunctions declares every lab function and returns lab name →
// OpenFaaS function name.
func deployFunctions(ctx *pulumi.Context, cfg stackcfg.OpenFaaS, k8sOpt pulumi.ResourceOption, openfaas pulumi.Resource) (map[string]string, error) {
	names := map[string]string{}
	after := pulumi.DependsOn([]pulumi.Resource{openfaas})
	for _, lab := range cfg.Functions {
		name := cfg.FunctionName(lab)
		names[lab] = name
		if err := functionDeployment(ctx, cfg, lab, name, k8sOpt, after); err != nil {
			return nil, fmt.Errorf("openfaas stack: function %s: %w", lab, err)
		}
	}
	return names, nil
}

func labels(cfg stackcfg.OpenFaaS, name string) pulumi.StringMap {
	l := pulumi.ToStringMap(ScaleLabels(cfg))
	l[FunctionLabel] = pulumi.String(name)
	return l
}

func sortedEnv(env map[string]string) corev1.EnvVarArray {
	keys := make([]string, 0, len(env))
	for k := range env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make(corev1.EnvVarArray, 0, len(keys))
	for _, k := range keys {
		out = append(out, corev1.EnvVarArgs{Name: pulumi.String(k), Value: pulumi.String(env[k])})
	}
	return out
}

// functionDeployment declares the Deployment and Service faas-netes CE
// would create for the function (and lists, scales and routes to).
func functionDeployment(ctx *pulumi.Context, cfg stackcfg.OpenFaaS, lab, name string, opts ...pulumi.ResourceOption) error {
	memory := pulumi.Sprintf("%dMi", cfg.MemoryMB)
	meta := &metav1.ObjectMetaArgs{
		Name:        pulumi.String(name),
		Namespace:   pulumi.String(FunctionNamespace),
		Labels:      labels(cfg, name),
		Annotations: pulumi.StringMap{"prometheus.io.scrape": pulumi.String("false")},
	}
	if _, err := appsv1.NewDeployment(ctx, lab, &appsv1.DeploymentArgs{
		Metadata: meta,
		Spec: &appsv1.DeploymentSpecArgs{
			Replicas: pulumi.Int(max(cfg.ScaleMin, 1)),
			Selector: &metav1.LabelSelectorArgs{MatchLabels: pulumi.StringMap{FunctionLabel: pulumi.String(name)}},
			Template: &corev1.PodTemplateSpecArgs{
				Metadata: &metav1.ObjectMetaArgs{Labels: labels(cfg, name)},
				Spec: &corev1.PodSpecArgs{
					EnableServiceLinks: pulumi.Bool(false),
					Containers: corev1.ContainerArray{corev1.ContainerArgs{
						Name:  pulumi.String(name),
						Image: pulumi.String(cfg.ImageFor(lab)),
						Ports: corev1.ContainerPortArray{corev1.ContainerPortArgs{
							Name: pulumi.String("http"), ContainerPort: pulumi.Int(GatewayPort), Protocol: pulumi.String("TCP"),
						}},
						Env: sortedEnv(functionEnv(cfg, lab)),
						Resources: &corev1.ResourceRequirementsArgs{
							Requests: pulumi.StringMap{"memory": memory, "cpu": pulumi.Sprintf("%dm", cfg.CPUMillis)},
							Limits:   pulumi.StringMap{"memory": memory},
						},
						ReadinessProbe: &corev1.ProbeArgs{
							TcpSocket:     &corev1.TCPSocketActionArgs{Port: pulumi.Int(GatewayPort)},
							PeriodSeconds: pulumi.Int(2),
						},
					}},
				},
			},
		},
	}, opts...); err != nil {
		return err
	}
	_, err := corev1.NewService(ctx, lab, &corev1.ServiceArgs{
		Metadata: &metav1.ObjectMetaArgs{
			Name:      pulumi.String(name),
			Namespace: pulumi.String(FunctionNamespace),
			Labels:    labels(cfg, name),
		},
		Spec: &corev1.ServiceSpecArgs{
			Type:     pulumi.String("ClusterIP"),
			Selector: pulumi.StringMap{FunctionLabel: pulumi.String(name)},
			Ports: corev1.ServicePortArray{corev1.ServicePortArgs{
				Name: pulumi.String("http"), Port: pulumi.Int(GatewayPort), TargetPort: pulumi.Int(GatewayPort), Protocol: pulumi.String("TCP"),
			}},
		},
	}, opts...)
	return err
}
