package openfaas

import (
	"encoding/json"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/faas-benchmarker/faas-benchmarker/stacks/internal/stacktest"
	"github.com/faas-benchmarker/faas-benchmarker/stacks/stackcfg"
)

const (
	typeCluster    = "eks:index:Cluster"
	typeRelease    = "kubernetes:helm.sh/v3:Release"
	typeNamespace  = "kubernetes:core/v1:Namespace"
	typeSecret     = "kubernetes:core/v1:Secret"
	typeService    = "kubernetes:core/v1:Service"
	typeDeployment = "kubernetes:apps/v1:Deployment"
	typeK8sProv    = "pulumi:providers:kubernetes"
	typeAWSProv    = "pulumi:providers:aws"
	typeRole       = "aws:iam/role:Role"
	typeOIDC       = "aws:iam/openIdConnectProvider:OpenIdConnectProvider"
	typeSubnet     = "aws:ec2/subnet:Subnet"

	// kubeconfig has the shape pulumi-eks writes (kubeconfigJson): one
	// cluster, one context, an exec plugin running aws eks get-token.
	kubeconfig = `{"apiVersion":"v1","kind":"Config","current-context":"aws","clusters":[{"name":"kubernetes",` +
		`"cluster":{"server":"https://ABC123.gr7.eu-west-1.eks.amazonaws.com","certificate-authority-data":""}}],` +
		`"contexts":[{"name":"aws","context":{"cluster":"kubernetes","user":"aws"}}],` +
		`"users":[{"name":"aws","user":{"exec":{"apiVersion":"client.authentication.k8s.io/v1beta1","command":"aws",` +
		`"args":["eks","get-token","--cluster-name","fb-scale-r3","--output","json"]}}}]}`
	lbHost   = "k8s-openfaas-gateway-0123.elb.eu-west-1.amazonaws.com"
	issuer   = "https://oidc.eks.eu-west-1.amazonaws.com/id/ABC123"
	password = "correct-horse-battery-staple"
)

func config(t *testing.T, overrides ...string) stackcfg.OpenFaaS {
	t.Helper()
	c := stackcfg.DefaultOpenFaaS()
	base := []string{"image=ghcr.io/example/fb-lab:1", "monolithImage=ghcr.io/example/fb-mono:1", "gatewayPassword=" + password, "experiment=scale", "run=r3", "gatewayCidrs=198.51.100.20/32"}
	if err := stackcfg.ApplyOverrides(&c, append(base, overrides...)); err != nil {
		t.Fatal(err)
	}
	return c
}

func mocks() *stacktest.Mocks {
	return &stacktest.Mocks{
		State: func(r stacktest.Resource) resource.PropertyMap {
			switch {
			case r.Type == typeCluster:
				return resource.PropertyMap{"kubeconfigJson": resource.NewProperty(kubeconfig)}
			case r.Type == typeService && r.Name == "gateway-nlb":
				return resource.PropertyMap{"status": resource.NewProperty(resource.PropertyMap{
					"loadBalancer": resource.NewProperty(resource.PropertyMap{
						"ingress": resource.NewProperty([]resource.PropertyValue{
							resource.NewProperty(resource.PropertyMap{"hostname": resource.NewProperty(lbHost)}),
						}),
					}),
				})}
			case r.Type == typeRelease:
				return resource.PropertyMap{"status": resource.NewProperty(resource.PropertyMap{"version": resource.NewProperty("14.2.99")})}
			case r.Type == typeOIDC:
				return resource.PropertyMap{"arn": resource.NewProperty("arn:aws:iam::123456789012:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/ABC123")}
			case r.Type == typeRole:
				return resource.PropertyMap{"arn": resource.NewProperty("arn:aws:iam::123456789012:role/" + r.Name)}
			}
			return nil
		},
		Result: func(c stacktest.Call) (resource.PropertyMap, error) {
			switch c.Token {
			case "aws:index/getAvailabilityZones:getAvailabilityZones":
				return resource.PropertyMap{"names": resource.NewProperty([]resource.PropertyValue{
					resource.NewProperty("eu-west-1a"), resource.NewProperty("eu-west-1b"), resource.NewProperty("eu-west-1c"),
				})}, nil
			case "aws:eks/getCluster:getCluster":
				return resource.PropertyMap{"identities": resource.NewProperty([]resource.PropertyValue{
					resource.NewProperty(resource.PropertyMap{"oidcs": resource.NewProperty([]resource.PropertyValue{
						resource.NewProperty(resource.PropertyMap{"issuer": resource.NewProperty(issuer)}),
					})}),
				})}, nil
			}
			return nil, nil
		},
	}
}

