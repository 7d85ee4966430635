package azure

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/faas-benchmarker/faas-benchmarker/stacks/internal/stacktest"
	"github.com/faas-benchmarker/faas-benchmarker/stacks/stackcfg"
)

const (
	typeRG        = "azure-native:resources:ResourceGroup"
	typeAccount   = "azure-native:storage:StorageAccount"
	typeContainer = "azure-native:storage:BlobContainer"
	typeBlob      = "azure-native:storage:Blob"
	typePlan      = "azure-native:web:AppServicePlan"
	typeApp       = "azure-native:web:WebApp"
	typeSettings  = "azure-native:web:WebAppApplicationSettings"
)

func mocks() *stacktest.Mocks {
	return &stacktest.Mocks{
		State: func(r stacktest.Resource) resource.PropertyMap {
			switch r.Type {
			case typeRG, typeAccount, typePlan:
				return resource.PropertyMap{"name": resource.NewProperty(strings.ReplaceAll(r.Name, "-", "") + "x1")}
			case typeContainer, typeBlob:
				return resource.PropertyMap{"name": resource.NewProperty(r.Name)}
			case typeApp:
				name := r.Inputs["name"].StringValue()
				return resource.PropertyMap{
					"name":            resource.NewProperty(name),
					"defaultHostName": resource.NewProperty(name + ".azurewebsites.net"),
				}
			}
			return nil
		},
		Result: func(c stacktest.Call) (resource.PropertyMap, error) {
			switch c.Token {
			case "azure-native:storage:listStorageAccountKeys":
				return resource.PropertyMap{"keys": resource.NewProperty([]resource.PropertyValue{
					resource.NewProperty(resource.PropertyMap{"keyName": resource.NewProperty("key1"), "value": resource.NewProperty("STORAGEKEY")}),
				})}, nil
			case "azure-native:storage:listStorageAccountServiceSAS":
				return resource.PropertyMap{"serviceSasToken": resource.NewProperty("sv=2024&sp=r&sig=SIG")}, nil
			case "azure-native:web:listWebAppHostKeys":
				app := c.Args["name"].StringValue()
				return resource.PropertyMap{
					"functionKeys": resource.NewProperty(resource.PropertyMap{"default": resource.NewProperty("key-" + app)}),
					"masterKey":    resource.NewProperty("master-" + app),
				}, nil
			}
			return nil, nil
		},
	}
}

