// Package runner is a managed run, start to finish: it stands a throwaway
// Pulumi stack up for one experiment run, waits until the deployed
// functions answer, runs the experiment against the stack's outputs (through
// package session, the one place an experiment is run into a results
// database), ships the run's results file to blob storage, always tears the
// stack down again and merges the run into the user's database
// (Runner.RunExperiment). The same Runner manages the long-lived permanent
// stack (Up, Down) and removes leftover experiment stacks (Cleanup).
//
// Underneath, Runner.RunStack is the lifecycle alone and knows nothing about
// experiments: a Spec carries the Pulumi program, its configuration and a
// Run function. The teardown is guaranteed — after success, after an error,
// after a panic and after cancellation (Ctrl-C/SIGTERM cancel the context;
// teardown then runs on a fresh context with its own timeout). A teardown
// that fails is reported loudly with the stack name and the exact command to
// retry.
//
// Each experiment run gets its own stack, named
// <experiment>-<platform>-<run id> (see StackName; the run id is
// results.NewRunID's, the same for local and managed runs), so two runs of
// the same experiment never share a stack.
package runner
