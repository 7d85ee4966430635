package stackcfg

import (
	"slices"
	"strings"
	"testing"
	"time"
)

const testKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExampleKeyOnlyForTests test@fb"

// valid returns settings for p that pass Validate: the defaults plus the
// keys that have no default.
func valid(t *testing.T, p Platform) Settings {
	t.Helper()
	s, err := New(p)
	if err != nil {
		t.Fatal(err)
	}
	switch p {
	case PlatformPermanent:
		mustSet(t, s, "sshPublicKey", testKey)
		mustSet(t, s, "sshCidrs", "203.0.113.7/32")
	case PlatformOpenFaaS:
		mustSet(t, s, "image", "ghcr.io/example/fb-lab:1")
		mustSet(t, s, "monolithImage", "ghcr.io/example/fb-monolith:1")
		mustSet(t, s, "gatewayPassword", "correct-horse-battery")
		mustSet(t, s, "gatewayCidrs", "203.0.113.7/32")
	}
	return s
}

func mustSet(t *testing.T, s Settings, k, v string) {
	t.Helper()
	if err := s.Set(k, v); err != nil {
		t.Fatalf("Set(%q, %q): %v", k, v, err)
	}
}

func TestDefaultsAreValid(t *testing.T) {
	for _, p := range Platforms() {
		t.Run(string(p), func(t *testing.T) {
			s := valid(t, p)
			if err := s.Validate(); err != nil {
				t.Fatalf("defaults (plus required keys) invalid: %v", err)
			}
			if s.Platform() != p {
				t.Fatalf("Platform() = %q", s.Platform())
			}
		})
	}
}

func TestRequiredKeysHaveNoDefault(t *testing.T) {
	tests := []struct {
		platform Platform
		wantKeys []string // every key that must be named in the error
	}{
		{PlatformPermanent, []string{"fb:sshPublicKey", "fb:sshCidrs"}},
		{PlatformOpenFaaS, []string{"fb:image", "fb:monolithImage", "fb:gatewayPassword", "fb:gatewayCidrs"}},
	}
	for _, tt := range tests {
		t.Run(string(tt.platform), func(t *testing.T) {
			s, err := New(tt.platform)
			if err != nil {
				t.Fatal(err)
			}
			err = s.Validate()
			if err == nil {
				t.Fatal("bare defaults validated; required keys were not enforced")
			}
			for _, k := range tt.wantKeys {
				if !strings.Contains(err.Error(), k) {
					t.Errorf("error %q does not name %s", err, k)
				}
			}
		})
	}
}

func TestUnknownPlatform(t *testing.T) {
	if _, err := New("gcp"); err == nil || !strings.Contains(err.Error(), "aws") {
		t.Fatalf("New(gcp) = %v, want an error listing the platforms", err)
	}
}

func TestOverridesAWS(t *testing.T) {
	c := DefaultAWS()
	err := ApplyOverrides(&c, []string{
		"memory=1024", "fb:architecture=x86_64", "timeout=30", "region=us-east-1",
		"functions=function1, monolith", "run=r7", "experiment=coldstart",
		"env=A=1,B=two", "tags=owner=me", "logRetentionDays=7",
	})
	if err != nil {
		t.Fatal(err)
	}
	if c.MemoryMB != 1024 || c.Architecture != ArchX8664 || c.TimeoutSeconds != 30 || c.Region != "us-east-1" || c.LogRetentionDays != 7 {
		t.Fatalf("overrides not applied: %+v", c)
	}
	if !slices.Equal(c.Functions, []string{Function1, Monolith}) {
		t.Fatalf("Functions = %v", c.Functions)
	}
	if c.Env["A"] != "1" || c.Env["B"] != "two" || c.Tags["owner"] != "me" {
		t.Fatalf("maps not parsed: env %v tags %v", c.Env, c.Tags)
	}
	if got := c.FunctionName(Function1); got != "fb-coldstart-r7-function1" {
		t.Fatalf("FunctionName = %q", got)
	}
	if got := c.Artifact(Function1); got != "build/functions/amd64/lambda-function.zip" {
		t.Fatalf("Artifact(function1) = %q", got)
	}
	if got := c.Artifact(Monolith); got != "build/functions/amd64/lambda-monolith.zip" {
		t.Fatalf("Artifact(monolith) = %q", got)
	}
	c.FunctionZip, c.MonolithZip = "/a/f.zip", "/a/m.zip"
	if c.Artifact(Function2) != "/a/f.zip" || c.Artifact(Monolith) != "/a/m.zip" {
		t.Fatalf("explicit zips ignored: %q %q", c.Artifact(Function2), c.Artifact(Monolith))
	}
}