func run(t *testing.T, cfg stackcfg.OpenFaaS) (*stacktest.Mocks, map[string]stacktest.Value) {
	t.Helper()
	m := mocks()
	outs, err := stacktest.Run(t, m, func(ctx *pulumi.Context) (map[string]pulumi.Output, error) {
		return Deploy(ctx, cfg)
	})
	if err != nil {
		t.Fatalf("program failed: %v", err)
	}
	return m, outs
}

func TestResources(t *testing.T) {
	m, outs := run(t, config(t, "gatewayCidrs=198.51.100.20/32", "scaleMin=2", "scaleMax=4", "memory=256", "functionTimeout=200"))
	want := map[string]int{
		typeAWSProv: 1, "aws:ec2/vpc:Vpc": 1, "aws:ec2/internetGateway:InternetGateway": 1, typeSubnet: 4,
		"aws:ec2/routeTable:RouteTable": 2, "aws:ec2/routeTableAssociation:RouteTableAssociation": 4,
		"aws:ec2/eip:Eip": 1, "aws:ec2/natGateway:NatGateway": 1, typeCluster: 1, typeOIDC: 1, typeRole: 1,
		"aws:iam/rolePolicy:RolePolicy": 1, typeK8sProv: 1, typeRelease: 2, typeNamespace: 2, typeSecret: 1,
		typeService: 5, typeDeployment: 4,
	}
	got := m.Counts()
	for typ, n := range want {
		if got[typ] != n {
			t.Errorf("%s: %d, want %d", typ, got[typ], n)
		}
	}
	if len(got) != len(want) {
		t.Errorf("resource types = %v", got)
	}

	cluster := stacktest.Plain(m.OfType(typeCluster)[0])
	if cluster["name"] != "fb-scale-r3" || cluster["version"] != "1.34" {
		t.Errorf("cluster name/version = %v/%v", cluster["name"], cluster["version"])
	}
	var nss []string
	for _, s := range cluster["fargate"].(map[string]any)["selectors"].([]any) {
		nss = append(nss, s.(map[string]any)["namespace"].(string))
	}
	if !slices.Equal(nss, []string{"kube-system", "openfaas", "openfaas-fn"}) {
		t.Errorf("fargate selectors = %v", nss)
	}
	if len(cluster["privateSubnetIds"].([]any)) != 2 || len(cluster["publicSubnetIds"].([]any)) != 2 {
		t.Errorf("cluster subnets = %v / %v", cluster["privateSubnetIds"], cluster["publicSubnetIds"])
	}
	if tags := cluster["tags"].(map[string]any); tags["fb-run"] != "r3" || tags["fb-experiment"] != "scale" {
		t.Errorf("cluster tags = %v", tags)
	}

	// Every Kubernetes resource goes through the explicit provider built
	// from the cluster's kubeconfig.
	prov := m.OfType(typeK8sProv)[0]
	if stacktest.Str(t, prov, "kubeconfig") != kubeconfig {
		t.Errorf("provider kubeconfig = %q", stacktest.Str(t, prov, "kubeconfig"))
	}
	for _, r := range m.Resources() {
		if strings.HasPrefix(r.Type, "kubernetes:") && !strings.Contains(r.Provider, "pulumi:providers:kubernetes::k8s") {
			t.Errorf("%s %s uses provider %q", r.Type, r.Name, r.Provider)
		}
		if strings.HasPrefix(r.Type, "aws:") && !strings.Contains(r.Provider, "pulumi:providers:aws::aws") {
			t.Errorf("%s %s uses provider %q", r.Type, r.Name, r.Provider)
		}
	}

	secret := m.OfType(typeSecret)[0]
	data := secret.Inputs["stringData"]
	pw := stacktest.Unsecret(data).ObjectValue()["basic-auth-password"]
	if !pw.IsSecret() && !data.IsSecret() {
		t.Error("basic-auth password is not secret")
	}
	if stacktest.Unsecret(pw).StringValue() != password || stacktest.Unsecret(stacktest.Unsecret(data).ObjectValue()["basic-auth-user"]).StringValue() != "admin" {
		t.Errorf("basic-auth data = %v", data)
	}

	of := stacktest.Plain(m.Named(t, typeRelease, "openfaas"))
	values := of["values"].(map[string]any)
	if of["chart"] != "openfaas" || of["namespace"] != "openfaas" || values["functionNamespace"] != "openfaas-fn" ||
		values["generateBasicAuth"] != false || values["basic_auth"] != true ||
		values["operator"].(map[string]any)["create"] != false {
		t.Errorf("openfaas release = %v", of)
	}
	// The chart's gateway timeouts default to about a minute; a 200 s
	// function needs every one of them above 200 s, upstream below
	// read/write (OpenFaaS "Extended timeouts"), and read/write above the
	// 100 s scale-from-zero wait plus upstream.
	gv, fv := values["gateway"].(map[string]any), values["faasnetes"].(map[string]any)
	if gv["readTimeout"] != "315s" || gv["writeTimeout"] != "315s" || gv["upstreamTimeout"] != "210s" ||
		gv["scaleFromZero"] != true || fv["readTimeout"] != "315s" || fv["writeTimeout"] != "315s" ||
		values["queueWorker"].(map[string]any)["ackWait"] != "315s" {
		t.Errorf("gateway/faasnetes values = %v / %v", gv, fv)
	}
	ofr := m.Named(t, typeRelease, "openfaas")
	if !slices.ContainsFunc(ofr.DependsOn, func(u string) bool { return strings.HasSuffix(u, "::aws-load-balancer-controller") }) {
		t.Errorf("openfaas release does not wait for the load balancer controller: %v", ofr.DependsOn)
	}
	if _, pinned := of["version"]; pinned {
		t.Errorf("chart version pinned without config: %v", of["version"])
	}
	lbc := stacktest.Plain(m.Named(t, typeRelease, "aws-load-balancer-controller"))
	lv := lbc["values"].(map[string]any)
	sa := lv["serviceAccount"].(map[string]any)
	if lv["clusterName"] != "fb-scale-r3" || lv["region"] != "eu-west-1" || lv["vpcId"] == "" ||
		sa["annotations"].(map[string]any)["eks.amazonaws.com/role-arn"] != "arn:aws:iam::123456789012:role/lbc" {
		t.Errorf("lbc values = %v", lv)
	}

	gw := stacktest.Plain(m.Named(t, typeService, "gateway-nlb"))
	spec := gw["spec"].(map[string]any)
	if spec["type"] != "LoadBalancer" || spec["loadBalancerClass"] != "service.k8s.aws/nlb" ||
		!slices.Equal(stacktest.ToStrings(spec["loadBalancerSourceRanges"]), []string{"198.51.100.20/32"}) ||
		spec["selector"].(map[string]any)["app"] != "gateway" {
		t.Errorf("gateway service spec = %v", spec)
	}
	if ann := gw["metadata"].(map[string]any)["annotations"].(map[string]any); ann["service.beta.kubernetes.io/aws-load-balancer-nlb-target-type"] != "ip" {
		t.Errorf("gateway annotations = %v", ann)
	}

	for _, lab := range stackcfg.LabFunctions() {
		d := stacktest.Plain(m.Named(t, typeDeployment, lab))
		meta := d["metadata"].(map[string]any)
		lbl := meta["labels"].(map[string]any)
		name := "fb-scale-r3-" + lab
		if meta["name"] != name || meta["namespace"] != "openfaas-fn" || lbl["faas_function"] != name ||
			lbl["com.openfaas.scale.min"] != "2" || lbl["com.openfaas.scale.max"] != "4" {
			t.Errorf("%s metadata = %v", lab, meta)
		}
		podSpec := d["spec"].(map[string]any)["template"].(map[string]any)["spec"].(map[string]any)
		c := podSpec["containers"].([]any)[0].(map[string]any)
		wantImage := "ghcr.io/example/fb-lab:1"
		if lab == stackcfg.Monolith {
			wantImage = "ghcr.io/example/fb-mono:1"
		}
		if c["image"] != wantImage {
			t.Errorf("%s image = %v", lab, c["image"])
		}
		env := map[string]string{}
		for _, e := range c["env"].([]any) {
			e := e.(map[string]any)
			env[e["name"].(string)] = e["value"].(string)
		}
		if env["FB_FUNCTION_NAME"] != lab || env["FB_PLATFORM"] != "openfaas" || env["FB_MEMORY_MB"] != "256" ||
			env["FB_NESTED_URL_TEMPLATE"] != "http://gateway.openfaas.svc.cluster.local:8080/function/fb-scale-r3-{name}" ||
			env["exec_timeout"] != "200s" || env["read_timeout"] != "205s" || env["write_timeout"] != "205s" || env["FB_FUNCTION_TIMEOUT"] != "200" {
			t.Errorf("%s env = %v", lab, env)
		}
		res := c["resources"].(map[string]any)
		if res["limits"].(map[string]any)["memory"] != "256Mi" || res["requests"].(map[string]any)["cpu"] != "250m" {
			t.Errorf("%s resources = %v", lab, res)
		}
		svc := stacktest.Plain(m.Named(t, typeService, lab))
		if svc["spec"].(map[string]any)["selector"].(map[string]any)["faas_function"] != name {
			t.Errorf("%s service = %v", lab, svc)
		}
	}

	if outs[stackcfg.OutGatewayTransport].V != stackcfg.GatewayTransportRestrictedHTTP ||
		!slices.Equal(stacktest.ToStrings(outs[stackcfg.OutGatewayCIDRs].V), []string{"198.51.100.20/32"}) || outs[stackcfg.OutFunctionTimeout].V != "200" {
		t.Errorf("gateway transport/cidrs/function timeout outputs = %v %v %v", outs[stackcfg.OutGatewayTransport].V,
			outs[stackcfg.OutGatewayCIDRs].V, outs[stackcfg.OutFunctionTimeout].V)
	}
	if _, ok := outs["openfaasEdition"]; ok {
		t.Error("the stack outputs an edition: the edition is read from the running gateway")
	}
	if outs[stackcfg.OutGatewayURL].V != "http://"+lbHost+":8080" {
		t.Errorf("gateway url = %v", outs[stackcfg.OutGatewayURL].V)
	}
	if v := outs[stackcfg.OutGatewayPassword]; !v.Secret || v.V != password {
		t.Errorf("gateway password output = %+v (must be secret)", v)
	}
	if v := outs[stackcfg.OutKubeconfig]; !v.Secret || v.V != kubeconfig {
		t.Errorf("kubeconfig output secret=%v", v.Secret)
	}
	if outs[stackcfg.OutGatewayURL].Secret || outs[stackcfg.OutFunctionURLs].Secret {
		t.Error("gateway/function URLs should not be secret")
	}
	urls := stacktest.StringMap(t, outs[stackcfg.OutFunctionURLs].V)
	if urls["monolith"] != "http://"+lbHost+":8080/function/fb-scale-r3-monolith" {
		t.Errorf("function urls = %v", urls)
	}
	if outs[OutChartVersion].V != "14.2.99" || outs[stackcfg.OutGatewayUser].V != "admin" || outs[stackcfg.OutClusterName].V != "fb-scale-r3" {
		t.Errorf("outputs = %v", outs)
	}
}

