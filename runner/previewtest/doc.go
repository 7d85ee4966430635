// Package previewtest previews the real cloud stack programs (stacks/aws,
// stacks/azure, stacks/openfaas, stacks/permanent) through the runner and
// the Pulumi engine, offline. It holds only tests: they live apart from
// package runner so that the runner's own tests do not compile every
// provider SDK.
//
// Where a provider plugin is installed (pulumi-resource-<name> on PATH),
// the preview must succeed; where it is not — as on the offline test
// machines — it must fail fast with runner.ErrPluginMissing naming the
// plugin, never hang or leave a stack behind.
package previewtest
