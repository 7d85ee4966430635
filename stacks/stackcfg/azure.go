package stackcfg

import (
	"crypto/sha256"
	"encoding/hex"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
)

var azureLocationPattern = regexp.MustCompile(`^[a-z][a-z0-9]+$`)

// The Azure hosting plans the stack can deploy (fb:plan).
const (
	// AzurePlanFlex is Flex Consumption (sku FC1): Azure's current Linux
	// serverless plan, one app per plan, instance memory chosen per app.
	AzurePlanFlex = "flex"
	// AzurePlanConsumption is Linux Consumption (sku Y1, tier Dynamic),
	// which gets no new features and retires on 30 September 2028.
	AzurePlanConsumption = "consumption"
)

// AzurePlans returns the fb:plan values, the default first.
func AzurePlans() []string { return []string{AzurePlanFlex, AzurePlanConsumption} }

// Flex Consumption scale settings (Microsoft Learn, "Azure Functions Flex
// Consumption plan hosting": instance memory sizes; maximum instance count
// 40..1000, 100 by default; HTTP per-instance concurrency 1..1000).
const (
	// FlexDefaultMemoryMB is the instance memory when fb:memory is unset.
	FlexDefaultMemoryMB = 2048
	// FlexDefaultMaxInstances is maximumInstanceCount when fb:maxInstances
	// is unset.
	FlexDefaultMaxInstances = 100
	// FlexMinMaxInstances and FlexMaxMaxInstances bound fb:maxInstances.
	FlexMinMaxInstances = 40
	// FlexMaxMaxInstances is the highest maximumInstanceCount.
	FlexMaxMaxInstances = 1000
	// FlexMaxHTTPConcurrency bounds fb:httpConcurrency.
	FlexMaxHTTPConcurrency = 1000
)

// FlexMemorySizes returns the instance memory sizes (MB) Flex Consumption
// offers.
func FlexMemorySizes() []int { return []int{512, 2048, 4096} }

// HostIDSetting is the app setting that overrides the Functions host ID
// (azure-functions-host wiki, "Host IDs"; .NET configuration keys are
// case-insensitive, so AzureFunctionsWebHost__hostid is the same key).
const HostIDSetting = "AzureFunctionsWebHost__hostId"

// MaxHostIDLen is the longest valid host ID (azure-webjobs-sdk
// HostIdValidator: 1 to 32 characters).
const MaxHostIDLen = 32

// hostIDPattern is the host's rule: "lowercase letters, numbers, and
// dashes, not start or end with a dash, and not contain consecutive
// dashes" (azure-webjobs-sdk HostIdValidator.ValidationMessage).
var hostIDPattern = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)

// ValidHostID reports whether id satisfies the Functions host's host ID
// rule: 1 to 32 characters, lower-case letters, digits and single inner
// dashes.
func ValidHostID(id string) bool {
	return len(id) >= 1 && len(id) <= MaxHostIDLen && hostIDPattern.MatchString(id)
}

// DefaultHostID is the host ID the Functions host derives from an app name
// when no HostIDSetting is set: the name lower-cased, cut to 32
// characters, trailing dashes trimmed (azure-functions-host
// ScriptHostIdProvider.GetDefaultHostId and its tests:
// "TEST-FUNCTIONS-XXXXXXXXXXXXXXXX-XXXX" → "test-functions-xxxxxxxxxxxxxxxx").
func DefaultHostID(appName string) string {
	id := strings.ToLower(appName)
	if len(id) > MaxHostIDLen {
		id = id[:MaxHostIDLen]
	}
	return strings.TrimRight(id, "-")
}

