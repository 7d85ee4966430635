package aws

import (
	"encoding/json"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/faas-benchmarker/faas-benchmarker/stacks/internal/stacktest"
	"github.com/faas-benchmarker/faas-benchmarker/stacks/stackcfg"
)

const (
	typeFunction = "aws:lambda/function:Function"
	typeRole     = "aws:iam/role:Role"
	typePolicy   = "aws:iam/rolePolicy:RolePolicy"
	typeLogGroup = "aws:cloudwatch/logGroup:LogGroup"
	typeProvider = "pulumi:providers:aws"
	account      = "123456789012"
)

func mocks() *stacktest.Mocks {
	return &stacktest.Mocks{State: func(r stacktest.Resource) resource.PropertyMap {
		name := ""
		if v, ok := r.Inputs["name"]; ok && v.IsString() {
			name = v.StringValue()
		}
		switch r.Type {
		case typeFunction:
			return resource.PropertyMap{"arn": resource.NewProperty("arn:aws:lambda:eu-west-1:" + account + ":function:" + name)}
		case typeRole:
			return resource.PropertyMap{"arn": resource.NewProperty("arn:aws:iam::" + account + ":role/" + name)}
		case typeLogGroup:
			return resource.PropertyMap{"arn": resource.NewProperty("arn:aws:logs:eu-west-1:" + account + ":log-group:" + name)}
		}
		return nil
	}}
}

func run(t *testing.T, cfg stackcfg.AWS) (*stacktest.Mocks, map[string]stacktest.Value) {
	t.Helper()
	m := mocks()
	outs, err := stacktest.Run(t, m, func(ctx *pulumi.Context) (map[string]pulumi.Output, error) {
		return Deploy(ctx, cfg)
	})
	if err != nil {
		t.Fatalf("program failed: %v", err)
	}
	return m, outs
}

func TestDefaults(t *testing.T) {
	cfg := stackcfg.DefaultAWS()
	cfg.Experiment, cfg.Run = "coldstart", "r1"
	cfg.Tags = map[string]string{"owner": "lab"}
	m, outs := run(t, cfg)

	want := map[string]int{typeProvider: 1, typeLogGroup: 1, typeRole: 1, typePolicy: 1, typeFunction: 4}
	if got := m.Counts(); !mapsEqual(got, want) {
		t.Fatalf("resource counts = %v, want %v", got, want)
	}
	if p := m.OfType(typeProvider)[0]; stacktest.Str(t, p, "region") != "eu-west-1" {
		t.Fatalf("provider region = %q", stacktest.Str(t, p, "region"))
	}
	lg := m.OfType(typeLogGroup)[0]
	if stacktest.Num(t, lg, "retentionInDays") != 3 {
		t.Fatalf("log retention = %v", stacktest.Num(t, lg, "retentionInDays"))
	}
	for _, lab := range stackcfg.LabFunctions() {
		fn := m.Named(t, typeFunction, lab)
		in := stacktest.Plain(fn)
		if fn.Provider == "" {
			t.Errorf("%s uses the default provider, not the stack's explicit one", lab)
		}
		if got := stacktest.Str(t, fn, "name"); got != "fb-coldstart-r1-"+lab {
			t.Errorf("%s name = %q", lab, got)
		}
		if in["runtime"] != "provided.al2023" || in["handler"] != "bootstrap" {
			t.Errorf("%s runtime/handler = %v/%v", lab, in["runtime"], in["handler"])
		}
		if !slices.Equal(stacktest.ToStrings(in["architectures"]), []string{"arm64"}) {
			t.Errorf("%s architectures = %v", lab, in["architectures"])
		}
		if stacktest.Num(t, fn, "memorySize") != 128 || stacktest.Num(t, fn, "timeout") != 60 {
			t.Errorf("%s memory/timeout = %v/%v", lab, in["memorySize"], in["timeout"])
		}
		code := fn.Inputs["code"]
		wantZip := "build/functions/arm64/lambda-function.zip"
		if lab == stackcfg.Monolith {
			wantZip = "build/functions/arm64/lambda-monolith.zip"
		}
		if !code.IsArchive() || code.ArchiveValue().Path != wantZip {
			t.Errorf("%s code = %v, want file archive %s", lab, code, wantZip)
		}
		env := in["environment"].(map[string]any)["variables"].(map[string]any)
		if env["FB_FUNCTION_NAME"] != lab || env["FB_ALLOWED_FUNCTIONS"] != "function1,function2,function3,monolith" ||
			env["FB_NESTED_FUNCTION_TEMPLATE"] != "fb-coldstart-r1-{name}" || env["FB_PLATFORM"] != "aws-lambda" ||
			env["FB_FUNCTION_TIMEOUT"] != "60" || env["FB_EXPERIMENT"] != "coldstart" || env["FB_RUN"] != "r1" {
			t.Errorf("%s env = %v", lab, env)
		}
		if lc := in["loggingConfig"].(map[string]any); lc["logGroup"] != "/fb/coldstart/r1" || lc["logFormat"] != "Text" {
			t.Errorf("%s loggingConfig = %v", lab, lc)
		}
	}
	for _, r := range append(append(m.OfType(typeFunction), m.OfType(typeRole)...), m.OfType(typeLogGroup)...) {
		tags, _ := stacktest.Plain(r)["tags"].(map[string]any)
		if tags["fb-experiment"] != "coldstart" || tags["fb-run"] != "r1" || tags["fb-managed-by"] != "faas-benchmarker" || tags["owner"] != "lab" {
			t.Errorf("%s %s tags = %v", r.Type, r.Name, tags)
		}
	}

	names := stacktest.StringMap(t, outs[stackcfg.OutFunctionNames].V)
	arns := stacktest.StringMap(t, outs[stackcfg.OutFunctionARNs].V)
	if len(names) != 4 || names["monolith"] != "fb-coldstart-r1-monolith" || !strings.HasSuffix(arns["function2"], ":function:fb-coldstart-r1-function2") {
		t.Fatalf("outputs names=%v arns=%v", names, arns)
	}
	for _, k := range []string{stackcfg.OutPlatform, stackcfg.OutRegion, stackcfg.OutLogGroup, stackcfg.OutRoleARN, stackcfg.OutRun, stackcfg.OutExperiment} {
		if outs[k].V == nil || outs[k].V == "" {
			t.Errorf("output %s missing", k)
		}
	}
	if outs[stackcfg.OutPlatform].V != "aws" || outs[stackcfg.OutRegion].V != "eu-west-1" {
		t.Errorf("platform/region outputs = %v/%v", outs[stackcfg.OutPlatform].V, outs[stackcfg.OutRegion].V)
	}
}

