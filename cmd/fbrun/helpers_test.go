package main

import (
	"github.com/faas-benchmarker/faas-benchmarker/cmd/internal/cloudplan"
	"github.com/faas-benchmarker/faas-benchmarker/cmd/internal/fbcli"
)

// Names the binary tests share with the CLI packages.
type jsonSummary = fbcli.JSONSummary

const (
	envResultsKeyID  = cloudplan.EnvResultsKeyID
	envResultsSecret = cloudplan.EnvResultsSecret
)
