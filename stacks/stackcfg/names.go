package stackcfg

import "github.com/faas-benchmarker/faas-benchmarker/functions/lab"

// Namespace is the Pulumi config namespace of the stacks: the key "memory"
// is set with `pulumi config set fb:memory 256`.
const Namespace = "fb"

// KeyPlatform is the config key (fb:platform) that selects the stack program
// in the root Pulumi.yaml project.
const KeyPlatform = "platform"

// Platform names one of the stack programs.
type Platform string

// The stack programs.
const (
	// PlatformPermanent is the long-lived DigitalOcean infrastructure.
	PlatformPermanent Platform = "permanent"
	// PlatformAWS is the per-experiment AWS Lambda stack.
	PlatformAWS Platform = "aws"
	// PlatformAzure is the per-experiment Azure Functions stack.
	PlatformAzure Platform = "azure"
	// PlatformOpenFaaS is the per-experiment OpenFaaS on EKS Fargate stack.
	PlatformOpenFaaS Platform = "openfaas"
)

// The lab function names (see docs/lab-functions.md), as functions/lab
// defines them.
const (
	Function1 = lab.Function1
	Function2 = lab.Function2
	Function3 = lab.Function3
	Monolith  = lab.Monolith
)

// LabFunctions returns the names of all lab functions, in a stable order
// (lab.Names).
func LabFunctions() []string { return lab.Names() }

// Lab platform names set in EnvPlatform: the Platform* constants of
// functions/lab.
const (
	LabPlatformAWSLambda      = lab.PlatformAWSLambda
	LabPlatformAzureFunctions = lab.PlatformAzureFunctions
	LabPlatformOpenFaaS       = lab.PlatformOpenFaaS
)

// Environment variables the stacks set on every deployed lab function.
const (
	// EnvFunctionName is the lab name of the function itself (function1...).
	EnvFunctionName = "FB_FUNCTION_NAME"
	// EnvAllowedFunctions is the comma-separated allowlist of lab names the
	// function may call as nested invocations.
	EnvAllowedFunctions = "FB_ALLOWED_FUNCTIONS"
	// EnvFunctionTimeout is the function timeout in seconds (Lambda).
	EnvFunctionTimeout = "FB_FUNCTION_TIMEOUT"
	// EnvNestedFunctionTemplate is the deployed name of a nested callee with
	// {name} standing for its lab name (Lambda: "fb-exp-r1-{name}").
	EnvNestedFunctionTemplate = "FB_NESTED_FUNCTION_TEMPLATE"
	// EnvNestedURLTemplate is the URL of a nested callee with {name}
	// standing for its lab name (Azure, OpenFaaS).
	EnvNestedURLTemplate = "FB_NESTED_URL_TEMPLATE"
	// EnvExperiment and EnvRun name the experiment and run of the stack.
	EnvExperiment = "FB_EXPERIMENT"
	// EnvRun is the run id of the stack.
	EnvRun = "FB_RUN"
	// EnvPlatform is the lab platform name (functions/lab Platform* values).
	EnvPlatform = "FB_PLATFORM"
	// EnvMemoryMB is the memory limit in MB where the platform does not
	// expose it itself (OpenFaaS pods).
	EnvMemoryMB = "FB_MEMORY_MB"
	// EnvNestedKeyPrefix + upper-case lab name is the Azure function key sent
	// with a nested invocation of that function (header x-functions-key).
	EnvNestedKeyPrefix = "FB_NESTED_KEY_"
	// EnvColdToken is the variable the Lambda provider sets to a new UUID
	// to force a cold start (not set by the stacks, but it must fit).
	EnvColdToken = "FB_COLD_TOKEN"
)

// GatewayTransportRestrictedHTTP is the OutGatewayTransport value of a
// plain-HTTP gateway behind a load balancer that admits only
// OutGatewayCIDRs: the explicit opt-in a client needs before it sends the
// gateway password over HTTP to a non-loopback host.
const GatewayTransportRestrictedHTTP = "http-cidr-restricted"

