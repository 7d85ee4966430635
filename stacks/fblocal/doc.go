// Package fblocal is fblocal, the Pulumi resource provider behind
// `fbrun experiment --platform local-stack`: the whole cloud lifecycle
// (stack up, run, store, ship, destroy) against the embedded local
// platform, without a cloud account. Its one resource,
// fblocal:index:Function, deploys a function on the local platform through
// the platform's Lambda API.
//
// This package is the program-side SDK: Pulumi programs (stacks/localstack)
// declare local-platform functions with NewFunction, as they would declare
// aws.lambda.Function. Its subpackages are
//
//   - provider: the provider itself (pulumi-go-provider infer) — Create is
//     CreateFunction, Delete is DeleteFunction (a function already gone
//     counts as deleted);
//   - pulumi-resource-fblocal: the plugin binary. Put it on PATH, or
//     install it with
//     `pulumi plugin install resource fblocal 0.1.0 --file pulumi-resource-fblocal`.
//
// The runner's tests use a separate build of the same resource with fault
// knobs (runner/testprovider); nothing here injects faults.
package fblocal