// Azure configures the per-experiment Azure Functions stack: one function
// app per lab function, on Flex Consumption (default) or Linux
// Consumption.
type Azure struct {
	Common
	// Location is the Azure region (default westeurope).
	Location string
	// Plan is the hosting plan: AzurePlanFlex (default) or
	// AzurePlanConsumption.
	Plan string
	// MemoryMB is the Flex instance memory (512, 2048 or 4096; 0 means
	// FlexDefaultMemoryMB). Linux Consumption has no memory setting.
	MemoryMB int
	// MaxInstances is the Flex maximumInstanceCount per app (40..1000; 0
	// means FlexDefaultMaxInstances).
	MaxInstances int
	// HTTPConcurrency is the Flex HTTP per-instance concurrency (1..1000;
	// 0 keeps the platform's default, which depends on the memory size).
	HTTPConcurrency int
	// ArtifactDir is where scripts/build-functions writes its zips
	// (default build/functions).
	ArtifactDir string
	// FunctionsZip overrides <ArtifactDir>/amd64/azure-functions.zip, the
	// custom-handler app of function1..3 (host.json, one folder per
	// function, the httpfn binary).
	FunctionsZip string
	// MonolithZip overrides <ArtifactDir>/amd64/azure-monolith.zip.
	MonolithZip string
	// ExtensionVersion is FUNCTIONS_EXTENSION_VERSION on Linux Consumption
	// (default ~4; Flex runs Functions 4.x and takes no such setting).
	ExtensionVersion string
	// Env is extra app settings for every app.
	Env map[string]string
}

// DefaultAzure returns the Azure stack defaults.
func DefaultAzure() Azure {
	return Azure{
		Common:           DefaultCommon(),
		Location:         "westeurope",
		Plan:             AzurePlanFlex,
		ArtifactDir:      "build/functions",
		ExtensionVersion: "~4",
	}
}

// Platform implements Settings.
func (c *Azure) Platform() Platform { return PlatformAzure }

func (c *Azure) fields() []field {
	return append(c.Common.fields(),
		field{"location", `Azure location (default "westeurope")`, str(&c.Location)},
		field{"plan", `hosting plan flex (Flex Consumption, FC1) or consumption (Linux Consumption, Y1; retires 2028-09-30) (default "flex")`, str(&c.Plan)},
		field{"memory", `Flex instance memory in MB: 512, 2048 or 4096 (default 2048; flex only)`, integer(&c.MemoryMB)},
		field{"maxInstances", `Flex maximum instance count per app, 40..1000 (default 100; flex only)`, integer(&c.MaxInstances)},
		field{"httpConcurrency", `Flex HTTP concurrency per instance, 1..1000 (default: the platform's, by memory size; flex only)`, integer(&c.HTTPConcurrency)},
		field{"artifactDir", `directory of the lab-function build (default "build/functions")`, str(&c.ArtifactDir)},
		field{"functionsZip", `custom-handler app of function1..3 (default <artifactDir>/amd64/azure-functions.zip)`, str(&c.FunctionsZip)},
		field{"monolithZip", `custom-handler app of monolith (default <artifactDir>/amd64/azure-monolith.zip)`, str(&c.MonolithZip)},
		field{"extensionVersion", `FUNCTIONS_EXTENSION_VERSION on plan=consumption (default "~4"; Flex runs 4.x only)`, str(&c.ExtensionVersion)},
		field{"env", `extra app settings K=v,K2=v2 (default none)`, kvmap(&c.Env)},
	)
}

// Keys implements Settings.
func (c *Azure) Keys() []KeyDoc { return keyDocs(c.fields()) }

// Set implements Settings.
func (c *Azure) Set(key, value string) error { return setField(c.Platform(), c.fields(), key, value) }

// stackAppSettings are the app settings the stack sets itself (on either
// plan), refused in fb:env. Flex Consumption rejects FUNCTIONS_WORKER_RUNTIME,
// FUNCTIONS_EXTENSION_VERSION and WEBSITE_RUN_FROM_PACKAGE ("Flex
// Consumption plan deprecations", Microsoft Learn app settings reference):
// the runtime and the package come from functionAppConfig there.
var stackAppSettings = []string{
	"FUNCTIONS_WORKER_RUNTIME", "FUNCTIONS_EXTENSION_VERSION", "AzureWebJobsStorage",
	"WEBSITE_RUN_FROM_PACKAGE", FlexDeploymentConnSetting,
}

// FlexDeploymentConnSetting is the app setting holding the connection
// string Flex uses to read the deployment container
// (functionAppConfig.deployment.storage.authentication).
const FlexDeploymentConnSetting = "DEPLOYMENT_STORAGE_CONNECTION_STRING"

