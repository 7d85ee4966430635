package main

import (
	"github.com/faas-benchmarker/faas-benchmarker/cmd/internal/fbcli"
)

// Names the binary tests share with the CLI package.
type jsonSummary = fbcli.JSONSummary

const (
	envResultsKeyID  = fbcli.EnvResultsKeyID
	envResultsSecret = fbcli.EnvResultsSecret
)
