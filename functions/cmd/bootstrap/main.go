// Command bootstrap is the AWS Lambda provided.al2023 runtime for the lab
// functions function1, function2 and function3 (the function name comes
// from FB_FUNCTION_NAME or AWS_LAMBDA_FUNCTION_NAME). It does not link the
// monolith workloads. Build it with
//
//	CGO_ENABLED=0 GOOS=linux GOARCH=arm64 go build -tags lambda.norpc -o bootstrap ./functions/cmd/bootstrap
package main

import (
	"os"

	"github.com/faas-benchmarker/faas-benchmarker/functions/labruntime"
)

func main() {
	os.Exit(labruntime.Main(os.Args[1:], labruntime.Options{}))
}
