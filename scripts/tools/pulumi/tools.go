//go:build tools

// Package tools pins the Pulumi CLI that faas-benchmarker's runner drives
// through the Automation API. It is a separate module because
// github.com/pulumi/pulumi/pkg/v3 carries replace directives, so the CLI
// cannot be built with a plain `go install ...@version`.
// scripts/tools/30-pulumi.sh builds it:
//
//	go build -ldflags "-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v3.274.1" \
//	    -o "$FB_TOOLS_DIR/bin/pulumi" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi
package tools

import (
	_ "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi"
)
