// Package localstack is the Pulumi side of `fbrun experiment --platform
// local-stack`: the whole cloud lifecycle (stack up, run, store, ship,
// destroy) against the embedded local platform, without a cloud account.
// Its subpackages are a real resource provider, fblocal, whose one
// resource deploys a function on the local platform through the
// platform's Lambda API:
//
//   - provider: the provider (pulumi-go-provider infer), resource
//     fblocal:index:Function — Create is CreateFunction, Delete is
//     DeleteFunction (a function already gone counts as deleted);
//   - fblocal: the program-side SDK (NewFunction), as the stacks use
//     aws.lambda.Function;
//   - pulumi-resource-fblocal: the plugin binary. Put it on PATH, or
//     install it with
//     `pulumi plugin install resource fblocal 0.1.0 --file pulumi-resource-fblocal`.
//
// The runner's tests use a separate build of the same resource with fault
// knobs (runner/testprovider); nothing here injects faults.
package localstack