func TestInvalid(t *testing.T) {
	tests := []struct {
		name      string
		platform  Platform
		overrides []string
		want      string // substring of the error
	}{
		{"memory too small", PlatformAWS, []string{"memory=64"}, "fb:memory: 64 MB is outside 128..10240"},
		{"memory too large", PlatformAWS, []string{"memory=20000"}, "fb:memory"},
		{"bad arch", PlatformAWS, []string{"architecture=arm"}, `fb:architecture: "arm" must be arm64 or x86_64`},
		{"timeout", PlatformAWS, []string{"timeout=901"}, "fb:timeout"},
		{"too few lanes", PlatformAWS, []string{"lanes=2"}, "fb:lanes: 2 is outside 3..40"},
		{"too many lanes", PlatformAWS, []string{"lanes=41"}, "fb:lanes: 41 is outside 3..40"},
		{"lanes without function2", PlatformAWS, []string{"functions=function1,function3,monolith", "lanes=5"}, "fb:lanes: 5 lanes are function1..3 and copies of function1: fb:functions must deploy function2"},
		{"retention", PlatformAWS, []string{"logRetentionDays=2"}, "fb:logRetentionDays"},
		{"no artifacts", PlatformAWS, []string{"artifactDir="}, "fb:artifactDir"},
		{"reserved env", PlatformAWS, []string{"env=FB_FUNCTION_NAME=x"}, "fb:env"},
		{"unknown function", PlatformAWS, []string{"functions=function9"}, `unknown lab function "function9"`},
		{"duplicate function", PlatformAWS, []string{"functions=function1,function1"}, "listed twice"},
		{"no functions", PlatformAzure, []string{"functions="}, "at least one lab function"},
		{"upper-case run", PlatformAWS, []string{"run=R1"}, "fb:run"},
		{"long experiment", PlatformAzure, []string{"experiment=" + strings.Repeat("x", 21)}, "longer than 20"},
		{"reserved tag", PlatformAzure, []string{"tags=fb-run=x"}, "fb:tags"},
		{"azure location", PlatformAzure, []string{"location=West Europe"}, "fb:location"},
		{"azure reserved setting", PlatformAzure, []string{"env=FUNCTIONS_WORKER_RUNTIME=python"}, "set by the stack"},
		{"azure host id setting", PlatformAzure, []string{"env=AzureFunctionsWebHost__hostid=x"}, "set by the stack"},
		{"azure plan", PlatformAzure, []string{"plan=premium"}, `fb:plan: "premium" is not a plan (want flex or consumption)`},
		{"flex memory", PlatformAzure, []string{"memory=1024"}, "fb:memory: 1024 MB is not a Flex Consumption instance size (512, 2048 or 4096)"},
		{"flex memory, explicit plan", PlatformAzure, []string{"plan=flex", "memory=128"}, "fb:memory: 128 MB"},
		{"flex instances", PlatformAzure, []string{"maxInstances=39"}, "fb:maxInstances: 39 is outside 40..1000"},
		{"flex instances high", PlatformAzure, []string{"maxInstances=1001"}, "fb:maxInstances"},
		{"flex concurrency", PlatformAzure, []string{"httpConcurrency=1001"}, "fb:httpConcurrency"},
		{"flex extension version", PlatformAzure, []string{"extensionVersion=~3"}, "Flex Consumption runs Functions 4.x only"},
		{"memory on consumption", PlatformAzure, []string{"plan=consumption", "memory=2048"}, "fb:memory: applies to plan=flex only"},
		{"openfaas short password", PlatformOpenFaaS, []string{"gatewayPassword=short"}, "fb:gatewayPassword"},
		{"openfaas scale", PlatformOpenFaaS, []string{"scaleMin=5", "scaleMax=2"}, "fb:scaleMin"},
		{"openfaas cidr", PlatformOpenFaaS, []string{"gatewayCidrs=everyone"}, "fb:gatewayCidrs"},
		{"openfaas gateway open to world", PlatformOpenFaaS, []string{"gatewayCidrs=203.0.113.7/32,0.0.0.0/0"}, "whole internet"},
		{"openfaas CE replica cap", PlatformOpenFaaS, []string{"scaleMax=6"}, "caps a function at 5 replicas"},
		{"openfaas timeout", PlatformOpenFaaS, []string{"functionTimeout=0"}, "fb:functionTimeout"},
		{"openfaas timeout beyond the NLB", PlatformOpenFaaS, []string{"functionTimeout=300"}, "NLB's TCP idle timeout is 350 s"},
		{"openfaas k8s", PlatformOpenFaaS, []string{"kubernetesVersion=latest"}, "fb:kubernetesVersion"},
		{"openfaas vpc", PlatformOpenFaaS, []string{"vpcCidr=10.0.0.0/28"}, "fb:vpcCidr"},
		{"ssh open to world", PlatformPermanent, []string{"sshCidrs=0.0.0.0/0"}, "whole internet"},
		{"ssh key", PlatformPermanent, []string{"sshPublicKey=hello"}, "fb:sshPublicKey"},
		{"do region", PlatformPermanent, []string{"region=Frankfurt"}, "fb:region"},
		{"bucket name", PlatformPermanent, []string{"bucketName=Bad_Name"}, "fb:bucketName"},
		{"do tag", PlatformPermanent, []string{"tags=a b"}, "fb:tags"},
		{"bucket name too long", PlatformPermanent, []string{"bucketName=" + strings.Repeat("b", 64)}, "fb:bucketName"},
		{"bucket name too short", PlatformPermanent, []string{"bucketName=ab"}, "fb:bucketName"},
		{"do tag too long", PlatformPermanent, []string{"tags=" + strings.Repeat("t", 256)}, "fb:tags"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := valid(t, tt.platform)
			err := ApplyOverrides(s, tt.overrides)
			if err == nil {
				t.Fatalf("overrides %v accepted", tt.overrides)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %q does not contain %q", err, tt.want)
			}
			if !strings.Contains(err.Error(), "invalid "+string(tt.platform)+" stack config") {
				t.Fatalf("error %q does not name the stack", err)
			}
		})
	}
}

