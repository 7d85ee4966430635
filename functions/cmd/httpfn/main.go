// Command httpfn is the HTTP adapter for function1, function2 and
// function3: an Azure Functions custom handler (listening on
// FUNCTIONS_CUSTOMHANDLER_PORT) and a plain HTTP function for the OpenFaaS
// of-watchdog in http mode, Cloud Run and Knative. Flags: -addr host:port.
package main

import (
	"os"

	"github.com/faas-benchmarker/faas-benchmarker/functions/labruntime"
)

func main() {
	os.Exit(labruntime.Main(os.Args[1:], labruntime.Options{DefaultMode: labruntime.ModeHTTP}))
}
