package stackcfg

import "sort"

// secretEnv maps each stack setting that is a secret to the environment
// variable that carries it into a run. Secrets never travel in a study
// file or on a command line another user can read (`ps`): a study passes
// them through the environment of its service (docs/studies.md).
var secretEnv = map[string]string{
	// The OpenFaaS admin password. Without it the runner generates a
	// random one per run (NewPassword): a managed stack is thrown away
	// after the run, so nobody needs to know it.
	"gatewayPassword": "FB_OPENFAAS_GATEWAY_PASSWORD",
}

// SecretEnv returns the environment variable that carries the secret stack
// setting key, and whether key is a secret.
func SecretEnv(key string) (string, bool) {
	v, ok := secretEnv[key]
	return v, ok
}

// SecretKeys returns the secret stack settings, sorted.
func SecretKeys() []string {
	keys := make([]string, 0, len(secretEnv))
	for k := range secretEnv {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
