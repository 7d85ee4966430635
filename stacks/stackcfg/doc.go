// Package stackcfg holds everything about the faas-benchmarker Pulumi stacks
// that does not need a Pulumi SDK: the platform names, the typed per-stack
// configuration with its defaults and validation, the `key=value` overrides
// read from Pulumi config (`fb:<key>`) or the command line, the environment
// variable names the stacks set on the lab functions, and the stack output
// keys shared by the programs in stacks/* and by the runner.
//
// It imports no Pulumi package on purpose, so the runner and the fbrun CLI can
// use it without paying for the provider SDK compile.
package stackcfg
