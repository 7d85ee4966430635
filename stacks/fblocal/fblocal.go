package fblocal

import (
	"reflect"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// FunctionType is the resource type token of Function.
const FunctionType = "fblocal:index:Function"

// Function is an fblocal:index:Function resource.
type Function struct {
	pulumi.CustomResourceState

	// FunctionName is the function's name on the platform.
	FunctionName pulumi.StringOutput `pulumi:"functionName"`
	// Arn is the function ARN.
	Arn pulumi.StringOutput `pulumi:"arn"`
	// InvokeEndpoint is where to invoke the function.
	InvokeEndpoint pulumi.StringOutput `pulumi:"invokeEndpoint"`
}

// FunctionArgs are the inputs of a Function.
type FunctionArgs struct {
	// Endpoint is the local platform's base URL.
	Endpoint pulumi.StringInput
	// FunctionName is the function's name on the platform.
	FunctionName pulumi.StringInput
	// Handler selects the platform's code catalog entry (default "bootstrap").
	Handler pulumi.StringPtrInput
	// MemorySize is the memory in MB.
	MemorySize pulumi.IntPtrInput
	// Timeout is the timeout in seconds.
	Timeout pulumi.IntPtrInput
}

type functionArgs struct {
	Endpoint     string  `pulumi:"endpoint"`
	FunctionName string  `pulumi:"functionName"`
	Handler      *string `pulumi:"handler"`
	MemorySize   *int    `pulumi:"memorySize"`
	Timeout      *int    `pulumi:"timeout"`
}

// ElementType implements pulumi.Input.
func (FunctionArgs) ElementType() reflect.Type { return reflect.TypeOf((*functionArgs)(nil)).Elem() }

// NewFunction registers a Function.
func NewFunction(ctx *pulumi.Context, name string, args *FunctionArgs, opts ...pulumi.ResourceOption) (*Function, error) {
	var f Function
	if err := ctx.RegisterResource(FunctionType, name, args, &f, opts...); err != nil {
		return nil, err
	}
	return &f, nil
}
