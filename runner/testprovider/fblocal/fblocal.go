// Package fblocal is the program-side SDK of the fblocal test provider
// (package testprovider): Pulumi programs declare local-platform functions
// with NewFunction, as they would declare aws.lambda.Function.
package fblocal

import (
	"reflect"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/faas-benchmarker/faas-benchmarker/stacks/fblocal"
)

// Function is an fblocal:index:Function resource: the production SDK's
// type (the test provider returns the same outputs).
type Function = fblocal.Function

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
	// FailDeleteWhile makes the delete fail while this file exists.
	FailDeleteWhile pulumi.StringPtrInput
	// HoldDeleteWhile makes the delete wait while this file exists; it
	// writes <file>.deleting first.
	HoldDeleteWhile pulumi.StringPtrInput
	// HoldAfterCreate makes the create wait, once the function exists, until
	// the operation is cancelled; it writes this file first.
	HoldAfterCreate pulumi.StringPtrInput
	// IgnoreCancel makes a held create ignore cancellation until the
	// HoldAfterCreate file is removed.
	IgnoreCancel pulumi.BoolPtrInput
	// RecordAWSKeyTo makes the create write the provider's
	// AWS_ACCESS_KEY_ID to this file.
	RecordAWSKeyTo pulumi.StringPtrInput
}

type functionArgs struct {
	Endpoint        string  `pulumi:"endpoint"`
	FunctionName    string  `pulumi:"functionName"`
	Handler         *string `pulumi:"handler"`
	MemorySize      *int    `pulumi:"memorySize"`
	Timeout         *int    `pulumi:"timeout"`
	FailDeleteWhile *string `pulumi:"failDeleteWhile"`
	HoldDeleteWhile *string `pulumi:"holdDeleteWhile"`
	HoldAfterCreate *string `pulumi:"holdAfterCreate"`
	IgnoreCancel    *bool   `pulumi:"ignoreCancel"`
	RecordAWSKeyTo  *string `pulumi:"recordAwsKeyTo"`
}

// ElementType implements pulumi.Input.
func (FunctionArgs) ElementType() reflect.Type { return reflect.TypeOf((*functionArgs)(nil)).Elem() }

// NewFunction registers a Function.
func NewFunction(ctx *pulumi.Context, name string, args *FunctionArgs, opts ...pulumi.ResourceOption) (*Function, error) {
	var f Function
	if err := ctx.RegisterResource(fblocal.FunctionType, name, args, &f, opts...); err != nil {
		return nil, err
	}
	return &f, nil
}