func TestIRSATrust(t *testing.T) {
	m, _ := run(t, config(t))
	var doc struct {
		Statement []struct {
			Principal map[string]string
			Action    string
			Condition map[string]map[string]string
		}
	}
	if err := json.Unmarshal([]byte(stacktest.Str(t, m.Named(t, typeRole, "lbc"), "assumeRolePolicy")), &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Statement) != 1 {
		t.Fatalf("trust = %+v", doc)
	}
	s := doc.Statement[0]
	host := strings.TrimPrefix(issuer, "https://")
	if s.Action != "sts:AssumeRoleWithWebIdentity" || !strings.HasSuffix(s.Principal["Federated"], "oidc-provider/"+host) ||
		s.Condition["StringEquals"][host+":sub"] != "system:serviceaccount:kube-system:aws-load-balancer-controller" ||
		s.Condition["StringEquals"][host+":aud"] != "sts.amazonaws.com" {
		t.Fatalf("trust statement = %+v", s)
	}
	if got := stacktest.Str(t, m.OfType(typeOIDC)[0], "url"); got != issuer {
		t.Fatalf("oidc url = %q", got)
	}
}

// TestDestroyOrder: under Pulumi's reverse-dependency destroy, the
// gateway's NLB Service and the load balancer controller are deleted
// before everything the controller needs to delete the NLB — the NAT
// gateway, every route-table association (the private subnets' route to
// the NAT, the public subnets' route to the internet gateway) and the
// controller's IAM policy. Without those dependencies they were all
// deleted in the first parallel wave, the controller could no longer
// reach or call the AWS APIs, and the Service's finalizer held the
// cluster, the NLB and the Fargate pods (see the package documentation).
func TestDestroyOrder(t *testing.T) {
	m, _ := run(t, config(t))
	needed := append(m.OfType("aws:ec2/routeTableAssociation:RouteTableAssociation"),
		m.Named(t, "aws:ec2/natGateway:NatGateway", "fb-scale-r3"),
		m.Named(t, "aws:iam/rolePolicy:RolePolicy", "lbc"))
	if len(needed) != 6 {
		t.Fatalf("%d resources the controller needs, want 6", len(needed))
	}
	service := m.Named(t, typeService, "gateway-nlb")
	controller := m.Named(t, typeRelease, "aws-load-balancer-controller")
	if !m.DeletedBefore(service, controller) {
		t.Error("the gateway Service is not deleted before the load balancer controller")
	}
	for _, first := range []stacktest.Resource{service, controller, m.OfType(typeK8sProv)[0]} {
		for _, n := range needed {
			if !m.DeletedBefore(first, n) {
				t.Errorf("destroy may delete %s %s before %s %s", n.Type, n.Name, first.Type, first.Name)
			}
		}
	}
	// The chain is not circular: nothing the controller needs waits for
	// the Service.
	for _, n := range needed {
		if m.DeletedBefore(n, service) {
			t.Errorf("%s %s is deleted before the Service", n.Type, n.Name)
		}
	}
}

