package stackcfg

import (
	"path/filepath"
	"regexp"
)

var azureLocationPattern = regexp.MustCompile(`^[a-z][a-z0-9]+$`)

// Azure configures the per-experiment Azure Functions stack: one Linux
// consumption (Y1) function app per lab function.
type Azure struct {
	Common
	// Location is the Azure region (default westeurope).
	Location string
	// ArtifactDir is where scripts/build-functions writes its zips
	// (default build/functions).
	ArtifactDir string
	// FunctionsZip overrides <ArtifactDir>/amd64/azure-functions.zip, the
	// custom-handler app of function1..3 (host.json, one folder per
	// function, the httpfn binary).
	FunctionsZip string
	// MonolithZip overrides <ArtifactDir>/amd64/azure-monolith.zip.
	MonolithZip string
	// ExtensionVersion is FUNCTIONS_EXTENSION_VERSION (default ~4).
	ExtensionVersion string
	// Env is extra app settings for every app.
	Env map[string]string
}

// DefaultAzure returns the Azure stack defaults.
func DefaultAzure() Azure {
	return Azure{
		Common:           DefaultCommon(),
		Location:         "westeurope",
		ArtifactDir:      "build/functions",
		ExtensionVersion: "~4",
	}
}

// Platform implements Settings.
func (c *Azure) Platform() Platform { return PlatformAzure }

func (c *Azure) fields() []field {
	return append(c.Common.fields(),
		field{"location", `Azure location (default "westeurope")`, str(&c.Location)},
		field{"artifactDir", `directory of the lab-function build (default "build/functions")`, str(&c.ArtifactDir)},
		field{"functionsZip", `custom-handler app of function1..3 (default <artifactDir>/amd64/azure-functions.zip)`, str(&c.FunctionsZip)},
		field{"monolithZip", `custom-handler app of monolith (default <artifactDir>/amd64/azure-monolith.zip)`, str(&c.MonolithZip)},
		field{"extensionVersion", `FUNCTIONS_EXTENSION_VERSION (default "~4")`, str(&c.ExtensionVersion)},
		field{"env", `extra app settings K=v,K2=v2 (default none)`, kvmap(&c.Env)},
	)
}

// Keys implements Settings.
func (c *Azure) Keys() []KeyDoc { return keyDocs(c.fields()) }

// Set implements Settings.
func (c *Azure) Set(key, value string) error { return setField(c.Platform(), c.fields(), key, value) }

// Validate implements Settings.
func (c *Azure) Validate() error {
	var p problems
	c.Common.validate(&p)
	if !azureLocationPattern.MatchString(c.Location) {
		p.addf("location", "%q is not an Azure location name (e.g. westeurope)", c.Location)
	}
	for _, f := range c.Functions {
		if c.Artifact(f) == "" {
			p.addf("artifactDir", "no package path for %s: set fb:artifactDir or fb:functionsZip/fb:monolithZip", f)
		}
	}
	if c.ExtensionVersion == "" {
		p.addf("extensionVersion", "must be set")
	}
	checkEnv(&p, "env", c.Env)
	for k := range c.Env {
		if k == "FUNCTIONS_WORKER_RUNTIME" || k == "AzureWebJobsStorage" || k == "WEBSITE_RUN_FROM_PACKAGE" {
			p.addf("env", "%q is set by the stack", k)
		}
	}
	return p.err(c.Platform())
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