// Stack output keys. Each program exports the keys listed for it; the runner
// reads them by these names.
const (
	// OutPlatform (all stacks) is the Platform the stack was created for.
	OutPlatform = "platform"
	// OutExperiment and OutRun (per-experiment stacks) echo the config.
	OutExperiment = "experiment"
	// OutRun is the run id of a per-experiment stack.
	OutRun = "run"
	// OutRegion (aws, openfaas) is the AWS region; (azure) the location.
	OutRegion = "region"
	// OutEndpoint (local-stack) is the local platform's URL the functions
	// were deployed to.
	OutEndpoint = "endpoint"

	// OutFunctionNames (aws, azure, openfaas) maps lab name to the name the
	// platform knows the function by (Lambda function name, Azure app name,
	// OpenFaaS function name).
	OutFunctionNames = "functionNames"
	// OutFunctionARNs (aws) maps lab name to the Lambda function ARN.
	OutFunctionARNs = "functionArns"
	// OutLogGroup (aws) is the CloudWatch log group all functions log to.
	OutLogGroup = "logGroup"
	// OutRoleARN (aws) is the execution role shared by the functions.
	OutRoleARN = "roleArn"
	// OutArchitecture (aws) is the Lambda architecture of every function,
	// arm64 or x86_64: Lambda prices the two differently.
	OutArchitecture = "architecture"

	// OutResourceGroup (azure) is the resource group holding everything.
	OutResourceGroup = "resourceGroup"
	// OutFunctionURLs (azure, openfaas) maps lab name to the HTTPS URL
	// that invokes it.
	OutFunctionURLs = "functionUrls"
	// OutFunctionKeys (azure, secret) maps lab name to the function key to
	// send as header x-functions-key.
	OutFunctionKeys = "functionKeys"
	// OutPlan (azure) is the hosting plan the apps run on (AzurePlanFlex or
	// AzurePlanConsumption): numbers of the two plans are not comparable.
	OutPlan = "plan"
	// OutInstanceMemoryMB (azure, flex) is the instance memory in MB.
	OutInstanceMemoryMB = "instanceMemoryMB"
	// OutMaxInstances (azure, flex) is the maximum instance count per app.
	OutMaxInstances = "maxInstances"

	// OutClusterName (openfaas) is the EKS cluster name.
	OutClusterName = "clusterName"
	// OutKubeconfig (openfaas, secret) is the cluster kubeconfig (JSON).
	OutKubeconfig = "kubeconfig"
	// OutGatewayURL (openfaas) is the OpenFaaS gateway base URL.
	OutGatewayURL = "gatewayUrl"
	// OutGatewayUser (openfaas) is the gateway basic-auth user name.
	OutGatewayUser = "gatewayUser"
	// OutGatewayPassword (openfaas, secret) is the gateway admin password.
	OutGatewayPassword = "gatewayPassword"
	// OutGatewayTransport (openfaas) says how the gateway is reached:
	// GatewayTransportRestrictedHTTP.
	OutGatewayTransport = "gatewayTransport"
	// OutGatewayCIDRs (openfaas) lists the only source CIDRs the gateway's
	// load balancer admits.
	OutGatewayCIDRs = "gatewayCidrs"
	// OutFunctionTimeout (openfaas) is fb:functionTimeout in seconds (a
	// decimal string): the client derives its timeout from it
	// (OpenFaaS.GatewayTimeouts). The edition is no output: it is read
	// from the running gateway.
	OutFunctionTimeout = "functionTimeoutSeconds"

	// OutDropletIP (permanent) is the orchestrator droplet's public IPv4.
	OutDropletIP = "dropletIp"
	// OutDropletID (permanent) is the orchestrator droplet's ID: its SSH
	// host key is trusted per droplet, so a new droplet that gets an old
	// one's address is not refused as a changed host.
	OutDropletID = "dropletId"
	// OutStudyFile (permanent) is the fb:study path as given (a file on
	// the machine that runs fbrun up permanent, "" without one): up copies
	// it to the droplet and schedules it after every update.
	OutStudyFile = "studyFile"
	// OutBucketName (permanent) is the results Spaces bucket.
	OutBucketName = "bucketName"
	// OutSpacesEndpoint (permanent) is the S3-compatible Spaces endpoint URL.
	OutSpacesEndpoint = "spacesEndpoint"
	// OutSpacesRegion (permanent) is the Spaces region (e.g. fra1).
	OutSpacesRegion = "spacesRegion"
	// OutStateBackendURL (permanent) is a Pulumi backend URL that keeps
	// experiment stack state in the bucket (pulumi login <url>).
	OutStateBackendURL = "stateBackendUrl"
)