func TestOverrides(t *testing.T) {
	cfg := stackcfg.DefaultAWS()
	if err := stackcfg.ApplyOverrides(&cfg, []string{
		"memory=2048", "architecture=x86_64", "timeout=300", "region=us-east-2",
		"functions=function1,function3", "functionZip=/abs/f.zip", "env=GOGC=off",
	}); err != nil {
		t.Fatal(err)
	}
	m, _ := run(t, cfg)
	fns := m.OfType(typeFunction)
	if len(fns) != 2 || fns[0].Name != "function1" || fns[1].Name != "function3" {
		t.Fatalf("functions = %v", fns)
	}
	for _, fn := range fns {
		in := stacktest.Plain(fn)
		if in["memorySize"] != 2048.0 || in["timeout"] != 300.0 || !slices.Equal(stacktest.ToStrings(in["architectures"]), []string{"x86_64"}) {
			t.Errorf("%s = memory %v timeout %v arch %v", fn.Name, in["memorySize"], in["timeout"], in["architectures"])
		}
		if fn.Inputs["code"].ArchiveValue().Path != "/abs/f.zip" {
			t.Errorf("%s code path = %s", fn.Name, fn.Inputs["code"].ArchiveValue().Path)
		}
		env := in["environment"].(map[string]any)["variables"].(map[string]any)
		if env["GOGC"] != "off" || env["FB_ALLOWED_FUNCTIONS"] != "function1,function3" {
			t.Errorf("%s env = %v", fn.Name, env)
		}
	}
	if got := stacktest.Str(t, m.OfType(typeProvider)[0], "region"); got != "us-east-2" {
		t.Fatalf("provider region = %q", got)
	}
}

// TestPolicyLeastPrivilege checks that the role may invoke exactly the
// stack's own functions and write only to its own log group.
func TestPolicyLeastPrivilege(t *testing.T) {
	for _, functions := range [][]string{stackcfg.LabFunctions(), {stackcfg.Function2}} {
		t.Run(strings.Join(functions, "+"), func(t *testing.T) {
			cfg := stackcfg.DefaultAWS()
			cfg.Functions = functions
			m, outs := run(t, cfg)
			var doc PolicyDocument
			if err := json.Unmarshal([]byte(stacktest.Str(t, m.OfType(typePolicy)[0], "policy")), &doc); err != nil {
				t.Fatal(err)
			}
			arns := stacktest.StringMap(t, outs[stackcfg.OutFunctionARNs].V)
			var want []string
			for _, a := range arns {
				want = append(want, a, a+":*")
			}
			sort.Strings(want)
			var sawInvoke, sawLogs bool
			for _, s := range doc.Statement {
				if s.Effect != "Allow" {
					t.Fatalf("unexpected effect %q", s.Effect)
				}
				for _, r := range s.Resource {
					if r == "*" {
						t.Fatalf("statement %s grants on *", s.Sid)
					}
				}
				switch {
				case slices.Equal(s.Action, []string{"lambda:InvokeFunction"}):
					sawInvoke = true
					got := slices.Clone(s.Resource)
					sort.Strings(got)
					if !slices.Equal(got, want) {
						t.Fatalf("invoke resources = %v, want %v", got, want)
					}
				case slices.Equal(s.Action, []string{"logs:CreateLogStream", "logs:PutLogEvents"}):
					sawLogs = true
					if !slices.Equal(s.Resource, []string{"arn:aws:logs:eu-west-1:" + account + ":log-group:/fb/adhoc/dev:*"}) {
						t.Fatalf("log resources = %v", s.Resource)
					}
				default:
					t.Fatalf("unexpected statement %+v", s)
				}
			}
			if !sawInvoke || !sawLogs {
				t.Fatalf("policy lacks invoke (%v) or logs (%v): %+v", sawInvoke, sawLogs, doc)
			}
			role := m.OfType(typeRole)[0]
			if !strings.Contains(stacktest.Str(t, role, "assumeRolePolicy"), `"lambda.amazonaws.com"`) {
				t.Fatal("role is not assumable by Lambda only")
			}
		})
	}
}

