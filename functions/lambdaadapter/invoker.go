package lambdaadapter

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	lambdasvc "github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/faas-benchmarker/faas-benchmarker/functions/lab"
)

// NameTemplateEnv is the environment variable with the deployed-name
// template for nested calls: "{name}" is replaced by the lab name
// ("fb-run42-{name}"). Without it the caller's own deployed-name prefix is
// reused: "fb-run42-function1" calls "fb-run42-function2".
const NameTemplateEnv = "FB_NESTED_FUNCTION_TEMPLATE"

// InvokerConfig configures NewInvoker.
type InvokerConfig struct {
	// NameTemplate maps lab names to deployed names (see NameTemplateEnv).
	NameTemplate string
	// OwnName is this function's deployed name, used when NameTemplate
	// is empty.
	OwnName string
}

// Invoker calls other lab functions with the Lambda Invoke API
// (RequestResponse). The SDK client is created once, honours
// AWS_ENDPOINT_URL_LAMBDA (so it reaches the embedded local platform or
// the emulator) and never retries: a nested call's duration is one
// attempt and a failure stays visible. Safe for concurrent use.
type Invoker struct {
	client *lambdasvc.Client
	nameOf func(string) string
}

var _ lab.Invoker = (*Invoker)(nil)

// NewInvoker loads the AWS configuration from the environment (region,
// credentials, endpoint) and returns an Invoker.
func NewInvoker(ctx context.Context, cfg InvokerConfig) (*Invoker, error) {
	awsCfg, err := config.LoadDefaultConfig(ctx, config.WithRetryer(func() aws.Retryer { return aws.NopRetryer{} }))
	if err != nil {
		return nil, fmt.Errorf("lambdaadapter: loading AWS config: %w", err)
	}
	return &Invoker{client: lambdasvc.NewFromConfig(awsCfg), nameOf: NameMapper(cfg.NameTemplate, cfg.OwnName)}, nil
}

// NameMapper returns the function mapping lab names to deployed names for
// a template (see NameTemplateEnv) or, when template is empty, for the
// prefix of ownName.
func NameMapper(template, ownName string) func(string) string {
	if template != "" {
		return func(name string) string { return strings.ReplaceAll(template, "{name}", name) }
	}
	prefix := lab.DeployedPrefix(ownName)
	return func(name string) string { return prefix + name }
}

// Invoke calls the deployed function for the lab name fn. A function
// error of type ErrorType returns the callee's lab Response JSON together
// with an error; other function errors return Lambda's error payload.
func (i *Invoker) Invoke(ctx context.Context, fn string, payload []byte) ([]byte, error) {
	name := i.nameOf(fn)
	out, err := i.client.Invoke(ctx, &lambdasvc.InvokeInput{
		FunctionName:   aws.String(name),
		InvocationType: types.InvocationTypeRequestResponse,
		Payload:        payload,
	})
	if err != nil {
		return nil, fmt.Errorf("lambda invoke %s: %w", name, err)
	}
	// The Runtime Interface Emulator does not set X-Amz-Function-Error, so
	// a LabError payload is recognised by its shape as well.
	if body, ok := DecodeErrorPayload(out.Payload); ok {
		return body, fmt.Errorf("lambda invoke %s: function error (%s)", name, aws.ToString(out.FunctionError))
	}
	if out.FunctionError != nil {
		return out.Payload, fmt.Errorf("lambda invoke %s: function error (%s): %s", name, aws.ToString(out.FunctionError), truncate(string(out.Payload), 300))
	}
	if out.StatusCode != 200 {
		return out.Payload, errors.New("lambda invoke " + name + ": unexpected status " + fmt.Sprint(out.StatusCode))
	}
	return out.Payload, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