// TestServiceDeleteBounded: the Service's delete, which waits for the
// controller's finalizer, is bounded so a stuck controller fails the
// destroy naming the Service.
func TestServiceDeleteBounded(t *testing.T) {
	m, _ := run(t, config(t))
	rpc := m.Named(t, typeService, "gateway-nlb").CustomTimeouts
	if rpc == nil || rpc.GetDelete() != serviceDeleteTimeout {
		t.Fatalf("gateway-nlb custom timeouts = %v, want delete %s", rpc, serviceDeleteTimeout)
	}
}

func TestSubnets(t *testing.T) {
	m, _ := run(t, config(t, "vpcCidr=10.8.0.0/16"))
	var cidrs, azs []string
	for _, s := range m.OfType(typeSubnet) {
		cidrs = append(cidrs, stacktest.Str(t, s, "cidrBlock"))
		azs = append(azs, stacktest.Str(t, s, "availabilityZone"))
	}
	// Sorted by logical name: private-0, private-1, public-0, public-1.
	if !slices.Equal(cidrs, []string{"10.8.32.0/20", "10.8.48.0/20", "10.8.0.0/20", "10.8.16.0/20"}) {
		t.Errorf("subnet cidrs = %v", cidrs)
	}
	if !slices.Equal(azs, []string{"eu-west-1a", "eu-west-1b", "eu-west-1a", "eu-west-1b"}) {
		t.Errorf("subnet zones = %v", azs)
	}
}

