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
	as := stacktest.Unsecret(sc).ObjectValue()["appSettings"]
	out := map[string]resource.PropertyValue{}
	for _, nv := range stacktest.Unsecret(as).ArrayValue() {
		o := stacktest.Unsecret(nv).ObjectValue()
		v := o["value"]
		if !v.IsSecret() && (sc.IsSecret() || as.IsSecret() || nv.IsSecret()) {
			v = resource.MakeSecret(v)
		}
		out[o["name"].StringValue()] = v
	}
	return out
}

func TestResources(t *testing.T) {
	cfg := stackcfg.DefaultAzure()
	cfg.Experiment, cfg.Run, cfg.Plan = "nested", "r2", stackcfg.AzurePlanConsumption
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
		if stacktest.Unsecret(s["FUNCTIONS_WORKER_RUNTIME"]).StringValue() != "custom" || stacktest.Unsecret(s["FUNCTIONS_EXTENSION_VERSION"]).StringValue() != "~4" {
			t.Errorf("%s runtime settings = %v", lab, s)
		}
		if stacktest.Unsecret(s["FB_FUNCTION_NAME"]).StringValue() != lab || stacktest.Unsecret(s["FB_PLATFORM"]).StringValue() != "azure-functions" {
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
		if !pkg.IsSecret() || !strings.HasSuffix(stacktest.Unsecret(pkg).StringValue(), "/packages/"+zip+"?sv=2024&sp=r&sig=SIG") {
			t.Errorf("%s package url = %v (must be a secret SAS URL)", lab, pkg)
		}
		if conn := s["AzureWebJobsStorage"]; !conn.IsSecret() || !strings.Contains(stacktest.Unsecret(conn).StringValue(), "AccountKey=STORAGEKEY") {
			t.Errorf("%s storage connection = %v (must be secret)", lab, conn)
		}
	}

	// Each app's full settings carry the sibling URL template and every
	// sibling's (secret) key; the template yields the real app URLs.
	urls := outs[stackcfg.OutFunctionURLs]
	urlMap := stacktest.StringMap(t, urls.V)
	for _, s := range m.OfType(typeSettings) {
		props := stacktest.Unsecret(s.Inputs["properties"]).ObjectValue()
		tmpl := stacktest.Unsecret(props["FB_NESTED_URL_TEMPLATE"]).StringValue()
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
			if stacktest.Unsecret(key).StringValue() != "key-"+app {
				t.Errorf("%s: %s = %v", s.Name, stackcfg.NestedKeyEnv(callee), key)
			}
		}
		if stacktest.Unsecret(props["FUNCTIONS_WORKER_RUNTIME"]).StringValue() != "custom" {
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
	if outs[stackcfg.OutPlan].V != "consumption" {
		t.Errorf("plan output = %v", outs[stackcfg.OutPlan].V)
	}
	if _, ok := outs[stackcfg.OutInstanceMemoryMB]; ok {
		t.Error("a consumption stack exports an instance memory")
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
	if err := stackcfg.ApplyOverrides(&cfg, []string{"plan=consumption", "location=northeurope", "functions=function1,function2", "functionsZip=/tmp/x.zip", "env=GODEBUG=madvdontneed=1"}); err != nil {
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
	if stacktest.Unsecret(s["GODEBUG"]).StringValue() != "madvdontneed=1" || stacktest.Unsecret(s["FB_ALLOWED_FUNCTIONS"]).StringValue() != "function1,function2" {
		t.Errorf("settings = %v", s)
	}
	props := stacktest.Unsecret(m.OfType(typeSettings)[0].Inputs["properties"]).ObjectValue()
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

// TestFlexResources checks the Flex Consumption (FC1) stack against the
// azure-native web v3.8.0 types and Microsoft Learn's Flex Consumption
// pages: one plan per app (a Flex plan holds one app), each app's package
// as released-package.zip in its own deployment container read with the
// connection string named in functionAppConfig, the custom handler
// runtime, the instance memory and maximum instance count, no always-ready
// instances, and none of the app settings Flex rejects.
func TestFlexResources(t *testing.T) {
	cfg := stackcfg.DefaultAzure()
	cfg.Experiment, cfg.Run = "nested", "r2"
	m, outs := run(t, cfg)

	want := map[string]int{typeRG: 1, typeAccount: 1, typeContainer: 4, typeBlob: 4, typePlan: 4, typeApp: 4, typeSettings: 4}
	got := m.Counts()
	for typ, n := range want {
		if got[typ] != n {
			t.Errorf("%s: %d, want %d", typ, got[typ], n)
		}
	}
	if len(got) != len(want) {
		t.Errorf("unexpected resource types: %v", got)
	}
	for _, lab := range stackcfg.LabFunctions() {
		plan := stacktest.Plain(m.Named(t, typePlan, "plan-"+lab))
		sku := plan["sku"].(map[string]any)
		if sku["name"] != "FC1" || sku["tier"] != "FlexConsumption" || plan["reserved"] != true || plan["kind"] != "functionapp" {
			t.Errorf("%s plan = %v", lab, plan)
		}
		container := stacktest.Plain(m.Named(t, typeContainer, "deploy-"+lab))
		if container["containerName"] != "deploy-"+lab || container["publicAccess"] != "None" {
			t.Errorf("%s container = %v", lab, container)
		}
		blob := m.Named(t, typeBlob, lab+"-package")
		zip := "azure-functions.zip"
		if lab == stackcfg.Monolith {
			zip = "azure-monolith.zip"
		}
		if stacktest.Str(t, blob, "blobName") != "released-package.zip" || stacktest.Str(t, blob, "containerName") != "deploy-"+lab ||
			blob.Inputs["source"].AssetValue().Path != "build/functions/amd64/"+zip {
			t.Errorf("%s package blob = %v", lab, blob.Inputs)
		}

		app := m.Named(t, typeApp, "fb-nested-r2-"+lab)
		in := stacktest.Plain(app)
		if in["kind"] != "functionapp,linux" || in["httpsOnly"] != true || in["reserved"] != true {
			t.Errorf("%s app = %v", lab, in)
		}
		fac := in["functionAppConfig"].(map[string]any)
		dep := fac["deployment"].(map[string]any)["storage"].(map[string]any)
		auth := dep["authentication"].(map[string]any)
		if dep["type"] != "blobContainer" || dep["value"] != "https://fbsax1.blob.core.windows.net/deploy-"+lab ||
			auth["type"] != "StorageAccountConnectionString" || auth["storageAccountConnectionStringName"] != "DEPLOYMENT_STORAGE_CONNECTION_STRING" {
			t.Errorf("%s deployment = %v", lab, dep)
		}
		if rt := fac["runtime"].(map[string]any); rt["name"] != "custom" || rt["version"] != "1.0" {
			t.Errorf("%s runtime = %v", lab, rt)
		}
		scale := fac["scaleAndConcurrency"].(map[string]any)
		if scale["instanceMemoryMB"] != 2048.0 || scale["maximumInstanceCount"] != 100.0 {
			t.Errorf("%s scale = %v", lab, scale)
		}
		if ar, ok := scale["alwaysReady"].([]any); ok && len(ar) > 0 {
			t.Errorf("%s has always-ready instances: %v", lab, ar)
		}
		if _, ok := scale["triggers"]; ok {
			t.Errorf("%s sets an HTTP concurrency nobody asked for: %v", lab, scale["triggers"])
		}
		if !dependsOn(app, lab+"-package") {
			t.Errorf("%s does not wait for its package blob: %v", lab, app.DependsOn)
		}
		s := appSettings(t, app)
		for _, k := range []string{"FUNCTIONS_WORKER_RUNTIME", "FUNCTIONS_EXTENSION_VERSION", "WEBSITE_RUN_FROM_PACKAGE"} {
			if _, ok := s[k]; ok {
				t.Errorf("%s sets %s, which Flex Consumption rejects", lab, k)
			}
		}
		if conn := s["DEPLOYMENT_STORAGE_CONNECTION_STRING"]; !conn.IsSecret() || !strings.Contains(stacktest.Unsecret(conn).StringValue(), "AccountKey=STORAGEKEY") {
			t.Errorf("%s deployment connection = %v (must be secret)", lab, conn)
		}
		if stacktest.Unsecret(s["FB_FUNCTION_NAME"]).StringValue() != lab {
			t.Errorf("%s settings = %v", lab, s)
		}
	}
	for _, st := range m.OfType(typeSettings) {
		props := stacktest.Unsecret(st.Inputs["properties"]).ObjectValue()
		if _, ok := props["DEPLOYMENT_STORAGE_CONNECTION_STRING"]; !ok {
			t.Errorf("%s: the full settings drop the deployment connection the app reads its package with", st.Name)
		}
		if _, ok := props["FUNCTIONS_WORKER_RUNTIME"]; ok {
			t.Errorf("%s: the full settings set FUNCTIONS_WORKER_RUNTIME on Flex", st.Name)
		}
	}
	if outs[stackcfg.OutPlan].V != "flex" || outs[stackcfg.OutInstanceMemoryMB].V != "2048" || outs[stackcfg.OutMaxInstances].V != "100" {
		t.Errorf("plan outputs = %v %v %v", outs[stackcfg.OutPlan].V, outs[stackcfg.OutInstanceMemoryMB].V, outs[stackcfg.OutMaxInstances].V)
	}
}

func dependsOn(r stacktest.Resource, name string) bool {
	for _, urn := range r.DependsOn {
		if strings.HasSuffix(urn, "::"+name) {
			return true
		}
	}
	return false
}

// TestFlexScaleSettings: fb:memory, fb:maxInstances and fb:httpConcurrency
// reach functionAppConfig.scaleAndConcurrency and the outputs.
func TestFlexScaleSettings(t *testing.T) {
	cfg := stackcfg.DefaultAzure()
	if err := stackcfg.ApplyOverrides(&cfg, []string{"plan=flex", "memory=512", "maxInstances=40", "httpConcurrency=1", "functions=function1"}); err != nil {
		t.Fatal(err)
	}
	m, outs := run(t, cfg)
	scale := stacktest.Plain(m.OfType(typeApp)[0])["functionAppConfig"].(map[string]any)["scaleAndConcurrency"].(map[string]any)
	http := scale["triggers"].(map[string]any)["http"].(map[string]any)
	if scale["instanceMemoryMB"] != 512.0 || scale["maximumInstanceCount"] != 40.0 || http["perInstanceConcurrency"] != 1.0 {
		t.Errorf("scale = %v", scale)
	}
	if outs[stackcfg.OutInstanceMemoryMB].V != "512" || outs[stackcfg.OutMaxInstances].V != "40" {
		t.Errorf("outputs = %v %v", outs[stackcfg.OutInstanceMemoryMB].V, outs[stackcfg.OutMaxInstances].V)
	}
}

// TestHostIDsUnique: apps that share a storage account must not share a
// Functions host ID — since runtime v4 the host shuts down on a collision
// (azure-functions-host wiki, "Host IDs"; Microsoft Learn, "Storage
// considerations for Azure Functions"). The effective host ID is derived
// as the host derives it: the AzureFunctionsWebHost__hostId setting (key
// case-insensitive), else the app name lower-cased, cut to 32 characters,
// trailing dashes trimmed. The storage account an app uses is the
// AccountName of its AzureWebJobsStorage connection string. The
// experiment and run ids are what the runner passes (the run id cut to
// its last 16 characters), with which the first 32 characters of the app
// names agree.
func TestHostIDsUnique(t *testing.T) {
	for _, plan := range stackcfg.AzurePlans() {
		for _, exp := range []string{"cold-start", "idle-timeout", "nested", "x"} {
			t.Run(plan+"/"+exp, func(t *testing.T) {
				cfg := stackcfg.DefaultAzure()
				cfg.Experiment, cfg.Run, cfg.Plan = exp, "26-054300-3fa9c1", plan
				m, _ := run(t, cfg)
				// The app's own settings and the settings resource that
				// replaces them must agree on the host ID.
				settingsOf := map[string]map[string]resource.PropertyValue{}
				for _, st := range m.OfType(typeSettings) {
					props := stacktest.Unsecret(st.Inputs["properties"]).ObjectValue()
					out := map[string]resource.PropertyValue{}
					for k, v := range props {
						out[string(k)] = v
					}
					settingsOf[strings.TrimSuffix(st.Name, "-settings")] = out
				}
				seen := map[string]string{} // account + host id → app
				apps := m.OfType(typeApp)
				if len(apps) != 4 {
					t.Fatalf("%d apps", len(apps))
				}
				for _, app := range apps {
					name := stacktest.Str(t, app, "name")
					for where, s := range map[string]map[string]resource.PropertyValue{"siteConfig": appSettings(t, app), "settings resource": settingsOf[name]} {
						id := effectiveHostID(name, s)
						if !stackcfg.ValidHostID(id) {
							t.Errorf("%s (%s): host ID %q breaks the host's rule", name, where, id)
						}
						acct := accountOf(t, s)
						key := acct + "/" + id
						if other, dup := seen[key]; dup && other != name {
							t.Errorf("%s and %s share storage account %s and host ID %q (%s): the v4 host shuts down", other, name, acct, id, where)
						}
						seen[key] = name
					}
				}
			})
		}
	}
}

// effectiveHostID is the host ID the Functions host uses for app name with
// app settings s.
func effectiveHostID(name string, s map[string]resource.PropertyValue) string {
	for k, v := range s {
		if strings.EqualFold(k, stackcfg.HostIDSetting) || strings.EqualFold(k, "AzureFunctionsWebHost:hostId") {
			return stacktest.Unsecret(v).StringValue()
		}
	}
	return stackcfg.DefaultHostID(name)
}

func accountOf(t *testing.T, s map[string]resource.PropertyValue) string {
	t.Helper()
	conn := stacktest.Unsecret(s["AzureWebJobsStorage"]).StringValue()
	for _, part := range strings.Split(conn, ";") {
		if v, ok := strings.CutPrefix(part, "AccountName="); ok {
			return v
		}
	}
	t.Fatalf("no AccountName in AzureWebJobsStorage %q", conn)
	return ""
}

// TestDefaultHostIDCollides documents why the explicit host IDs are needed:
// the names the runner gives the apps collide in the host's default ID.
func TestDefaultHostIDCollides(t *testing.T) {
	cfg := stackcfg.DefaultAzure()
	cfg.Experiment, cfg.Run = "cold-start", "26-054300-3fa9c1"
	ids := map[string]bool{}
	for _, lab := range stackcfg.LabFunctions() {
		ids[stackcfg.DefaultHostID(cfg.FunctionName(lab))] = true
	}
	if len(ids) == 4 {
		t.Fatalf("default host IDs %v are distinct: the test names no longer exercise the collision", ids)
	}
}
