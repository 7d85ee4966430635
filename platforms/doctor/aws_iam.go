package doctor

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/faas-benchmarker/faas-benchmarker/stacks/stackcfg"
)

// AWSPermission is a set of IAM actions the identity running fbrun needs
// on one kind of resource.
type AWSPermission struct {
	// Resource is the resource ARN; {partition}, {region} and {account}
	// are filled in, {function} is a lab function's deployed name,
	// {role} the stack's role name and {logGroup} its log group name.
	Resource string
	// Actions are the IAM actions.
	Actions []string
	// Why says what needs them.
	Why string
	// Stack is true for what only deploying and destroying the stack
	// needs; false for what every run on Lambda needs (also --function).
	Stack bool
}

// AWSPermissions are the IAM actions of a run on AWS Lambda, the list
// docs/infrastructure.md prints ("Permissions of the deploying identity";
// TestAWSPermissionsDocumented keeps them equal). The stack's come from
// what pulumi-aws v6 (a bridge of terraform-provider-aws v5) calls to
// create, read, update and delete a function (lambda CreateFunction,
// GetFunction, ListVersionsByFunction, GetFunctionCodeSigningConfig,
// UpdateFunctionCode/Configuration, tags, DeleteFunction), a role with
// an inline policy, and a log group; they were read from the provider's
// source, not tried against an account.
var AWSPermissions = []AWSPermission{
	{
		Resource: "arn:{partition}:lambda:{region}:{account}:function:{function}", Stack: true,
		Why: "the stack creates, reads, updates and deletes the lab functions",
		Actions: []string{"lambda:CreateFunction", "lambda:GetFunction", "lambda:ListVersionsByFunction",
			"lambda:GetFunctionCodeSigningConfig", "lambda:UpdateFunctionCode", "lambda:UpdateFunctionConfiguration",
			"lambda:TagResource", "lambda:UntagResource", "lambda:ListTags", "lambda:DeleteFunction"},
	},
	{
		Resource: "arn:{partition}:iam::{account}:role/{role}", Stack: true,
		Why: "the stack creates the functions' execution role with an inline policy and passes it to Lambda",
		Actions: []string{"iam:CreateRole", "iam:GetRole", "iam:TagRole", "iam:UntagRole", "iam:ListRolePolicies",
			"iam:ListAttachedRolePolicies", "iam:ListInstanceProfilesForRole", "iam:PutRolePolicy", "iam:GetRolePolicy",
			"iam:DeleteRolePolicy", "iam:DeleteRole", "iam:PassRole"},
	},
	{
		Resource: "arn:{partition}:logs:{region}:{account}:log-group:{logGroup}", Stack: true,
		Why: "the stack creates the functions' log group with a short retention",
		Actions: []string{"logs:CreateLogGroup", "logs:PutRetentionPolicy", "logs:DescribeLogGroups",
			"logs:TagResource", "logs:UntagResource", "logs:ListTagsForResource", "logs:DeleteLogGroup"},
	},
	{
		Resource: "arn:{partition}:lambda:{region}:{account}:function:{function}",
		Why:      "a run invokes the functions, forces cold starts and sets memory (configuration updates it restores on --function), reads their architecture and reserved concurrency",
		Actions: []string{"lambda:InvokeFunction", "lambda:GetFunction", "lambda:GetFunctionConfiguration",
			"lambda:UpdateFunctionConfiguration", "lambda:GetFunctionConcurrency"},
	},
	{
		Resource: "*",
		Why:      "the scaling experiment and fbrun doctor read the account's concurrency",
		Actions:  []string{"lambda:GetAccountSettings"},
	},
}

