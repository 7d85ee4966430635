// Package runner drives the Pulumi Automation API for faas-benchmarker's
// cloud experiments: it stands a stack up from an inline Go program, runs an
// experiment against the stack's outputs, ships the run's results file to blob
// storage and always tears the stack down again — after success, after an
// experiment error, after a panic and after cancellation (Ctrl-C/SIGTERM
// cancel the context; teardown then runs on a fresh context with its own
// timeout). A teardown that fails is reported loudly with the stack name and
// the exact command to retry, and Runner.Cleanup destroys leftover experiment
// stacks.
//
// The runner knows nothing about experiments: a Spec carries the Pulumi
// program, its configuration and a Run function. Each experiment run gets its
// own stack, named <experiment>-<platform>-<run id> (see StackName), so two
// runs of the same experiment never share a stack.
package runner