func TestSetErrors(t *testing.T) {
	tests := []struct {
		name, key, value, want string
	}{
		{"unknown key", "memroy", "1", "unknown key fb:memroy for the aws stack (known: "},
		{"not an int", "memory", "lots", `fb:memory (aws stack): "lots" is not an integer`},
		{"bad map", "env", "novalue", `"novalue" is not KEY=value`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := DefaultAWS()
			err := c.Set(tt.key, tt.value)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Set(%q,%q) = %v, want error containing %q", tt.key, tt.value, err, tt.want)
			}
		})
	}
	if _, _, err := ParseOverride("memory"); err == nil {
		t.Fatal("ParseOverride accepted an override without =")
	}
	o := DefaultOpenFaaS()
	if err := o.Set("functionCrd", "maybe"); err == nil {
		t.Fatal("non-boolean functionCrd accepted")
	}
}

func TestKeysDocumentEverySettableKey(t *testing.T) {
	for _, p := range Platforms() {
		s, _ := New(p)
		keys := s.Keys()
		if len(keys) < 5 {
			t.Fatalf("%s: only %d keys", p, len(keys))
		}
		for i, k := range keys {
			if k.Help == "" {
				t.Errorf("%s: key %s has no help", p, k.Key)
			}
			if i > 0 && keys[i-1].Key >= k.Key {
				t.Errorf("%s: keys not sorted/unique at %s", p, k.Key)
			}
			if err := s.Set(k.Key, "1"); err != nil && strings.Contains(err.Error(), "unknown key") {
				t.Errorf("%s: documented key %s is not settable", p, k.Key)
			}
		}
	}
}