// Validate implements Settings.
func (c *Azure) Validate() error {
	var p problems
	c.Common.validate(&p)
	if !azureLocationPattern.MatchString(c.Location) {
		p.addf("location", "%q is not an Azure location name (e.g. westeurope)", c.Location)
	}
	switch c.Plan {
	case AzurePlanFlex:
		if c.MemoryMB != 0 && !slices.Contains(FlexMemorySizes(), c.MemoryMB) {
			p.addf("memory", "%d MB is not a Flex Consumption instance size (512, 2048 or 4096)", c.MemoryMB)
		}
		if c.MaxInstances != 0 && (c.MaxInstances < FlexMinMaxInstances || c.MaxInstances > FlexMaxMaxInstances) {
			p.addf("maxInstances", "%d is outside %d..%d", c.MaxInstances, FlexMinMaxInstances, FlexMaxMaxInstances)
		}
		if c.HTTPConcurrency < 0 || c.HTTPConcurrency > FlexMaxHTTPConcurrency {
			p.addf("httpConcurrency", "%d is outside 1..%d", c.HTTPConcurrency, FlexMaxHTTPConcurrency)
		}
		if c.ExtensionVersion != "~4" {
			p.addf("extensionVersion", "%q: Flex Consumption runs Functions 4.x only (the setting applies to plan=consumption)", c.ExtensionVersion)
		}
	case AzurePlanConsumption:
		for key, v := range map[string]int{"memory": c.MemoryMB, "maxInstances": c.MaxInstances, "httpConcurrency": c.HTTPConcurrency} {
			if v != 0 {
				p.addf(key, "applies to plan=flex only (Linux Consumption has no such setting)")
			}
		}
		if c.ExtensionVersion == "" {
			p.addf("extensionVersion", "must be set")
		}
	default:
		p.addf("plan", "%q is not a plan (want %s)", c.Plan, strings.Join(AzurePlans(), " or "))
	}
	for _, f := range c.Functions {
		if c.Artifact(f) == "" {
			p.addf("artifactDir", "no package path for %s: set fb:artifactDir or fb:functionsZip/fb:monolithZip", f)
		}
	}
	checkEnv(&p, "env", c.Env)
	for k := range c.Env {
		if slices.Contains(stackAppSettings, k) || strings.EqualFold(k, HostIDSetting) {
			p.addf("env", "%q is set by the stack", k)
		}
	}
	return p.err(c.Platform())
}

// Memory returns the Flex instance memory in MB (FlexDefaultMemoryMB when
// unset), or 0 on Linux Consumption, whose memory is not configurable.
func (c Azure) Memory() int {
	switch {
	case c.Plan != AzurePlanFlex:
		return 0
	case c.MemoryMB == 0:
		return FlexDefaultMemoryMB
	}
	return c.MemoryMB
}

// InstanceLimit returns the Flex maximumInstanceCount
// (FlexDefaultMaxInstances when unset), or 0 on Linux Consumption.
func (c Azure) InstanceLimit() int {
	switch {
	case c.Plan != AzurePlanFlex:
		return 0
	case c.MaxInstances == 0:
		return FlexDefaultMaxInstances
	}
	return c.MaxInstances
}

// HostID is the explicit Functions host ID of lab function lab's app. All
// apps of a stack share one storage account, and their names
// fb-<experiment>-<run>-<lab> agree in their first 32 characters for
// typical experiment and run ids, so the host's default ID (DefaultHostID)
// would collide: since Functions v4 a collision is a hard failure of the
// host (azure-functions-host wiki, "Host IDs"; Microsoft Learn, "Storage
// considerations for Azure Functions", section "Host ID considerations").
// The ID is the lab name, which is unique in the stack, followed by 8 hex
// digits of the SHA-256 of the app name, so it also differs between
// stacks; it satisfies ValidHostID.
func (c Azure) HostID(lab string) string {
	sum := sha256.Sum256([]byte(c.FunctionName(lab)))
	return lab + "-" + hex.EncodeToString(sum[:4])
}

// Artifact is the custom-handler package deployed to lab function lab's
// app (Azure function apps run on x86-64, so always the amd64 build).
func (c Azure) Artifact(lab string) string {
	explicit, file := c.FunctionsZip, "azure-functions.zip"
	if lab == Monolith {
		explicit, file = c.MonolithZip, "azure-monolith.zip"
	}
	switch {
	case explicit != "":
		return explicit
	case c.ArtifactDir == "":
		return ""
	}
	return filepath.Join(c.ArtifactDir, "amd64", file)
}

// ResolvePaths makes the relative package paths absolute against base. It
// implements PathResolver.
func (c *Azure) ResolvePaths(base string) {
	resolve(base, &c.ArtifactDir, &c.FunctionsZip, &c.MonolithZip)
}
