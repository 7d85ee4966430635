// Package provider is the fblocal Pulumi resource provider (see package
// stacks/fblocal): fblocal:index:Function deploys a function on the embedded
// local platform with the real aws-sdk-go-v2 Lambda client.
package provider

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	p "github.com/pulumi/pulumi-go-provider"
	"github.com/pulumi/pulumi-go-provider/infer"
	"github.com/pulumi/pulumi/sdk/v3/go/common/tokens"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/faas-benchmarker/faas-benchmarker/stacks/fblocal"
)

// Name is the provider (plugin) name: the binary is pulumi-resource-fblocal.
const Name = "fblocal"

// Version is the provider version.
const Version = "0.1.0"

// PluginBinary is the name the Pulumi CLI runs the plugin by. fbrun-cloud
// serves the provider itself when it is run under this name (the runner
// links it so), as pulumi-resource-fblocal does.
const PluginBinary = "pulumi-resource-" + Name

// Serve runs the provider as a Pulumi plugin process: it serves the
// engine's gRPC calls on the port it prints, until the engine stops it.
func Serve(ctx context.Context) error {
	prov, err := New()
	if err != nil {
		return err
	}
	return prov.Run(ctx, Name, Version)
}

// FunctionType is the resource type token (the SDK's, defined there).
const FunctionType = fblocal.FunctionType

// New returns the provider.
func New() (p.Provider, error) {
	return infer.NewProviderBuilder().
		WithNamespace("faas-benchmarker").
		// infer derives the module from the Go package name; the resource
		// lives in the top-level module: fblocal:index:Function.
		WithModuleMap(map[tokens.ModuleName]tokens.ModuleName{"provider": "index"}).
		WithResources(infer.Resource(Function{})).
		Build()
}

// Function deploys a function on the local platform.
type Function struct{}

// FunctionArgs are the inputs of a Function.
type FunctionArgs struct {
	// Endpoint is the local platform's base URL (its Lambda API).
	Endpoint string `pulumi:"endpoint"`
	// FunctionName is the function's name on the platform.
	FunctionName string `pulumi:"functionName"`
	// Handler selects the platform's code catalog entry ("bootstrap").
	Handler *string `pulumi:"handler,optional"`
	// MemorySize is the memory in MB.
	MemorySize *int `pulumi:"memorySize,optional"`
	// Timeout is the timeout in seconds.
	Timeout *int `pulumi:"timeout,optional"`
}

// FunctionState is the state of a Function.
type FunctionState struct {
	FunctionArgs
	// Arn is the function ARN the platform reports.
	Arn string `pulumi:"arn"`
	// InvokeEndpoint is where to invoke the function (the platform's
	// Lambda API base URL).
	InvokeEndpoint string `pulumi:"invokeEndpoint"`
}

// Client is a Lambda client for the local platform at endpoint.
func Client(endpoint string) *lambda.Client {
	return lambda.New(lambda.Options{
		Region:           "us-east-1",
		BaseEndpoint:     aws.String(endpoint),
		Credentials:      credentials.NewStaticCredentialsProvider("fblocal", "fblocal", ""),
		RetryMaxAttempts: 2,
	})
}

// emptyZip is a valid empty zip archive: CreateFunction requires code, and
// the local platform runs its own catalog instead of uploaded code.
func emptyZip() []byte {
	var b bytes.Buffer
	_ = zip.NewWriter(&b).Close()
	return b.Bytes()
}

// CreateFunction creates the function described by in and returns its ARN.
func CreateFunction(ctx context.Context, in FunctionArgs) (string, error) {
	handler := "bootstrap"
	if in.Handler != nil {
		handler = *in.Handler
	}
	cin := &lambda.CreateFunctionInput{
		FunctionName: aws.String(in.FunctionName),
		Role:         aws.String("arn:aws:iam::000000000000:role/fblocal"),
		Runtime:      types.RuntimeProvidedal2023,
		Handler:      aws.String(handler),
		Code:         &types.FunctionCode{ZipFile: emptyZip()},
	}
	if in.MemorySize != nil {
		cin.MemorySize = aws.Int32(int32(*in.MemorySize))
	}
	if in.Timeout != nil {
		cin.Timeout = aws.Int32(int32(*in.Timeout))
	}
	out, err := Client(in.Endpoint).CreateFunction(ctx, cin)
	if err != nil {
		return "", fmt.Errorf("fblocal: create function %s: %w", in.FunctionName, err)
	}
	return aws.ToString(out.FunctionArn), nil
}

// DeleteFunction deletes the function; one already gone counts as deleted.
func DeleteFunction(ctx context.Context, endpoint, name string) error {
	cctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	_, err := Client(endpoint).DeleteFunction(cctx, &lambda.DeleteFunctionInput{FunctionName: aws.String(name)})
	var nf *types.ResourceNotFoundException
	if err != nil && !errors.As(err, &nf) {
		return fmt.Errorf("fblocal: delete function %s: %w", name, err)
	}
	return nil
}

// Create creates the function with CreateFunction.
func (Function) Create(ctx context.Context, req infer.CreateRequest[FunctionArgs]) (infer.CreateResponse[FunctionState], error) {
	st := FunctionState{FunctionArgs: req.Inputs, InvokeEndpoint: req.Inputs.Endpoint}
	if req.DryRun {
		return infer.CreateResponse[FunctionState]{Output: st}, nil
	}
	arn, err := CreateFunction(ctx, req.Inputs)
	if err != nil {
		return infer.CreateResponse[FunctionState]{}, err
	}
	st.Arn = arn
	return infer.CreateResponse[FunctionState]{ID: req.Inputs.FunctionName, Output: st}, nil
}

// Delete deletes the function with DeleteFunction.
func (Function) Delete(ctx context.Context, req infer.DeleteRequest[FunctionState]) (infer.DeleteResponse, error) {
	return infer.DeleteResponse{}, DeleteFunction(ctx, req.State.Endpoint, req.State.FunctionName)
}

// Annotate documents the resource.
func (f *Function) Annotate(a infer.Annotator) {
	a.Describe(&f, "A function deployed on the faas-benchmarker local platform through its Lambda API.")
}
