// Package testprovider is the test build of "fblocal", the local-stack
// resource provider (package stacks/fblocal/provider): the same resource, the
// same CreateFunction/DeleteFunction, plus fault knobs that only the
// runner's tests may use (see pulumi-resource-fblocal). Its
// one resource, fblocal:index:Function, deploys a function on the embedded
// local platform through the platform's Lambda API (CreateFunction on
// create, DeleteFunction on delete) with the real aws-sdk-go-v2 Lambda
// client, so a Pulumi stack using it behaves like a small cloud stack:
// `up` creates functions, `destroy` removes them, and a leftover shows on
// the platform.
//
// Three test knobs inject faults: FailDeleteWhile makes Delete fail while a
// file exists (a teardown that fails, then succeeds on retry),
// HoldDeleteWhile makes Delete wait while a file exists (a slow destroy), and
// HoldAfterCreate makes Create block after the function exists until the
// operation is cancelled (to interrupt an `up` half-way, deterministically);
// with IgnoreCancel it does not stop, so the Pulumi CLI is killed.
// RecordAWSKeyTo records the AWS access key the provider's environment
// holds (to check which account plugins would act in).
package testprovider

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	p "github.com/pulumi/pulumi-go-provider"
	"github.com/pulumi/pulumi-go-provider/infer"
	"github.com/pulumi/pulumi/sdk/v3/go/common/tokens"

	"github.com/faas-benchmarker/faas-benchmarker/stacks/fblocal/provider"
)

// The test provider stands in for the production fblocal provider, so it
// carries its plugin name, version and resource type token.
const (
	// Name is the provider (plugin) name: the binary is pulumi-resource-fblocal.
	Name = provider.Name
	// Version is the provider version.
	Version = provider.Version
	// FunctionType is the resource type token.
	FunctionType = provider.FunctionType
)

// New returns the provider.
func New() (p.Provider, error) {
	return infer.NewProviderBuilder().
		WithNamespace("faas-benchmarker").
		// infer derives the module from the Go package name; the resource
		// lives in the top-level module: fblocal:index:Function.
		WithModuleMap(map[tokens.ModuleName]tokens.ModuleName{"testprovider": "index"}).
		WithResources(infer.Resource(Function{})).
		Build()
}

// Function deploys a function on the local platform.
type Function struct{}

// FunctionArgs are the inputs of a Function: the production provider's,
// plus the fault knobs.
type FunctionArgs struct {
	provider.FunctionArgs
	// FailDeleteWhile makes Delete fail while this file exists.
	FailDeleteWhile *string `pulumi:"failDeleteWhile,optional"`
	// HoldDeleteWhile makes Delete write <file>.deleting and then wait
	// while this file exists (at most 5 minutes): a slow destroy, to
	// signal fbrun in the middle of one.
	HoldDeleteWhile *string `pulumi:"holdDeleteWhile,optional"`
	// HoldAfterCreate, when set, makes Create write this file once the
	// function exists and then wait until the operation is cancelled.
	HoldAfterCreate *string `pulumi:"holdAfterCreate,optional"`
	// IgnoreCancel makes a held Create ignore cancellation and wait until
	// the HoldAfterCreate file is removed (at most 5 minutes): a provider
	// that does not stop, so the Pulumi CLI gets killed.
	IgnoreCancel *bool `pulumi:"ignoreCancel,optional"`
	// RecordAWSKeyTo makes Create write the AWS_ACCESS_KEY_ID of the
	// provider's environment (the one the Pulumi CLI gives its plugins,
	// as the aws provider would read it) to this file.
	RecordAWSKeyTo *string `pulumi:"recordAwsKeyTo,optional"`
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

// Create creates the function with the production provider's
// CreateFunction, then applies the HoldAfterCreate knob.
func (Function) Create(ctx context.Context, req infer.CreateRequest[FunctionArgs]) (infer.CreateResponse[FunctionState], error) {
	in := req.Inputs
	st := FunctionState{FunctionArgs: in, InvokeEndpoint: in.Endpoint}
	if req.DryRun {
		return infer.CreateResponse[FunctionState]{Output: st}, nil
	}
	if in.RecordAWSKeyTo != nil {
		if err := os.WriteFile(*in.RecordAWSKeyTo, []byte(os.Getenv("AWS_ACCESS_KEY_ID")), 0o600); err != nil {
			return infer.CreateResponse[FunctionState]{}, err
		}
	}
	arn, err := provider.CreateFunction(ctx, in.FunctionArgs)
	if err != nil {
		return infer.CreateResponse[FunctionState]{}, err
	}
	st.Arn = arn
	resp := infer.CreateResponse[FunctionState]{ID: in.FunctionName, Output: st}
	if in.HoldAfterCreate != nil {
		if err := os.WriteFile(*in.HoldAfterCreate, []byte(in.FunctionName), 0o600); err != nil {
			return resp, infer.ResourceInitFailedError{Reasons: []string{err.Error()}}
		}
		if in.IgnoreCancel != nil && *in.IgnoreCancel {
			for i := 0; i < 3000; i++ {
				if _, err := os.Stat(*in.HoldAfterCreate); errors.Is(err, os.ErrNotExist) {
					break
				}
				time.Sleep(100 * time.Millisecond)
			}
			return resp, nil
		}
		<-ctx.Done()
		// The function exists: report it so that the state records it
		// and a destroy deletes it.
		return resp, infer.ResourceInitFailedError{Reasons: []string{"fblocal: create interrupted: " + ctx.Err().Error()}}
	}
	return resp, nil
}

// Delete deletes the function with DeleteFunction; a function that is
// already gone counts as deleted.
func (Function) Delete(ctx context.Context, req infer.DeleteRequest[FunctionState]) (infer.DeleteResponse, error) {
	st := req.State
	if st.FailDeleteWhile != nil {
		if _, err := os.Stat(*st.FailDeleteWhile); err == nil {
			return infer.DeleteResponse{}, fmt.Errorf("fblocal: delete function %s refused: fault file %s exists",
				st.FunctionName, *st.FailDeleteWhile)
		}
	}
	if st.HoldDeleteWhile != nil {
		if err := os.WriteFile(*st.HoldDeleteWhile+".deleting", []byte(st.FunctionName), 0o600); err != nil {
			return infer.DeleteResponse{}, err
		}
		for i := 0; i < 3000; i++ {
			if _, err := os.Stat(*st.HoldDeleteWhile); errors.Is(err, os.ErrNotExist) {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	return infer.DeleteResponse{}, provider.DeleteFunction(ctx, st.Endpoint, st.FunctionName)
}

// Annotate documents the resource.
func (f *Function) Annotate(a infer.Annotator) {
	a.Describe(&f, "A function deployed on the faas-benchmarker local platform through its Lambda API.")
}
