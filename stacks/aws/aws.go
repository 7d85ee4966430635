// Package aws is the per-experiment AWS Lambda stack: the lab functions as
// provided.al2023 Lambda functions built by scripts/build-functions, one
// least-privilege execution role, and one CloudWatch log group with short
// retention that all of them log to.
package aws

import (
	"encoding/json"
	"fmt"
	"sort"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/lambda"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/faas-benchmarker/faas-benchmarker/stacks/internal/exporting"
	"github.com/faas-benchmarker/faas-benchmarker/stacks/stackcfg"
)

// Runtime is the Lambda runtime of every lab function (a Go binary named
// bootstrap at the root of the zip).
const Runtime = "provided.al2023"

// Program returns the Pulumi program of the stack for cfg.
func Program(cfg stackcfg.AWS) pulumi.RunFunc {
	return exporting.Program(cfg, Deploy)
}

// Deploy validates cfg, declares the stack's resources and returns its
// outputs keyed by the stackcfg.Out* constants.
func Deploy(ctx *pulumi.Context, cfg stackcfg.AWS) (map[string]pulumi.Output, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	tags := pulumi.ToStringMap(cfg.ResourceTags())
	prefix := cfg.Prefix()

	provider, err := aws.NewProvider(ctx, "aws", &aws.ProviderArgs{Region: pulumi.String(cfg.Region)})
	if err != nil {
		return nil, fmt.Errorf("aws stack: provider: %w", err)
	}
	opt := pulumi.Provider(provider)

	logGroup, err := cloudwatch.NewLogGroup(ctx, "logs", &cloudwatch.LogGroupArgs{
		Name:            pulumi.String("/fb/" + cfg.Experiment + "/" + cfg.Run),
		RetentionInDays: pulumi.Int(cfg.LogRetentionDays),
		Tags:            tags,
	}, opt)
	if err != nil {
		return nil, fmt.Errorf("aws stack: log group: %w", err)
	}

	role, err := iam.NewRole(ctx, "role", &iam.RoleArgs{
		Name:             pulumi.String(prefix + "role"),
		AssumeRolePolicy: pulumi.String(assumeRolePolicy),
		Description:      pulumi.String("faas-benchmarker lab functions of " + cfg.Experiment + "/" + cfg.Run),
		Tags:             tags,
	}, opt)
	if err != nil {
		return nil, fmt.Errorf("aws stack: role: %w", err)
	}

	names := pulumi.StringMap{}
	arns := pulumi.StringMap{}
	arnList := pulumi.StringArray{}
	// The lab functions, then the copies of function1 that serve as
	// idle-timeout's further lanes (fb:lanes), each under its own name.
	deploy := make([][2]string, 0, len(cfg.Functions)+cfg.Lanes)
	for _, lab := range cfg.Functions {
		deploy = append(deploy, [2]string{lab, lab})
	}
	for _, lane := range cfg.LaneCopies() {
		deploy = append(deploy, [2]string{lane, stackcfg.Function1})
	}
	for _, d := range deploy {
		fn, err := newFunction(ctx, cfg, d[0], d[1], role, logGroup, tags, opt)
		if err != nil {
			return nil, err
		}
		names[d[0]] = fn.Name
		arns[d[0]] = fn.Arn
		arnList = append(arnList, fn.Arn)
	}

	policy := pulumi.All(logGroup.Arn, arnList.ToStringArrayOutput()).ApplyT(func(xs []any) (string, error) {
		return policyDocument(xs[0].(string), xs[1].([]string))
	}).(pulumi.StringOutput)
	if _, err := iam.NewRolePolicy(ctx, "policy", &iam.RolePolicyArgs{
		Name:   pulumi.String(prefix + "policy"),
		Role:   role.ID(),
		Policy: policy,
	}, opt); err != nil {
		return nil, fmt.Errorf("aws stack: role policy: %w", err)
	}

	return map[string]pulumi.Output{
		stackcfg.OutPlatform:      pulumi.String(string(stackcfg.PlatformAWS)).ToStringOutput(),
		stackcfg.OutExperiment:    pulumi.String(cfg.Experiment).ToStringOutput(),
		stackcfg.OutRun:           pulumi.String(cfg.Run).ToStringOutput(),
		stackcfg.OutRegion:        pulumi.String(cfg.Region).ToStringOutput(),
		stackcfg.OutFunctionNames: names.ToStringMapOutput(),
		stackcfg.OutFunctionARNs:  arns.ToStringMapOutput(),
		stackcfg.OutLogGroup:      logGroup.Name.ToStringOutput(),
		stackcfg.OutRoleARN:       role.Arn,
		stackcfg.OutArchitecture:  pulumi.String(cfg.Architecture).ToStringOutput(),
	}, nil
}

