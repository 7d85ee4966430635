package openfaas

import (
	"encoding/json"
	"fmt"
	"strings"

	awseks "github.com/pulumi/pulumi-aws/sdk/v6/go/aws/eks"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// The AWS Load Balancer Controller's service account. Fargate pods cannot
// sit behind the in-tree (instance-target) load balancers, so the gateway
// is exposed through an NLB with IP targets, which only this controller
// provisions.
const (
	lbcNamespace      = "kube-system"
	lbcServiceAccount = "aws-load-balancer-controller"
)

// lbcPolicy is what the controller needs to run NLBs with IP targets for
// Services. It is written for this stack and is coarser than the upstream
// policy (no tag conditions): the account should be a dedicated
// benchmarking account.
const lbcPolicy = `{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "ElbServiceLinkedRole",
      "Effect": "Allow",
      "Action": "iam:CreateServiceLinkedRole",
      "Resource": "*",
      "Condition": {"StringEquals": {"iam:AWSServiceName": "elasticloadbalancing.amazonaws.com"}}
    },
    {
      "Sid": "Discover",
      "Effect": "Allow",
      "Action": ["ec2:Describe*", "ec2:GetSecurityGroupsForVpc", "elasticloadbalancing:Describe*"],
      "Resource": "*"
    },
    {
      "Sid": "SecurityGroups",
      "Effect": "Allow",
      "Action": [
        "ec2:CreateSecurityGroup", "ec2:DeleteSecurityGroup",
        "ec2:AuthorizeSecurityGroupIngress", "ec2:RevokeSecurityGroupIngress",
        "ec2:CreateTags", "ec2:DeleteTags"
      ],
      "Resource": "*"
    },
    {
      "Sid": "LoadBalancers",
      "Effect": "Allow",
      "Action": [
        "elasticloadbalancing:CreateLoadBalancer", "elasticloadbalancing:DeleteLoadBalancer",
        "elasticloadbalancing:ModifyLoadBalancerAttributes",
        "elasticloadbalancing:CreateTargetGroup", "elasticloadbalancing:DeleteTargetGroup",
        "elasticloadbalancing:ModifyTargetGroup", "elasticloadbalancing:ModifyTargetGroupAttributes",
        "elasticloadbalancing:RegisterTargets", "elasticloadbalancing:DeregisterTargets",
        "elasticloadbalancing:CreateListener", "elasticloadbalancing:DeleteListener",
        "elasticloadbalancing:ModifyListener", "elasticloadbalancing:ModifyListenerAttributes",
        "elasticloadbalancing:AddTags", "elasticloadbalancing:RemoveTags",
        "elasticloadbalancing:SetSecurityGroups", "elasticloadbalancing:SetSubnets",
        "elasticloadbalancing:SetIpAddressType"
      ],
      "Resource": "*"
    }
  ]
}`

// lbcRole creates the cluster's IAM OIDC provider and the IRSA role the
// controller's service account assumes, and returns the role and its
// policy (which the controller needs until its last load balancer is
// deleted).
func lbcRole(ctx *pulumi.Context, prefix, clusterName string, cluster pulumi.Resource, tags pulumi.StringMap, opt pulumi.ResourceOrInvokeOption) (*iam.Role, *iam.RolePolicy, error) {
	eksCluster := awseks.LookupClusterOutput(ctx, awseks.LookupClusterOutputArgs{
		Name: pulumi.String(clusterName),
	}, opt, pulumi.DependsOn([]pulumi.Resource{cluster}))
	issuer := eksCluster.Identities().Index(pulumi.Int(0)).Oidcs().Index(pulumi.Int(0)).Issuer()

	oidc, err := iam.NewOpenIdConnectProvider(ctx, "oidc", &iam.OpenIdConnectProviderArgs{
		Url:           issuer,
		ClientIdLists: pulumi.StringArray{pulumi.String("sts.amazonaws.com")},
		Tags:          tags,
	}, opt)
	if err != nil {
		return nil, nil, fmt.Errorf("openfaas stack: oidc provider: %w", err)
	}
	trust := pulumi.All(oidc.Arn, issuer).ApplyT(func(xs []any) (string, error) {
		return irsaTrust(xs[0].(string), xs[1].(string), lbcNamespace, lbcServiceAccount)
	}).(pulumi.StringOutput)
	role, err := iam.NewRole(ctx, "lbc", &iam.RoleArgs{
		Name:             pulumi.String(prefix + "lbc"),
		AssumeRolePolicy: trust,
		Tags:             tags,
	}, opt)
	if err != nil {
		return nil, nil, fmt.Errorf("openfaas stack: lbc role: %w", err)
	}
	policy, err := iam.NewRolePolicy(ctx, "lbc", &iam.RolePolicyArgs{
		Name:   pulumi.String(prefix + "lbc"),
		Role:   role.ID(),
		Policy: pulumi.String(lbcPolicy),
	}, opt)
	if err != nil {
		return nil, nil, fmt.Errorf("openfaas stack: lbc policy: %w", err)
	}
	return role, policy, nil
}

// irsaTrust lets exactly one Kubernetes service account assume a role
// through the cluster's OIDC provider.
func irsaTrust(providerARN, issuerURL, namespace, serviceAccount string) (string, error) {
	host := strings.TrimPrefix(issuerURL, "https://")
	doc := map[string]any{
		"Version": "2012-10-17",
		"Statement": []any{map[string]any{
			"Effect":    "Allow",
			"Principal": map[string]any{"Federated": providerARN},
			"Action":    "sts:AssumeRoleWithWebIdentity",
			"Condition": map[string]any{"StringEquals": map[string]any{
				host + ":sub": "system:serviceaccount:" + namespace + ":" + serviceAccount,
				host + ":aud": "sts.amazonaws.com",
			}},
		}},
	}
	b, err := json.Marshal(doc)
	if err != nil {
		return "", fmt.Errorf("openfaas stack: trust policy: %w", err)
	}
	return string(b), nil
}
