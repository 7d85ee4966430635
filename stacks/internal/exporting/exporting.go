// Package exporting turns a stack's Deploy function into a Pulumi program
// that exports every output, so each stack package states only what it
// deploys.
package exporting

import "github.com/pulumi/pulumi/sdk/v3/go/pulumi"

// Program returns a program that runs deploy with cfg and exports each
// returned output under its key.
func Program[C any](cfg C, deploy func(*pulumi.Context, C) (map[string]pulumi.Output, error)) pulumi.RunFunc {
	return func(ctx *pulumi.Context) error {
		outs, err := deploy(ctx, cfg)
		if err != nil {
			return err
		}
		for k, v := range outs {
			ctx.Export(k, v)
		}
		return nil
	}
}
