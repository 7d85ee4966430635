package stackcfg

import (
	"regexp"
	"slices"
	"sort"
	"strings"
)

// Limits on the experiment and run ids: they are part of every cloud
// resource name (Lambda names are at most 64 characters, Azure app names 60
// including the 8-character suffix Pulumi adds).
const (
	MaxExperimentLen = 20
	MaxRunLen        = 16
)

var idPattern = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]*[a-z0-9])?$`)

// Common holds the settings every per-experiment stack shares.
type Common struct {
	// Experiment names the experiment ("coldstart").
	Experiment string
	// Run identifies one run of the experiment ("r42").
	Run string
	// Functions lists the lab functions to deploy; its length is the
	// function count. Default: all four.
	Functions []string
	// Tags are extra tags put on every resource.
	Tags map[string]string
}

// DefaultCommon returns the shared defaults.
func DefaultCommon() Common {
	return Common{Experiment: "adhoc", Run: "dev", Functions: LabFunctions()}
}

func (c *Common) fields() []field {
	return []field{
		{"experiment", `experiment id, [a-z0-9-], at most 20 characters (default "adhoc")`, str(&c.Experiment)},
		{"run", `run id, [a-z0-9-], at most 16 characters (default "dev")`, str(&c.Run)},
		{"functions", `comma-separated lab functions to deploy (default all: function1,function2,function3,monolith)`, list(&c.Functions)},
		{"tags", `extra resource tags as k=v,k2=v2 (default none)`, kvmap(&c.Tags)},
	}
}

func (c Common) validate(p *problems) {
	checkID(p, "experiment", c.Experiment, MaxExperimentLen)
	checkID(p, "run", c.Run, MaxRunLen)
	if len(c.Functions) == 0 {
		p.addf("functions", "at least one lab function is required")
	}
	seen := map[string]bool{}
	for _, f := range c.Functions {
		if !slices.Contains(LabFunctions(), f) {
			p.addf("functions", "unknown lab function %q (want %s)", f, strings.Join(LabFunctions(), ", "))
		}
		if seen[f] {
			p.addf("functions", "%q listed twice", f)
		}
		seen[f] = true
	}
	for k := range c.Tags {
		if strings.HasPrefix(k, "fb-") {
			p.addf("tags", "tag %q: the fb- prefix is reserved for the stacks' own tags", k)
		}
	}
}

func checkID(p *problems, key, v string, maxLen int) {
	switch {
	case v == "":
		p.addf(key, "must be set")
	case len(v) > maxLen:
		p.addf(key, "%q is longer than %d characters", v, maxLen)
	case !idPattern.MatchString(v):
		p.addf(key, "%q must be lower-case letters, digits and inner hyphens", v)
	}
}

// Prefix is the platform name prefix of this run's functions:
// "fb-<experiment>-<run>-".
func (c Common) Prefix() string {
	return "fb-" + c.Experiment + "-" + c.Run + "-"
}

// FunctionName is the platform name of lab function lab in this run.
func (c Common) FunctionName(lab string) string {
	return c.Prefix() + lab
}

// Tag keys the stacks set on every resource that takes tags.
const (
	TagManagedBy  = "fb-managed-by"
	TagExperiment = "fb-experiment"
	TagRun        = "fb-run"
	// ManagedByValue is the value of TagManagedBy.
	ManagedByValue = "faas-benchmarker"
)

// ResourceTags returns the tags put on every resource: the user's Tags plus
// fb-managed-by, fb-experiment and fb-run.
func (c Common) ResourceTags() map[string]string {
	t := make(map[string]string, len(c.Tags)+3)
	for k, v := range c.Tags {
		t[k] = v
	}
	t[TagManagedBy] = ManagedByValue
	t[TagExperiment] = c.Experiment
	t[TagRun] = c.Run
	return t
}

// FunctionEnv returns the environment every deployed lab function gets:
// its own lab name, the nested-call allowlist (the deployed functions), the
// experiment and the run (docs/lab-functions.md lists the variables).
func (c Common) FunctionEnv(lab string) map[string]string {
	allowed := slices.Clone(c.Functions)
	sort.Strings(allowed)
	return map[string]string{
		EnvFunctionName:     lab,
		EnvAllowedFunctions: strings.Join(allowed, ","),
		EnvExperiment:       c.Experiment,
		EnvRun:              c.Run,
	}
}

// NameTemplate is the platform name of lab function {name} in this run,
// the form FB_NESTED_FUNCTION_TEMPLATE and FB_NESTED_URL_TEMPLATE use.
func (c Common) NameTemplate() string { return c.Prefix() + "{name}" }

// NestedKeyEnv is the env var holding the function key of lab function lab.
func NestedKeyEnv(lab string) string { return EnvNestedKeyPrefix + strings.ToUpper(lab) }

// checkEnv rejects user env entries that would override the stack's own.
func checkEnv(p *problems, key string, env map[string]string) {
	for k := range env {
		if strings.HasPrefix(k, "FB_") {
			p.addf(key, "%q: FB_ variables are set by the stack", k)
		}
		if k == "" || strings.ContainsAny(k, " =") {
			p.addf(key, "%q is not a valid variable name", k)
		}
	}
}
