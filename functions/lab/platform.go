package lab

import "strings"

// Lab function names. Every deployment serves a subset of these; the
// allowlist for nested calls defaults to all of them.
const (
	Function1 = "function1"
	Function2 = "function2"
	Function3 = "function3"
	Monolith  = "monolith"
)

// Names returns the lab function names in a fixed order.
func Names() []string { return []string{Function1, Function2, Function3, Monolith} }

// NormalizeName maps a deployed function name to its lab name: a deployed
// name that equals a lab name, or ends with "-<lab name>" or "_<lab name>"
// (case-insensitively), is that lab name, so "fb-run42-function1" is
// "function1". Any other name is returned unchanged.
func NormalizeName(deployed string) string {
	lower := strings.ToLower(deployed)
	for _, n := range Names() {
		if lower == n {
			return n
		}
		if strings.HasSuffix(lower, n) {
			if sep := lower[len(lower)-len(n)-1]; sep == '-' || sep == '_' {
				return n
			}
		}
	}
	return deployed
}

// DeployedPrefix returns the part of a deployed name before its lab name
// ("fb-run42-" for "fb-run42-function1"), or "" when deployed is not a
// suffixed lab name. Adapters use it to derive the deployed names of the
// functions they call.
func DeployedPrefix(deployed string) string {
	lab := NormalizeName(deployed)
	if lab == deployed || len(lab) >= len(deployed) {
		return ""
	}
	return deployed[:len(deployed)-len(lab)]
}

// DetectPlatform names the platform a lab function runs on from its
// environment (getenv is usually os.Getenv). FB_PLATFORM wins when set;
// otherwise the Lambda Runtime API variable means aws-lambda,
// FUNCTIONS_CUSTOMHANDLER_PORT means azure-functions, the OpenFaaS
// watchdog's fprocess variable means openfaas, and anything else is http.
func DetectPlatform(getenv func(string) string) string {
	if p := strings.TrimSpace(getenv("FB_PLATFORM")); p != "" {
		return p
	}
	switch {
	case getenv("AWS_LAMBDA_RUNTIME_API") != "" || getenv("AWS_LAMBDA_FUNCTION_NAME") != "":
		return PlatformAWSLambda
	case getenv("FUNCTIONS_CUSTOMHANDLER_PORT") != "":
		return PlatformAzureFunctions
	case getenv("fprocess") != "" || getenv("OPENFAAS_NAME") != "":
		return PlatformOpenFaaS
	default:
		return PlatformHTTP
	}
}