func TestFunctionEnv(t *testing.T) {
	c := DefaultAWS()
	c.Functions = []string{Monolith, Function2}
	env := c.FunctionEnv(Function2)
	want := map[string]string{
		EnvFunctionName:     Function2,
		EnvAllowedFunctions: "function2,monolith",
		EnvExperiment:       "adhoc",
		EnvRun:              "dev",
	}
	for k, v := range want {
		if env[k] != v {
			t.Errorf("%s = %q, want %q", k, env[k], v)
		}
	}
	if NestedKeyEnv(Monolith) != "FB_NESTED_KEY_MONOLITH" || c.NameTemplate() != "fb-adhoc-dev-{name}" {
		t.Fatal("nested env name or template changed")
	}
	if _, ok := env["FB_FUNCTION_PREFIX"]; ok {
		t.Fatal("unknown variable set")
	}
	tags := c.ResourceTags()
	if tags[TagManagedBy] != ManagedByValue || tags[TagRun] != "dev" || tags[TagExperiment] != "adhoc" {
		t.Fatalf("ResourceTags = %v", tags)
	}
}

func TestPermanentDerived(t *testing.T) {
	c := DefaultPermanent()
	c.Region = "ams3"
	if c.SpacesEndpoint() != "https://ams3.digitaloceanspaces.com" {
		t.Fatal(c.SpacesEndpoint())
	}
	if got := c.StateBackendURL("b1"); got != "s3://b1?endpoint=https://ams3.digitaloceanspaces.com&region=us-east-1&s3ForcePathStyle=true&profile=fb-spaces" {
		t.Fatal(got)
	}
	c.Tags = []string{"team-x"}
	if !slices.Equal(c.DOTags(), []string{"faas-benchmarker", "fb-permanent", "team-x"}) {
		t.Fatal(c.DOTags())
	}
}

// TestOpenFaaSLimits: the defaults stay inside OpenFaaS CE's limits
// (5 replicas per function, 15 functions), the only edition the stack
// installs.
func TestOpenFaaSLimits(t *testing.T) {
	c := valid(t, PlatformOpenFaaS).(*OpenFaaS)
	if c.ScaleMax > CEMaxReplicas || len(c.Functions) > CEMaxFunctions {
		t.Fatalf("defaults outside CE: scaleMax %d, %d functions", c.ScaleMax, len(c.Functions))
	}
	// No setting pretends to install Pro.
	for _, kv := range []string{"edition=pro", "functionCrd=true"} {
		if err := ApplyOverrides(c, []string{kv}); err == nil || !strings.Contains(err.Error(), "unknown key") {
			t.Errorf("%s: %v, want unknown key", kv, err)
		}
	}
}

