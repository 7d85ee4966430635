package openfaas

import (
	"fmt"
	"math/big"
	"net/netip"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// zones is how many availability zones the VPC spans (EKS needs two).
const zones = 2

// network is the VPC the cluster runs in: a public subnet per zone (NAT
// gateway, load balancers) and a private subnet per zone (Fargate pods,
// which get no public address).
type network struct {
	vpc            *ec2.Vpc
	publicSubnets  pulumi.StringArray
	privateSubnets pulumi.StringArray
	// egress is what gives the Fargate pods in the private subnets their
	// way out to the AWS APIs: every route-table association (private
	// subnet → NAT route; public subnet, where the NAT sits → internet
	// gateway route) and the NAT gateway.
	egress []pulumi.Resource
}

// subnetCIDR returns the i-th subnet of base with extra more prefix bits.
func subnetCIDR(base netip.Prefix, extra, i int) (string, error) {
	bits := base.Bits() + extra
	if !base.Addr().Is4() || bits > 28 || i >= 1<<extra {
		return "", fmt.Errorf("openfaas stack: cannot cut subnet %d (/%d) from %s", i, bits, base)
	}
	start := new(big.Int).SetBytes(base.Masked().Addr().AsSlice())
	step := new(big.Int).Lsh(big.NewInt(int64(i)), uint(32-bits))
	b := new(big.Int).Add(start, step).FillBytes(make([]byte, 4))
	return netip.PrefixFrom(netip.AddrFrom4([4]byte(b)), bits).String(), nil
}

// newNetwork declares the VPC named name (cidr) with its internet
// gateway, a public subnet per zone behind a public route table, the NAT
// gateway in the first public subnet, and a private subnet per zone
// routed through the NAT gateway.
func newNetwork(ctx *pulumi.Context, name, cidr, clusterName string, tags map[string]string, opt pulumi.ResourceOrInvokeOption) (*network, error) {
	base, err := netip.ParsePrefix(cidr)
	if err != nil {
		return nil, fmt.Errorf("openfaas stack: vpc cidr: %w", err)
	}
	b := &netBuilder{ctx: ctx, name: name, base: base, clusterTag: "kubernetes.io/cluster/" + clusterName, tags: tags, opt: opt}
	igw, err := b.vpc(cidr)
	if err != nil {
		return nil, err
	}
	publicRT, err := b.routeTable("public", ec2.RouteTableRouteArgs{CidrBlock: pulumi.String("0.0.0.0/0"), GatewayId: igw.ID()})
	if err != nil {
		return nil, err
	}
	var natSubnet *ec2.Subnet
	for i := 0; i < zones; i++ {
		pub, err := b.subnet("public", i, i, publicRT, map[string]string{"kubernetes.io/role/elb": "1"})
		if err != nil {
			return nil, err
		}
		if natSubnet == nil {
			natSubnet = pub
		}
		b.net.publicSubnets = append(b.net.publicSubnets, pub.ID())
	}
	nat, err := b.natGateway(natSubnet, igw)
	if err != nil {
		return nil, err
	}
	privateRT, err := b.routeTable("private", ec2.RouteTableRouteArgs{CidrBlock: pulumi.String("0.0.0.0/0"), NatGatewayId: nat.ID()})
	if err != nil {
		return nil, err
	}
	for i := 0; i < zones; i++ {
		priv, err := b.subnet("private", i, zones+i, privateRT, map[string]string{"kubernetes.io/role/internal-elb": "1"})
		if err != nil {
			return nil, err
		}
		b.net.privateSubnets = append(b.net.privateSubnets, priv.ID())
	}
	return &b.net, nil
}

// netBuilder declares the resources of one network.
type netBuilder struct {
	ctx        *pulumi.Context
	name       string
	base       netip.Prefix
	clusterTag string
	tags       map[string]string
	opt        pulumi.ResourceOrInvokeOption
	azs        aws.GetAvailabilityZonesResultOutput
	net        network
}

// withName is the resource tags with Name n and the extra tags.
func (b *netBuilder) withName(n string, extra map[string]string) pulumi.StringMap {
	m := pulumi.ToStringMap(b.tags)
	m["Name"] = pulumi.String(n)
	for k, v := range extra {
		m[k] = pulumi.String(v)
	}
	return m
}

// vpc declares the VPC and its internet gateway, and looks up the
// availability zones.
func (b *netBuilder) vpc(cidr string) (*ec2.InternetGateway, error) {
	vpc, err := ec2.NewVpc(b.ctx, b.name, &ec2.VpcArgs{
		CidrBlock:          pulumi.String(cidr),
		EnableDnsHostnames: pulumi.Bool(true),
		EnableDnsSupport:   pulumi.Bool(true),
		Tags:               b.withName(b.name, nil),
	}, b.opt)
	if err != nil {
		return nil, fmt.Errorf("openfaas stack: vpc: %w", err)
	}
	b.net.vpc = vpc
	igw, err := ec2.NewInternetGateway(b.ctx, b.name, &ec2.InternetGatewayArgs{
		VpcId: vpc.ID(),
		Tags:  b.withName(b.name, nil),
	}, b.opt)
	if err != nil {
		return nil, fmt.Errorf("openfaas stack: internet gateway: %w", err)
	}
	b.azs = aws.GetAvailabilityZonesOutput(b.ctx, aws.GetAvailabilityZonesOutputArgs{
		State: pulumi.String("available"),
	}, b.opt)
	return igw, nil
}

// routeTable declares the kind ("public", "private") route table with its
// default route.
func (b *netBuilder) routeTable(kind string, route ec2.RouteTableRouteArgs) (*ec2.RouteTable, error) {
	rt, err := ec2.NewRouteTable(b.ctx, b.name+"-"+kind, &ec2.RouteTableArgs{
		VpcId:  b.net.vpc.ID(),
		Routes: ec2.RouteTableRouteArray{route},
		Tags:   b.withName(b.name+"-"+kind, nil),
	}, b.opt)
	if err != nil {
		return nil, fmt.Errorf("openfaas stack: %s route table: %w", kind, err)
	}
	return rt, nil
}

// subnet declares the i-th kind subnet (the index-th /+4 of the VPC, in
// zone i) and its association with rt, which joins the network's egress.
func (b *netBuilder) subnet(kind string, i, index int, rt *ec2.RouteTable, roleTags map[string]string) (*ec2.Subnet, error) {
	cidr, err := subnetCIDR(b.base, 4, index)
	if err != nil {
		return nil, err
	}
	name := fmt.Sprintf("%s-%s-%d", b.name, kind, i)
	extra := map[string]string{b.clusterTag: "shared"}
	for k, v := range roleTags {
		extra[k] = v
	}
	args := &ec2.SubnetArgs{
		VpcId:            b.net.vpc.ID(),
		CidrBlock:        pulumi.String(cidr),
		AvailabilityZone: b.azs.Names().Index(pulumi.Int(i)),
		Tags:             b.withName(name, extra),
	}
	if kind == "public" {
		args.MapPublicIpOnLaunch = pulumi.Bool(true)
	}
	sub, err := ec2.NewSubnet(b.ctx, name, args, b.opt)
	if err != nil {
		return nil, fmt.Errorf("openfaas stack: %s subnet: %w", kind, err)
	}
	assoc, err := ec2.NewRouteTableAssociation(b.ctx, name, &ec2.RouteTableAssociationArgs{
		SubnetId: sub.ID(), RouteTableId: rt.ID(),
	}, b.opt)
	if err != nil {
		return nil, fmt.Errorf("openfaas stack: %s route association: %w", kind, err)
	}
	b.net.egress = append(b.net.egress, assoc)
	return sub, nil
}

// natGateway declares the NAT gateway (and its address) in subnet, which
// joins the network's egress.
func (b *netBuilder) natGateway(subnet *ec2.Subnet, igw *ec2.InternetGateway) (*ec2.NatGateway, error) {
	eip, err := ec2.NewEip(b.ctx, b.name+"-nat", &ec2.EipArgs{Domain: pulumi.String("vpc"), Tags: b.withName(b.name+"-nat", nil)}, b.opt)
	if err != nil {
		return nil, fmt.Errorf("openfaas stack: nat address: %w", err)
	}
	nat, err := ec2.NewNatGateway(b.ctx, b.name, &ec2.NatGatewayArgs{
		AllocationId: eip.ID(),
		SubnetId:     subnet.ID(),
		Tags:         b.withName(b.name, nil),
	}, b.opt, pulumi.DependsOn([]pulumi.Resource{igw}))
	if err != nil {
		return nil, fmt.Errorf("openfaas stack: nat gateway: %w", err)
	}
	b.net.egress = append(b.net.egress, nat)
	return nat, nil
}
