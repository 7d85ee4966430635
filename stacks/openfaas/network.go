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

func newNetwork(ctx *pulumi.Context, name, cidr, clusterName string, tags map[string]string, opt pulumi.ResourceOrInvokeOption) (*network, error) {
	base, err := netip.ParsePrefix(cidr)
	if err != nil {
		return nil, fmt.Errorf("openfaas stack: vpc cidr: %w", err)
	}
	withName := func(n string, extra map[string]string) pulumi.StringMap {
		m := pulumi.ToStringMap(tags)
		m["Name"] = pulumi.String(n)
		for k, v := range extra {
			m[k] = pulumi.String(v)
		}
		return m
	}
	vpc, err := ec2.NewVpc(ctx, name, &ec2.VpcArgs{
		CidrBlock:          pulumi.String(cidr),
		EnableDnsHostnames: pulumi.Bool(true),
		EnableDnsSupport:   pulumi.Bool(true),
		Tags:               withName(name, nil),
	}, opt)
	if err != nil {
		return nil, fmt.Errorf("openfaas stack: vpc: %w", err)
	}
	igw, err := ec2.NewInternetGateway(ctx, name, &ec2.InternetGatewayArgs{
		VpcId: vpc.ID(),
		Tags:  withName(name, nil),
	}, opt)
	if err != nil {
		return nil, fmt.Errorf("openfaas stack: internet gateway: %w", err)
	}
	azs := aws.GetAvailabilityZonesOutput(ctx, aws.GetAvailabilityZonesOutputArgs{
		State: pulumi.String("available"),
	}, opt)

	publicRT, err := ec2.NewRouteTable(ctx, name+"-public", &ec2.RouteTableArgs{
		VpcId:  vpc.ID(),
		Routes: ec2.RouteTableRouteArray{ec2.RouteTableRouteArgs{CidrBlock: pulumi.String("0.0.0.0/0"), GatewayId: igw.ID()}},
		Tags:   withName(name+"-public", nil),
	}, opt)
	if err != nil {
		return nil, fmt.Errorf("openfaas stack: public route table: %w", err)
	}

	n := &network{vpc: vpc}
	clusterTag := "kubernetes.io/cluster/" + clusterName
	var natSubnet *ec2.Subnet
	for i := 0; i < zones; i++ {
		az := azs.Names().Index(pulumi.Int(i))
		pubCIDR, err := subnetCIDR(base, 4, i)
		if err != nil {
			return nil, err
		}
		pub, err := ec2.NewSubnet(ctx, fmt.Sprintf("%s-public-%d", name, i), &ec2.SubnetArgs{
			VpcId:               vpc.ID(),
			CidrBlock:           pulumi.String(pubCIDR),
			AvailabilityZone:    az,
			MapPublicIpOnLaunch: pulumi.Bool(true),
			Tags:                withName(fmt.Sprintf("%s-public-%d", name, i), map[string]string{"kubernetes.io/role/elb": "1", clusterTag: "shared"}),
		}, opt)
		if err != nil {
			return nil, fmt.Errorf("openfaas stack: public subnet: %w", err)
		}
		assoc, err := ec2.NewRouteTableAssociation(ctx, fmt.Sprintf("%s-public-%d", name, i), &ec2.RouteTableAssociationArgs{
			SubnetId: pub.ID(), RouteTableId: publicRT.ID(),
		}, opt)
		if err != nil {
			return nil, fmt.Errorf("openfaas stack: public route association: %w", err)
		}
		n.egress = append(n.egress, assoc)
		if natSubnet == nil {
			natSubnet = pub
		}
		n.publicSubnets = append(n.publicSubnets, pub.ID())
	}

	eip, err := ec2.NewEip(ctx, name+"-nat", &ec2.EipArgs{Domain: pulumi.String("vpc"), Tags: withName(name+"-nat", nil)}, opt)
	if err != nil {
		return nil, fmt.Errorf("openfaas stack: nat address: %w", err)
	}
	nat, err := ec2.NewNatGateway(ctx, name, &ec2.NatGatewayArgs{
		AllocationId: eip.ID(),
		SubnetId:     natSubnet.ID(),
		Tags:         withName(name, nil),
	}, opt, pulumi.DependsOn([]pulumi.Resource{igw}))
	if err != nil {
		return nil, fmt.Errorf("openfaas stack: nat gateway: %w", err)
	}
	n.egress = append(n.egress, nat)
	privateRT, err := ec2.NewRouteTable(ctx, name+"-private", &ec2.RouteTableArgs{
		VpcId:  vpc.ID(),
		Routes: ec2.RouteTableRouteArray{ec2.RouteTableRouteArgs{CidrBlock: pulumi.String("0.0.0.0/0"), NatGatewayId: nat.ID()}},
		Tags:   withName(name+"-private", nil),
	}, opt)
	if err != nil {
		return nil, fmt.Errorf("openfaas stack: private route table: %w", err)
	}
	for i := 0; i < zones; i++ {
		privCIDR, err := subnetCIDR(base, 4, zones+i)
		if err != nil {
			return nil, err
		}
		priv, err := ec2.NewSubnet(ctx, fmt.Sprintf("%s-private-%d", name, i), &ec2.SubnetArgs{
			VpcId:            vpc.ID(),
			CidrBlock:        pulumi.String(privCIDR),
			AvailabilityZone: azs.Names().Index(pulumi.Int(i)),
			Tags:             withName(fmt.Sprintf("%s-private-%d", name, i), map[string]string{"kubernetes.io/role/internal-elb": "1", clusterTag: "shared"}),
		}, opt)
		if err != nil {
			return nil, fmt.Errorf("openfaas stack: private subnet: %w", err)
		}
		assoc, err := ec2.NewRouteTableAssociation(ctx, fmt.Sprintf("%s-private-%d", name, i), &ec2.RouteTableAssociationArgs{
			SubnetId: priv.ID(), RouteTableId: privateRT.ID(),
		}, opt)
		if err != nil {
			return nil, fmt.Errorf("openfaas stack: private route association: %w", err)
		}
		n.egress = append(n.egress, assoc)
		n.privateSubnets = append(n.privateSubnets, priv.ID())
	}
	return n, nil
}