// newFunction declares the Lambda function name (a lab function, or a lane
// copy of one) running lab function lab: its artifact, memory, timeout and
// environment from cfg, its logs in logGroup, running as role.
func newFunction(ctx *pulumi.Context, cfg stackcfg.AWS, name, lab string, role *iam.Role, logGroup *cloudwatch.LogGroup,
	tags pulumi.StringMap, opt pulumi.ResourceOption) (*lambda.Function, error) {
	fn, err := lambda.NewFunction(ctx, name, &lambda.FunctionArgs{
		Name:          pulumi.String(cfg.FunctionName(name)),
		Role:          role.Arn,
		Runtime:       pulumi.String(Runtime),
		Handler:       pulumi.String("bootstrap"),
		Architectures: pulumi.StringArray{pulumi.String(cfg.Architecture)},
		MemorySize:    pulumi.Int(cfg.MemoryMB),
		Timeout:       pulumi.Int(cfg.TimeoutSeconds),
		Code:          pulumi.NewFileArchive(cfg.Artifact(lab)),
		Environment:   &lambda.FunctionEnvironmentArgs{Variables: pulumi.ToStringMap(cfg.LambdaEnv(lab))},
		LoggingConfig: &lambda.FunctionLoggingConfigArgs{
			LogFormat: pulumi.String("Text"),
			LogGroup:  logGroup.Name,
		},
		Tags: tags,
	}, opt, pulumi.DependsOn([]pulumi.Resource{logGroup}))
	if err != nil {
		return nil, fmt.Errorf("aws stack: function %s: %w", name, err)
	}
	return fn, nil
}

const assumeRolePolicy = `{
  "Version": "2012-10-17",
  "Statement": [{
    "Effect": "Allow",
    "Principal": {"Service": "lambda.amazonaws.com"},
    "Action": "sts:AssumeRole"
  }]
}`

// PolicyStatement is one statement of an IAM policy document.
type PolicyStatement struct {
	Sid      string   `json:"Sid"`
	Effect   string   `json:"Effect"`
	Action   []string `json:"Action"`
	Resource []string `json:"Resource"`
}

// PolicyDocument is an IAM policy document.
type PolicyDocument struct {
	Version   string            `json:"Version"`
	Statement []PolicyStatement `json:"Statement"`
}

// policyDocument allows writing to the stack's own log group and invoking
// only the stack's own functions (unqualified and any version or alias).
func policyDocument(logGroupARN string, functionARNs []string) (string, error) {
	invoke := make([]string, 0, 2*len(functionARNs))
	for _, a := range functionARNs {
		invoke = append(invoke, a, a+":*")
	}
	sort.Strings(invoke)
	doc := PolicyDocument{
		Version: "2012-10-17",
		Statement: []PolicyStatement{
			{
				Sid:      "WriteOwnLogs",
				Effect:   "Allow",
				Action:   []string{"logs:CreateLogStream", "logs:PutLogEvents"},
				Resource: []string{logGroupARN + ":*"},
			},
			{
				Sid:      "InvokeOwnFunctions",
				Effect:   "Allow",
				Action:   []string{"lambda:InvokeFunction"},
				Resource: invoke,
			},
		},
	}
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return "", fmt.Errorf("aws stack: policy document: %w", err)
	}
	return string(b), nil
}