// TestTimeoutChain: the derived timeouts are in the order a call needs
// and the longest functionTimeout the 350 s NLB carries is accepted, one
// second more refused with the reason; every inversion of a hand-made
// chain is refused naming the two timeouts.
func TestTimeoutChain(t *testing.T) {
	derived := func(secs int) Timeouts {
		c := DefaultOpenFaaS()
		c.FunctionTimeoutSeconds = secs
		return c.GatewayTimeouts()
	}
	good := derived(60)
	with := func(f func(*Timeouts)) Timeouts { t := good; f(&t); return t }
	tests := []struct {
		name    string
		to      Timeouts
		wantErr string
	}{
		{"default", derived(DefaultOpenFaaS().FunctionTimeoutSeconds), ""},
		{"one second", derived(1), ""},
		{"longest the NLB carries", derived(MaxFunctionTimeoutSeconds), ""},
		{"one second more", derived(MaxFunctionTimeoutSeconds + 1), "NLB's TCP idle timeout is 350 s (AWS default, kept): at most 230 s fits"},
		{"lambda's 900 s", derived(900), "a cold call may take 1020 s"},
		{"no exec timeout", with(func(t *Timeouts) { t.Exec = 0 }), "exec_timeout 0 s must be positive"},
		{"watchdog below exec", with(func(t *Timeouts) { t.WatchdogReadWrite = t.Exec }), "watchdog's read/write timeout 60 s must exceed its exec_timeout 60 s"},
		{"upstream below watchdog", with(func(t *Timeouts) { t.Upstream = t.WatchdogReadWrite - time.Second }), "upstream timeout 64 s must exceed the watchdog's 65 s"},
		{"gateway without scale-from-zero", with(func(t *Timeouts) { t.Gateway = t.Upstream + 5*time.Second }), "must exceed its scale-from-zero wait 100 s plus its upstream timeout 70 s"},
		{"client below gateway", with(func(t *Timeouts) { t.Client = t.Gateway }), "client timeout 175 s must exceed the gateway's read/write timeout 175 s"},
		{"client beyond the NLB", with(func(t *Timeouts) { t.NLBIdle = t.Client - time.Second }), "NLB's TCP idle timeout is 179 s"},
	}
	for _, tt := range tests {
		err := tt.to.Check()
		if tt.wantErr == "" {
			if err != nil {
				t.Errorf("%s: %+v refused: %v", tt.name, tt.to, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tt.wantErr) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: error %v, want one line containing %q", tt.name, err, tt.wantErr)
		}
	}
	if MaxFunctionTimeoutSeconds != 230 {
		t.Errorf("MaxFunctionTimeoutSeconds = %d, want 230 (350 s NLB − 100 s scale from zero − 4 × 5 s)", MaxFunctionTimeoutSeconds)
	}
	// The chart values are Go durations in whole seconds.
	if to := derived(180); GoDuration(to.Exec) != "180s" || GoDuration(to.Upstream) != "190s" || GoDuration(to.Gateway) != "295s" || to.Client != 300*time.Second {
		t.Errorf("derived 180 s chain = %+v", to)
	}
}

func TestOpenFaaSImages(t *testing.T) {
	c := DefaultOpenFaaS()
	c.GatewayPassword = "correct-horse-battery"
	c.GatewayCIDRs = []string{"203.0.113.7/32"}
	c.Functions = []string{Function1, Function2}
	c.Image = "img"
	if err := c.Validate(); err != nil {
		t.Fatalf("monolith image required without monolith: %v", err)
	}
	c.Functions = []string{Monolith}
	c.Image = ""
	err := c.Validate()
	if err == nil || !strings.Contains(err.Error(), "fb:monolithImage") || strings.Contains(err.Error(), "fb:image") {
		t.Fatalf("err = %v, want only fb:monolithImage", err)
	}
	c.MonolithImage = "mono"
	if c.ImageFor(Monolith) != "mono" || c.ImageFor(Function1) != "" {
		t.Fatal("ImageFor")
	}
}

func TestAzureArtifacts(t *testing.T) {
	c := DefaultAzure()
	if c.Artifact(Function2) != "build/functions/amd64/azure-functions.zip" || c.Artifact(Monolith) != "build/functions/amd64/azure-monolith.zip" {
		t.Fatalf("azure artifacts = %q %q", c.Artifact(Function2), c.Artifact(Monolith))
	}
	c.FunctionsZip, c.MonolithZip = "/f.zip", "/m.zip"
	if c.Artifact(Function1) != "/f.zip" || c.Artifact(Monolith) != "/m.zip" {
		t.Fatal("explicit azure zips ignored")
	}
	d := DefaultAWS()
	if d.Artifact(Function1) != "build/functions/arm64/lambda-function.zip" {
		t.Fatalf("aws default artifact = %q", d.Artifact(Function1))
	}
}

func TestNewPassword(t *testing.T) {
	a, err := NewPassword()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := NewPassword()
	if len(a) != 32 || a == b {
		t.Fatalf("passwords %q %q", a, b)
	}
	c := DefaultOpenFaaS()
	c.Image, c.MonolithImage, c.GatewayPassword = "img", "mono", a
	c.GatewayCIDRs = []string{"203.0.113.7/32"}
	if err := c.Validate(); err != nil {
		t.Fatalf("generated password rejected: %v", err)
	}
}

// TestPermanentNameLengths: the longest bucket name and tag DigitalOcean
// accepts are accepted (63 and 255 characters); one more is refused above.
func TestPermanentNameLengths(t *testing.T) {
	s := valid(t, PlatformPermanent)
	if err := ApplyOverrides(s, []string{"bucketName=" + strings.Repeat("b", 63), "tags=" + strings.Repeat("t", 255)}); err != nil {
		t.Fatal(err)
	}
}

// TestAzurePlanDefaults: Flex Consumption is the default plan, with 2048 MB
// instances and 100 instances at most; Linux Consumption has neither.
func TestAzurePlanDefaults(t *testing.T) {
	c := DefaultAzure()
	if c.Plan != AzurePlanFlex || c.Memory() != 2048 || c.InstanceLimit() != 100 {
		t.Errorf("defaults = plan %q, %d MB, %d instances", c.Plan, c.Memory(), c.InstanceLimit())
	}
	if err := ApplyOverrides(&c, []string{"memory=4096", "maxInstances=1000"}); err != nil || c.Memory() != 4096 || c.InstanceLimit() != 1000 {
		t.Errorf("flex overrides: %v, %d MB, %d", err, c.Memory(), c.InstanceLimit())
	}
	y1 := DefaultAzure()
	if err := ApplyOverrides(&y1, []string{"plan=consumption"}); err != nil || y1.Memory() != 0 || y1.InstanceLimit() != 0 {
		t.Errorf("consumption: %v, %d MB, %d", err, y1.Memory(), y1.InstanceLimit())
	}
}

// TestHostIDRule checks the host ID helpers against the Functions host:
// its validation rule (azure-webjobs-sdk HostIdValidator) and the default
// derivation from the site name (azure-functions-host
// ScriptHostIdProviderTests' vectors).
func TestHostIDRule(t *testing.T) {
	for _, tc := range []struct {
		id    string
		valid bool
	}{
		{"function1-0a1b2c3d", true}, {"a", true}, {strings.Repeat("a", 32), true},
		{"", false}, {strings.Repeat("a", 33), false}, {"-a", false}, {"a-", false}, {"a--b", false}, {"Ab", false}, {"a_b", false},
	} {
		if got := ValidHostID(tc.id); got != tc.valid {
			t.Errorf("ValidHostID(%q) = %v", tc.id, got)
		}
	}
	for in, want := range map[string]string{
		"TEST-FUNCTIONS--": "test-functions",
		"TEST-FUNCTIONS-XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX": "test-functions-xxxxxxxxxxxxxxxxx",
		"TEST-FUNCTIONS-XXXXXXXXXXXXXXXX-XXXX":                                                      "test-functions-xxxxxxxxxxxxxxxx",
	} {
		if got := DefaultHostID(in); got != want {
			t.Errorf("DefaultHostID(%q) = %q, want %q", in, got, want)
		}
	}
	c := DefaultAzure()
	c.Experiment, c.Run = "cold-start", "26-054300-3fa9c1"
	seen := map[string]bool{}
	for _, lab := range LabFunctions() {
		id := c.HostID(lab)
		if !ValidHostID(id) || seen[id] || !strings.HasPrefix(id, lab+"-") {
			t.Errorf("HostID(%s) = %q", lab, id)
		}
		seen[id] = true
	}
	other := c
	other.Run = "26-054300-3fa9c2"
	if other.HostID(Function1) == c.HostID(Function1) {
		t.Error("two stacks give function1 the same host ID")
	}
}
