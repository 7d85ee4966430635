package stackcfg

import (
	"encoding/json"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Lambda architectures.
const (
	ArchARM64 = "arm64"
	ArchX8664 = "x86_64"
)

// LogRetentionDays are the retention periods CloudWatch Logs accepts.
var logRetentionDays = []int{1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653}

// AWS configures the per-experiment AWS Lambda stack.
type AWS struct {
	Common
	// Region is the AWS region (default eu-west-1).
	Region string
	// Architecture is arm64 (default) or x86_64.
	Architecture string
	// MemoryMB is the Lambda memory size, 128..10240 (default 128).
	MemoryMB int
	// TimeoutSeconds is the Lambda timeout, 1..900 (default 60).
	TimeoutSeconds int
	// LogRetentionDays is the CloudWatch log retention (default 3).
	LogRetentionDays int
	// ArtifactDir is where scripts/build-functions writes its zips
	// (default build/functions).
	ArtifactDir string
	// FunctionZip overrides <ArtifactDir>/<goarch>/lambda-function.zip, the
	// package of function1..3 (goarch is arm64 or amd64).
	FunctionZip string
	// MonolithZip overrides <ArtifactDir>/<goarch>/lambda-monolith.zip.
	MonolithZip string
	// Env is extra environment for every function.
	Env map[string]string
	// Lanes is how many functions deployed alike idle-timeout probes in
	// parallel (3..MaxLanes, default 3: function1..3); beyond three the
	// stack deploys copies of function1 named lane4, lane5, …
	// (IdleLanes). A Lambda function costs nothing while idle.
	Lanes int
}

// Lane limits of the aws stack (fb:lanes). Each function adds its ARN
// twice (unqualified and :*) to the role's inline invoke policy, about
// 200 characters with the longest ids, and IAM takes at most 10,240 in a
// role's inline policies (IAM quotas, "Role policy size"): 40 lanes and
// the monolith stay under it (TestPolicySizeAtMaxLanes).
const (
	DefaultLanes = 3
	MaxLanes     = 40
)

// LaneName is the name of the copy of function1 deployed as idle lane i
// (4, 5, …).
func LaneName(i int) string { return "lane" + strconv.Itoa(i) }

// ServedAs is the lab function a deployed function-name key runs: a
// lane copy (lane4, lane5, ...) runs function1, a lab name itself.
func ServedAs(key string) string {
	if n, err := strconv.Atoi(strings.TrimPrefix(key, "lane")); err == nil && strings.HasPrefix(key, "lane") && n > DefaultLanes {
		return Function1
	}
	return key
}

// LaneCopies are the copies of function1 the stack deploys as idle lanes
// beyond function1..3, in order.
func (c AWS) LaneCopies() []string {
	var out []string
	for i := DefaultLanes + 1; i <= c.Lanes; i++ {
		out = append(out, LaneName(i))
	}
	return out
}

// IdleLanes implements IdleLaner: function1..3 (those deployed; all three
// when there are copies, Validate) and the copies of function1.
func (c *AWS) IdleLanes() []string {
	var out []string
	for _, f := range []string{Function1, Function2, Function3} {
		if slices.Contains(c.Functions, f) {
			out = append(out, f)
		}
	}
	return append(out, c.LaneCopies()...)
}

// DefaultAWS returns the AWS stack defaults.
func DefaultAWS() AWS {
	return AWS{
		Common:           DefaultCommon(),
		Region:           "eu-west-1",
		Architecture:     ArchARM64,
		MemoryMB:         128,
		TimeoutSeconds:   60,
		LogRetentionDays: 3,
		ArtifactDir:      "build/functions",
		Lanes:            DefaultLanes,
	}
}

// Platform implements Settings.
func (c *AWS) Platform() Platform { return PlatformAWS }

// InvocationLimit implements InvocationLimiter: the Lambda timeout.
func (c *AWS) InvocationLimit() time.Duration { return time.Duration(c.TimeoutSeconds) * time.Second }

func (c *AWS) fields() []field {
	return append(c.Common.fields(),
		field{"region", `AWS region (default "eu-west-1")`, str(&c.Region)},
		field{"architecture", `Lambda architecture arm64 or x86_64 (default "arm64")`, str(&c.Architecture)},
		field{"memory", `Lambda memory in MB, 128..10240 (default 128)`, integer(&c.MemoryMB)},
		field{"timeout", `Lambda timeout in seconds, 1..900 (default 60)`, integer(&c.TimeoutSeconds)},
		field{"logRetentionDays", `CloudWatch log retention in days (default 3)`, integer(&c.LogRetentionDays)},
		field{"artifactDir", `directory of the lab-function build (default "build/functions")`, str(&c.ArtifactDir)},
		field{"functionZip", `Lambda zip of function1..3 (default <artifactDir>/<arm64|amd64>/lambda-function.zip)`, str(&c.FunctionZip)},
		field{"monolithZip", `Lambda zip of monolith (default <artifactDir>/<arm64|amd64>/lambda-monolith.zip)`, str(&c.MonolithZip)},
		field{"env", `extra function environment K=v,K2=v2 (default none)`, kvmap(&c.Env)},
		field{"lanes", `functions deployed alike for idle-timeout's parallel lanes, 3..40: function1..3 and copies of function1 named lane4, lane5, ... (more than 3 need function1..3 deployed; default 3)`, integer(&c.Lanes)},
	)
}

// Keys implements Settings.
func (c *AWS) Keys() []KeyDoc { return keyDocs(c.fields()) }

// Set implements Settings.
func (c *AWS) Set(key, value string) error { return setField(c.Platform(), c.fields(), key, value) }

// Validate implements Settings.
func (c *AWS) Validate() error {
	var p problems
	c.Common.validate(&p)
	if c.Region == "" {
		p.addf("region", "must be set")
	}
	if c.Architecture != ArchARM64 && c.Architecture != ArchX8664 {
		p.addf("architecture", "%q must be %s or %s", c.Architecture, ArchARM64, ArchX8664)
	}
	if c.MemoryMB < 128 || c.MemoryMB > 10240 {
		p.addf("memory", "%d MB is outside 128..10240", c.MemoryMB)
	}
	if c.TimeoutSeconds < 1 || c.TimeoutSeconds > 900 {
		p.addf("timeout", "%d s is outside 1..900", c.TimeoutSeconds)
	}
	if c.Lanes < DefaultLanes || c.Lanes > MaxLanes {
		p.addf("lanes", "%d is outside %d..%d", c.Lanes, DefaultLanes, MaxLanes)
	}
	for _, f := range []string{Function1, Function2, Function3} {
		if c.Lanes > DefaultLanes && !slices.Contains(c.Functions, f) {
			p.addf("lanes", "%d lanes are function1..3 and copies of function1: fb:functions must deploy %s", c.Lanes, f)
		}
	}
	if !slices.Contains(logRetentionDays, c.LogRetentionDays) {
		p.addf("logRetentionDays", "%d is not a CloudWatch retention (1, 3, 5, 7, 14, 30, ...)", c.LogRetentionDays)
	}
	for _, f := range c.Functions {
		if c.Artifact(f) == "" {
			p.addf("artifactDir", "no package path for %s: set fb:artifactDir or fb:functionZip/fb:monolithZip", f)
		}
	}
	checkEnv(&p, "env", c.Env)
	c.checkLambdaEnv(&p)
	return p.err(c.Platform())
}

// LambdaReservedEnv are the environment keys Lambda reserves: "The keys
// for these environment variables are reserved and cannot be set in your
// function configuration" (AWS Lambda Developer Guide, "Defined runtime
// environment variables",
// https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars-runtime.html).
var LambdaReservedEnv = []string{
	"_HANDLER", "_X_AMZN_TRACE_ID", "AWS_DEFAULT_REGION", "AWS_REGION", "AWS_EXECUTION_ENV",
	"AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_LAMBDA_FUNCTION_VERSION",
	"AWS_LAMBDA_INITIALIZATION_TYPE", "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME",
	"AWS_ACCESS_KEY", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
	"AWS_LAMBDA_RUNTIME_API", "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR", "TZ",
}

// LambdaEnvLimit is the most environment a Lambda function takes: "4 KB,
// for all environment variables associated with the function, in
// aggregate" (AWS Lambda Developer Guide, "Lambda quotas",
// https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html).
// The service measures the variables as a JSON object (its refusal quotes
// the "String measured"), which is what LambdaEnvSize counts.
const LambdaEnvLimit = 4096

// LambdaEnv is the environment of lab function lab: the shared FB_*
// variables, fb:env, and the Lambda-specific ones.
func (c AWS) LambdaEnv(lab string) map[string]string {
	env := c.FunctionEnv(lab)
	for k, v := range c.Env {
		env[k] = v
	}
	env[EnvPlatform] = LabPlatformAWSLambda
	env[EnvFunctionTimeout] = strconv.Itoa(c.TimeoutSeconds)
	env[EnvNestedFunctionTemplate] = c.NameTemplate()
	return env
}

// LambdaEnvSize is the size of env as Lambda measures it against
// LambdaEnvLimit: its JSON encoding.
func LambdaEnvSize(env map[string]string) int {
	b, _ := json.Marshal(env) // a map of strings always marshals
	return len(b)
}

// checkLambdaEnv refuses reserved keys in fb:env and an environment
// Lambda would refuse for size, counting the FB_COLD_TOKEN a forced cold
// start adds (a UUID), before any resource is declared.
func (c AWS) checkLambdaEnv(p *problems) {
	for k := range c.Env {
		if slices.Contains(LambdaReservedEnv, k) {
			p.addf("env", "%q is reserved by Lambda and cannot be set", k)
		}
	}
	worst := 0
	for _, lab := range c.Functions {
		env := c.LambdaEnv(lab)
		env[EnvColdToken] = "00000000-0000-0000-0000-000000000000"
		worst = max(worst, LambdaEnvSize(env))
	}
	if worst > LambdaEnvLimit {
		p.addf("env", "the functions' environment would be %d bytes with %s, over Lambda's 4 KB (%d bytes) for all variables together", worst, EnvColdToken, LambdaEnvLimit)
	}
}

// GoArch is the Go architecture name of the Lambda architecture, the
// directory scripts/build-functions writes to.
func (c AWS) GoArch() string {
	if c.Architecture == ArchX8664 {
		return "amd64"
	}
	return c.Architecture
}

// Artifact is the Lambda zip (bootstrap at its root) deployed as lab
// function lab.
func (c AWS) Artifact(lab string) string {
	explicit, file := c.FunctionZip, "lambda-function.zip"
	if lab == Monolith {
		explicit, file = c.MonolithZip, "lambda-monolith.zip"
	}
	switch {
	case explicit != "":
		return explicit
	case c.ArtifactDir == "":
		return ""
	}
	return filepath.Join(c.ArtifactDir, c.GoArch(), file)
}

// ResolvePaths makes the relative package paths absolute against base (the
// project root for the Pulumi.yaml entry point, the working directory for
// fbrun). It implements PathResolver.
func (c *AWS) ResolvePaths(base string) {
	resolve(base, &c.ArtifactDir, &c.FunctionZip, &c.MonolithZip)
}