// AWSPermissionsCheck asks IAM whether the caller's identity policies
// allow AWSPermissions (all of them for a stack, the run's for an
// existing deployment), with iam:SimulatePrincipalPolicy
// (https://docs.aws.amazon.com/IAM/latest/APIReference/API_SimulatePrincipalPolicy.html)
// on the resources the run would use (the stack's names from sets).
//
// What it can check: the policies of an IAM user (with its groups') or
// role, their permissions boundary and the account's Organizations SCPs,
// as the simulator evaluates them. What it cannot: session policies, the
// root user and federated users (the simulator takes users, groups and
// roles only: "not checked" then), and an identity that may not call
// iam:SimulatePrincipalPolicy itself ("not checked", not a problem: the
// deploy will tell). An assumed role is simulated as its IAM role, whose
// ARN (with its path) iam:GetRole gives.
func AWSPermissionsCheck(e Env, region string, managed bool, sets []string) Check {
	return checkFunc{"aws permissions", func(ctx context.Context) Result {
		cfg, err := e.awsConfig(ctx, region)
		if err == nil {
			_, err = cfg.Credentials.Retrieve(ctx)
		}
		if err != nil {
			return problem("not checked: no usable AWS credentials", "fix the AWS credentials first")
		}
		id, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		if err != nil {
			return problem("not checked: STS GetCallerIdentity: "+err.Error(), "fix the AWS credentials first")
		}
		callerARN := aws.ToString(id.Arn)
		client := iam.NewFromConfig(cfg)
		source, guessed, why := principalARN(ctx, client, callerARN)
		if source == "" {
			return ok("not checked: " + why)
		}
		names := awsResourceNames(sets)
		partition := strings.SplitN(callerARN, ":", 3)[1]
		var denied []string
		for _, perm := range AWSPermissions {
			if perm.Stack && !managed {
				continue
			}
			for _, res := range perm.resources(partition, region, aws.ToString(id.Account), names, managed) {
				in := &iam.SimulatePrincipalPolicyInput{PolicySourceArn: aws.String(source), ActionNames: perm.Actions}
				if res != "*" {
					in.ResourceArns = []string{res}
				}
				if containsString(perm.Actions, "iam:PassRole") {
					// Policies commonly allow PassRole only to Lambda.
					in.ContextEntries = []iamtypes.ContextEntry{{ContextKeyName: aws.String("iam:PassedToService"),
						ContextKeyType: iamtypes.ContextKeyTypeEnumString, ContextKeyValues: []string{"lambda.amazonaws.com"}}}
				}
				p := iam.NewSimulatePrincipalPolicyPaginator(client, in)
				for p.HasMorePages() {
					out, err := p.NextPage(ctx)
					var api smithy.APIError
					if errors.As(err, &api) && (api.ErrorCode() == "AccessDenied" || api.ErrorCode() == "AccessDeniedException") {
						return ok("not checked: " + source + " may not call iam:SimulatePrincipalPolicy (the deploy will name what is missing)")
					}
					if guessed && errors.As(err, &api) && api.ErrorCode() == "NoSuchEntity" {
						// A role with a path, which only iam:GetRole gives:
						// the roles IAM Identity Center creates in an account
						// for its permission sets have the path
						// /aws-reserved/sso.amazonaws.com/ (IAM Identity
						// Center User Guide, "Permission sets": the
						// AWSReservedSSO_ roles).
						return ok("not checked: the path of role " + source + " is unknown without iam:GetRole (IAM Identity Center " +
							"roles live under /aws-reserved/sso.amazonaws.com/); allow iam:GetRole to have this checked")
					}
					if err != nil {
						return problem("IAM SimulatePrincipalPolicy: "+err.Error(), "retry; allow iam:SimulatePrincipalPolicy to have this checked")
					}
					for _, r := range out.EvaluationResults {
						if r.EvalDecision != iamtypes.PolicyEvaluationDecisionTypeAllowed {
							denied = append(denied, fmt.Sprintf("%s on %s (%s)", aws.ToString(r.EvalActionName), res, r.EvalDecision))
						}
					}
				}
			}
		}
		if len(denied) > 0 {
			sort.Strings(denied)
			return problem(fmt.Sprintf("%s lacks %d permission(s): %s", source, len(denied), strings.Join(denied, "; ")),
				`grant them (docs/infrastructure.md, "Permissions of the deploying identity")`)
		}
		what := "the run's account-wide (not the per-function ones: doctor is not given --function)"
		if managed {
			what = "the stack's and the run's"
		}
		return ok(fmt.Sprintf("%s allows %s actions (identity policies, boundary and SCPs as IAM simulates them; session policies are not simulated)", source, what))
	}}
}

func containsString(xs []string, x string) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

// principalARN maps the caller's ARN to one the simulator takes (guessed:
// a role's ARN without the path iam:GetRole would have given), or returns
// "" and why it cannot.
func principalARN(ctx context.Context, client *iam.Client, callerARN string) (arn string, guessed bool, why string) {
	parts := strings.SplitN(callerARN, ":", 6)
	if len(parts) != 6 {
		return "", false, fmt.Sprintf("unexpected caller ARN %q", callerARN)
	}
	partition, service, account, resource := parts[1], parts[2], parts[4], parts[5]
	switch {
	case service == "iam" && resource == "root":
		return "", false, "the root user has every permission (use an IAM user or role instead)"
	case service == "iam" && strings.HasPrefix(resource, "user/"):
		return callerARN, false, ""
	case service == "sts" && strings.HasPrefix(resource, "assumed-role/"):
		role := strings.SplitN(strings.TrimPrefix(resource, "assumed-role/"), "/", 2)[0]
		if out, err := client.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(role)}); err == nil && out.Role != nil {
			return aws.ToString(out.Role.Arn), false, ""
		}
		// Without iam:GetRole the role's path is unknown; most roles have none.
		return "arn:" + partition + ":iam::" + account + ":role/" + role, true, ""
	}
	return "", false, callerARN + " is not an IAM user or role, which is all IAM can simulate"
}

// awsNames are the stack's resource names under the run's settings.
type awsNames struct {
	functions []string
	role      string
	logGroup  string
}

func awsResourceNames(sets []string) awsNames {
	c := stackcfg.DefaultAWS()
	for _, o := range sets {
		if k, v, err := stackcfg.ParseOverride(o); err == nil {
			_ = c.Set(k, v)
		}
	}
	n := awsNames{role: c.Prefix() + "role", logGroup: "/fb/" + c.Experiment + "/" + c.Run}
	for _, name := range append(slices.Clone(c.Functions), c.LaneCopies()...) {
		n.functions = append(n.functions, c.FunctionName(name))
	}
	return n
}

// resources fills in p's resource for a stack (one per function); for an
// existing deployment, whose function names doctor is not given, the
// per-function permissions are left out (the run's first call names a
// missing one).
func (p AWSPermission) resources(partition, region, account string, n awsNames, managed bool) []string {
	r := strings.NewReplacer("{partition}", partition, "{region}", region, "{account}", account,
		"{role}", n.role, "{logGroup}", n.logGroup)
	if !strings.Contains(p.Resource, "{function}") {
		return []string{r.Replace(p.Resource)}
	}
	if !managed {
		return nil // the --function names are not known here
	}
	out := make([]string, 0, len(n.functions))
	for _, f := range n.functions {
		out = append(out, strings.ReplaceAll(r.Replace(p.Resource), "{function}", f))
	}
	return out
}