func TestInvalidConfigRejected(t *testing.T) {
	cfg := stackcfg.DefaultAWS()
	cfg.MemoryMB = 64
	cfg.Architecture = "sparc"
	m := mocks()
	_, err := stacktest.Run(t, m, func(ctx *pulumi.Context) (map[string]pulumi.Output, error) {
		return Deploy(ctx, cfg)
	})
	if err == nil || !strings.Contains(err.Error(), "fb:memory") || !strings.Contains(err.Error(), "fb:architecture") {
		t.Fatalf("err = %v, want both invalid keys named", err)
	}
	if n := len(m.Resources()); n != 0 {
		t.Fatalf("%d resources registered despite invalid config", n)
	}
}

func TestProgramExports(t *testing.T) {
	// Program must run the same resources as Deploy (the outputs are
	// exported on the stack, which the mock monitor does not record).
	m := mocks()
	if err := pulumi.RunErr(Program(stackcfg.DefaultAWS()), pulumi.WithMocks("fb", "test", m)); err != nil {
		t.Fatal(err)
	}
	if n := len(m.OfType(typeFunction)); n != 4 {
		t.Fatalf("%d functions", n)
	}
}

func mapsEqual(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// TestLanes: fb:lanes deploys copies of function1 as idle-timeout's
// further lanes — each its own Lambda function under its own name, running
// function1's package and environment, exported in the function-name map
// and allowed by the role's policy like the lab functions.
func TestLanes(t *testing.T) {
	cfg := stackcfg.DefaultAWS()
	cfg.Experiment, cfg.Run, cfg.Lanes = "idle", "r2", 6
	m, outs := run(t, cfg)
	if got := m.Counts()[typeFunction]; got != 4+3 {
		t.Fatalf("%d functions, want the 4 lab functions and 3 lanes", got)
	}
	names := stacktest.StringMap(t, outs[stackcfg.OutFunctionNames].V)
	for _, lane := range []string{"lane4", "lane5", "lane6"} {
		fn := m.Named(t, typeFunction, lane)
		if got := stacktest.Str(t, fn, "name"); got != "fb-idle-r2-"+lane || names[lane] != got {
			t.Errorf("%s name = %q, output %q", lane, got, names[lane])
		}
		if code := fn.Inputs["code"]; !code.IsArchive() || code.ArchiveValue().Path != "build/functions/arm64/lambda-function.zip" {
			t.Errorf("%s code = %v, want function1's package", lane, code)
		}
		env := stacktest.Plain(fn)["environment"].(map[string]any)["variables"].(map[string]any)
		if env["FB_FUNCTION_NAME"] != "function1" {
			t.Errorf("%s serves as %v, want function1", lane, env["FB_FUNCTION_NAME"])
		}
	}
	if _, ok := names["lane7"]; ok || len(names) != 7 {
		t.Errorf("function names = %v", names)
	}
	var doc PolicyDocument
	if err := json.Unmarshal([]byte(stacktest.Str(t, m.OfType(typePolicy)[0], "policy")), &doc); err != nil {
		t.Fatal(err)
	}
	arns := stacktest.StringMap(t, outs[stackcfg.OutFunctionARNs].V)
	invoke := 0
	for _, st := range doc.Statement {
		if st.Sid == "InvokeOwnFunctions" {
			invoke++
			if !slices.Contains(st.Resource, arns["lane6"]) || len(st.Resource) != 2*7 {
				t.Errorf("invoke policy %v does not cover exactly the 7 functions", st.Resource)
			}
		}
	}
	if invoke != 1 {
		t.Errorf("%d invoke statements in %+v", invoke, doc)
	}
	if got := cfg.IdleLanes(); !slices.Equal(got, []string{"function1", "function2", "function3", "lane4", "lane5", "lane6"}) {
		t.Errorf("IdleLanes = %v", got)
	}
}