func TestSubnetCIDR(t *testing.T) {
	tests := []struct {
		base    string
		extra   int
		i       int
		want    string
		wantErr bool
	}{
		{"10.42.0.0/16", 4, 0, "10.42.0.0/20", false},
		{"10.42.0.0/16", 4, 3, "10.42.48.0/20", false},
		{"10.42.0.0/20", 4, 15, "10.42.15.0/24", false},
		{"172.16.0.0/12", 4, 1, "172.17.0.0/16", false},
		{"10.42.0.0/16", 4, 16, "", true}, // only 16 subnets
		{"10.42.0.0/26", 4, 0, "", true},  // smaller than /28
		{"2001:db8::/56", 4, 0, "", true}, // IPv4 only
	}
	for _, tt := range tests {
		got, err := subnetCIDR(netip.MustParsePrefix(tt.base), tt.extra, tt.i)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("subnetCIDR(%s,%d,%d) = %q, %v; want %q (err %v)", tt.base, tt.extra, tt.i, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestInvalidConfigRejected(t *testing.T) {
	cfg := stackcfg.DefaultOpenFaaS() // no image, no password
	m := mocks()
	_, err := stacktest.Run(t, m, func(ctx *pulumi.Context) (map[string]pulumi.Output, error) {
		return Deploy(ctx, cfg)
	})
	if err == nil || !strings.Contains(err.Error(), "fb:image") || !strings.Contains(err.Error(), "fb:gatewayPassword") {
		t.Fatalf("err = %v", err)
	}
	if n := len(m.Resources()); n != 0 {
		t.Fatalf("%d resources registered", n)
	}
}

func TestProgram(t *testing.T) {
	m := mocks()
	if err := pulumi.RunErr(Program(config(t)), pulumi.WithMocks("fb", "test", m)); err != nil {
		t.Fatal(err)
	}
	if n := len(m.OfType(typeDeployment)); n != 4 {
		t.Fatalf("%d deployments", n)
	}
}