func run(t *testing.T, cfg stackcfg.Azure) (*stacktest.Mocks, map[string]stacktest.Value) {
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

// appSettings returns the app settings of a WebApp (siteConfig.appSettings)
// as a map. A value is returned as a secret when it, or any object or array
// enclosing it, was marked secret (the SDK may mark an enclosing value
// secret; either way the plaintext never reaches the state).
func appSettings(t *testing.T, r stacktest.Resource) map[string]resource.PropertyValue {
	t.Helper()
	sc := r.Inputs["siteConfig"]
	as := unsecret(sc).ObjectValue()["appSettings"]
	out := map[string]resource.PropertyValue{}
	for _, nv := range unsecret(as).ArrayValue() {
		o := unsecret(nv).ObjectValue()
		v := o["value"]
		if !v.IsSecret() && (sc.IsSecret() || as.IsSecret() || nv.IsSecret()) {
			v = resource.MakeSecret(v)
		}
		out[o["name"].StringValue()] = v
	}
	return out
}

func unsecret(v resource.PropertyValue) resource.PropertyValue {
	if v.IsSecret() {
		return v.SecretValue().Element
	}
	return v
}

func TestResources(t *testing.T) {
	cfg := stackcfg.DefaultAzure()
	cfg.Experiment, cfg.Run = "nested", "r2"
	m, outs := run(t, cfg)

	want := map[string]int{typeRG: 1, typeAccount: 1, typeContainer: 1, typeBlob: 2, typePlan: 1, typeApp: 4, typeSettings: 4}
	got := m.Counts()
	for typ, n := range want {
		if got[typ] != n {
			t.Errorf("%s: %d, want %d", typ, got[typ], n)
		}
	}
	if len(got) != len(want) {
		t.Errorf("unexpected resource types: %v", got)
	}

	plan := stacktest.Plain(m.OfType(typePlan)[0])
	sku := plan["sku"].(map[string]any)
	if sku["name"] != "Y1" || sku["tier"] != "Dynamic" || plan["reserved"] != true || plan["kind"] != "Linux" {
		t.Errorf("plan = %v", plan)
	}
	for _, name := range []string{"azure-functions.zip", "azure-monolith.zip"} {
		blob := m.Named(t, typeBlob, name)
		if src := blob.Inputs["source"]; !src.IsAsset() || src.AssetValue().Path != "build/functions/amd64/"+name {
			t.Errorf("package source = %v", src)
		}
	}
	acct := stacktest.Plain(m.OfType(typeAccount)[0])
	if acct["allowBlobPublicAccess"] != false {
		t.Errorf("storage account allows public blobs: %v", acct)
	}

	for _, lab := range stackcfg.LabFunctions() {
		app := m.Named(t, typeApp, "fb-nested-r2-"+lab)
		in := stacktest.Plain(app)
		if in["kind"] != "functionapp,linux" || in["httpsOnly"] != true {
			t.Errorf("%s kind/httpsOnly = %v/%v", lab, in["kind"], in["httpsOnly"])
		}
		tags := in["tags"].(map[string]any)
		if tags["fb-experiment"] != "nested" || tags["fb-run"] != "r2" || tags["fb-managed-by"] != "faas-benchmarker" {
			t.Errorf("%s tags = %v", lab, tags)
		}
		s := appSettings(t, app)
		if unsecret(s["FUNCTIONS_WORKER_RUNTIME"]).StringValue() != "custom" || unsecret(s["FUNCTIONS_EXTENSION_VERSION"]).StringValue() != "~4" {
			t.Errorf("%s runtime settings = %v", lab, s)
		}
		if unsecret(s["FB_FUNCTION_NAME"]).StringValue() != lab || unsecret(s["FB_PLATFORM"]).StringValue() != "azure-functions" {
			t.Errorf("%s FB_ settings = %v", lab, s)
		}
		if stacktest.Str(t, app, "name") != "fb-nested-r2-"+lab {
			t.Errorf("%s app name = %q", lab, stacktest.Str(t, app, "name"))
		}
		zip := "azure-functions.zip"
		if lab == stackcfg.Monolith {
			zip = "azure-monolith.zip"
		}
		pkg := s["WEBSITE_RUN_FROM_PACKAGE"]
		if !pkg.IsSecret() || !strings.HasSuffix(unsecret(pkg).StringValue(), "/packages/"+zip+"?sv=2024&sp=r&sig=SIG") {
			t.Errorf("%s package url = %v (must be a secret SAS URL)", lab, pkg)
		}
		if conn := s["AzureWebJobsStorage"]; !conn.IsSecret() || !strings.Contains(unsecret(conn).StringValue(), "AccountKey=STORAGEKEY") {
			t.Errorf("%s storage connection = %v (must be secret)", lab, conn)
		}
	}

	// Each app's full settings carry the sibling URL template and every
	// sibling's (secret) key; the template yields the real app URLs.
	urls := outs[stackcfg.OutFunctionURLs]
	urlMap := stacktest.StringMap(t, urls.V)
	for _, s := range m.OfType(typeSettings) {
		props := unsecret(s.Inputs["properties"]).ObjectValue()
		tmpl := unsecret(props["FB_NESTED_URL_TEMPLATE"]).StringValue()
		if tmpl != "https://fb-nested-r2-{name}.azurewebsites.net/api/{name}" {
			t.Errorf("%s: template = %q", s.Name, tmpl)
		}
		for _, callee := range stackcfg.LabFunctions() {
			if got := strings.ReplaceAll(tmpl, "{name}", callee); got != urlMap[callee] {
				t.Errorf("%s: template gives %q for %s, the app is at %q", s.Name, got, callee, urlMap[callee])
			}
			app := "fb-nested-r2-" + callee
			key := props[resource.PropertyKey(stackcfg.NestedKeyEnv(callee))]
			if !key.IsSecret() && !s.Inputs["properties"].IsSecret() {
				t.Errorf("%s: %s is not secret", s.Name, stackcfg.NestedKeyEnv(callee))
			}
			if unsecret(key).StringValue() != "key-"+app {
				t.Errorf("%s: %s = %v", s.Name, stackcfg.NestedKeyEnv(callee), key)
			}
		}
		if unsecret(props["FUNCTIONS_WORKER_RUNTIME"]).StringValue() != "custom" {
			t.Errorf("%s lost the base settings", s.Name)
		}
	}

	keys := outs[stackcfg.OutFunctionKeys]
	if !keys.Secret {
		t.Error("functionKeys output is not secret")
	}
	if k := stacktest.StringMap(t, keys.V); len(k) != 4 || k["function3"] != "key-fb-nested-r2-function3" {
		t.Errorf("functionKeys = %v", k)
	}
	if urls.Secret {
		t.Error("functionUrls should not be secret")
	}
	if urlMap["monolith"] != "https://fb-nested-r2-monolith.azurewebsites.net/api/monolith" {
		t.Errorf("functionUrls = %v", urlMap)
	}
	if names := stacktest.StringMap(t, outs[stackcfg.OutFunctionNames].V); len(names) != 4 {
		t.Errorf("functionNames = %v", names)
	}
	if outs[stackcfg.OutRegion].V != "westeurope" || outs[stackcfg.OutResourceGroup].V == "" {
		t.Errorf("region/rg outputs = %v/%v", outs[stackcfg.OutRegion].V, outs[stackcfg.OutResourceGroup].V)
	}
	if n := len(m.Calls("azure-native:web:listWebAppHostKeys")); n != 4 {
		t.Errorf("%d host-key lookups, want one per app", n)
	}
}

func TestOverrides(t *testing.T) {
	cfg := stackcfg.DefaultAzure()
	if err := stackcfg.ApplyOverrides(&cfg, []string{"location=northeurope", "functions=function1,function2", "functionsZip=/tmp/x.zip", "env=GODEBUG=madvdontneed=1"}); err != nil {
		t.Fatal(err)
	}
	m, _ := run(t, cfg)
	if n := len(m.OfType(typeApp)); n != 2 {
		t.Fatalf("%d apps, want 2", n)
	}
	if loc := stacktest.Str(t, m.OfType(typeRG)[0], "location"); loc != "northeurope" {
		t.Errorf("location = %q", loc)
	}
	if blobs := m.OfType(typeBlob); len(blobs) != 1 || blobs[0].Inputs["source"].AssetValue().Path != "/tmp/x.zip" {
		t.Errorf("packages = %v (want only /tmp/x.zip)", blobs)
	}
	s := appSettings(t, m.Named(t, typeApp, "fb-adhoc-dev-function1"))
	if unsecret(s["GODEBUG"]).StringValue() != "madvdontneed=1" || unsecret(s["FB_ALLOWED_FUNCTIONS"]).StringValue() != "function1,function2" {
		t.Errorf("settings = %v", s)
	}
	props := unsecret(m.OfType(typeSettings)[0].Inputs["properties"]).ObjectValue()
	if _, ok := props["FB_NESTED_KEY_MONOLITH"]; ok {
		t.Error("settings name an undeployed function")
	}
}

func TestInvalidConfigRejected(t *testing.T) {
	cfg := stackcfg.DefaultAzure()
	cfg.Functions = []string{"function1", "lambda"}
	m := mocks()
	_, err := stacktest.Run(t, m, func(ctx *pulumi.Context) (map[string]pulumi.Output, error) {
		return Deploy(ctx, cfg)
	})
	if err == nil || !strings.Contains(err.Error(), `unknown lab function "lambda"`) {
		t.Fatalf("err = %v", err)
	}
	if n := len(m.Resources()); n != 0 {
		t.Fatalf("%d resources registered", n)
	}
}

func TestProgram(t *testing.T) {
	m := mocks()
	if err := pulumi.RunErr(Program(stackcfg.DefaultAzure()), pulumi.WithMocks("fb", "test", m)); err != nil {
		t.Fatal(err)
	}
	if n := len(m.OfType(typeApp)); n != 4 {
		t.Fatalf("%d apps", n)
	}
}

// TestHostKeyPolling: right after an app is created, listing its host keys
// can fail with ServiceUnavailable from the host runtime or return no
// default key (Azure Functions host issues; an empty key makes every call
// 401). The mock answers like that for the first calls: the stack keeps
// asking (bounded) and exports the real key; a host that never serves one
// fails the deployment with a clear message instead of exporting "".
func TestHostKeyPolling(t *testing.T) {
	for _, tc := range []struct {
		name    string
		failing int // calls per app that fail before the key is served
		wantErr string
	}{
		{"settles", 3, ""},
		{"never", 1 << 30, "no default host key after 4 attempts"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := mocks()
			inner := m.Result
			var mu sync.Mutex
			calls := map[string]int{}
			m.Result = func(c stacktest.Call) (resource.PropertyMap, error) {
				if c.Token != "azure-native:web:listWebAppHostKeys" {
					return inner(c)
				}
				app := c.Args["name"].StringValue()
				mu.Lock()
				calls[app]++
				n := calls[app]
				mu.Unlock()
				switch {
				case n > tc.failing:
					return inner(c)
				case n%2 == 1:
					return nil, errors.New("Encountered an error (ServiceUnavailable) from host runtime.")
				default:
					return resource.PropertyMap{"functionKeys": resource.NewProperty(resource.PropertyMap{})}, nil
				}
			}
			cfg := stackcfg.DefaultAzure()
			cfg.Experiment, cfg.Run = "keys", "r1"
			outs, err := stacktest.Run(t, m, func(ctx *pulumi.Context) (map[string]pulumi.Output, error) {
				return deploy(ctx, cfg, keyPoll{attempts: 4, interval: time.Millisecond})
			})
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !strings.Contains(err.Error(), "401") {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			keys := stacktest.StringMap(t, outs[stackcfg.OutFunctionKeys].V)
			for lab, k := range keys {
				if k != "key-"+cfg.FunctionName(lab) {
					t.Errorf("%s key = %q", lab, k)
				}
			}
			for app, n := range calls {
				if n != tc.failing+1 {
					t.Errorf("%s: %d key listings, want %d", app, n, tc.failing+1)
				}
			}
		})
	}
}
