// Package azure is the per-experiment Azure Functions stack: a resource
// group, a storage account (the hosts' AzureWebJobsStorage and the
// custom-handler packages) and one function app per lab function (a single
// app deadlocks on nested calls), on one of two hosting plans (fb:plan):
//
//   - flex (default): Flex Consumption (sku FC1), Azure's current Linux
//     serverless plan. A plan holds one app, so every app gets its own plan;
//     each app runs the package released-package.zip from its own blob
//     container (functionAppConfig.deployment.storage), with the custom
//     handler runtime, the instance memory, the maximum instance count and
//     no always-ready instances in functionAppConfig.
//   - consumption: Linux Consumption (sku Y1), retiring on 30 September
//     2028; one plan for all apps, each app running its package from a
//     read-only SAS URL (WEBSITE_RUN_FROM_PACKAGE).
//
// Every app gets the nested-call URL template and the function keys of its
// siblings as app settings, and its own Functions host ID (the apps share
// the storage account; see stackcfg.Azure.HostID). The function keys are
// secret outputs, read from each app once its host serves them (bounded
// polling: right after creation the host may answer ServiceUnavailable or
// no key).
//
// App names are fb-<experiment>-<run>-<lab> exactly (no random suffix), as
// the lab functions build sibling URLs from FB_NESTED_URL_TEMPLATE; they
// are global in azurewebsites.net, so pick a distinctive run id.
package azure

import (
	"fmt"
	"path/filepath"
	"sort"
	"strconv"
	"time"

	"github.com/pulumi/pulumi-azure-native-sdk/resources/v3"
	"github.com/pulumi/pulumi-azure-native-sdk/storage/v3"
	"github.com/pulumi/pulumi-azure-native-sdk/web/v3"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/faas-benchmarker/faas-benchmarker/stacks/internal/exporting"
	"github.com/faas-benchmarker/faas-benchmarker/stacks/stackcfg"
)

// The package SAS is valid over a fixed window so that previews are
// stable; the storage account (and with it the SAS) is deleted with the
// stack.
const (
	sasStart  = "2025-01-01T00:00:00Z"
	sasExpiry = "2035-01-01T00:00:00Z"
)

// Program returns the Pulumi program of the stack for cfg.
func Program(cfg stackcfg.Azure) pulumi.RunFunc {
	return exporting.Program(cfg, Deploy)
}

// keyPoll bounds the wait for an app's default host key.
type keyPoll struct {
	attempts int
	interval time.Duration
}

// defaultKeyPoll waits up to about 5 minutes: right after an app is
// created, listing its host keys can fail ("ServiceUnavailable" from the
// host runtime, which has not started yet) or return no default key, and
// every call with an empty key would be a 401.
var defaultKeyPoll = keyPoll{attempts: 30, interval: 10 * time.Second}

// Deploy validates cfg, declares the stack's resources and returns its
// outputs keyed by the stackcfg.Out* constants.
func Deploy(ctx *pulumi.Context, cfg stackcfg.Azure) (map[string]pulumi.Output, error) {
	return deploy(ctx, cfg, defaultKeyPoll)
}

func deploy(ctx *pulumi.Context, cfg stackcfg.Azure, poll keyPoll) (map[string]pulumi.Output, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	tags := pulumi.ToStringMap(cfg.ResourceTags())
	location := pulumi.String(cfg.Location)

	rg, err := resources.NewResourceGroup(ctx, "fb-"+cfg.Experiment+"-"+cfg.Run, &resources.ResourceGroupArgs{
		Location: location,
		Tags:     tags,
	})
	if err != nil {
		return nil, fmt.Errorf("azure stack: resource group: %w", err)
	}

	account, err := storage.NewStorageAccount(ctx, "fbsa", &storage.StorageAccountArgs{
		ResourceGroupName:      rg.Name,
		Location:               location,
		Kind:                   pulumi.String(string(storage.KindStorageV2)),
		Sku:                    &storage.SkuArgs{Name: pulumi.String(string(storage.SkuName_Standard_LRS))},
		AllowBlobPublicAccess:  pulumi.Bool(false),
		MinimumTlsVersion:      pulumi.String(string(storage.MinimumTlsVersion_TLS1_2)),
		EnableHttpsTrafficOnly: pulumi.Bool(true),
		Tags:                   tags,
	})
	if err != nil {
		return nil, fmt.Errorf("azure stack: storage account: %w", err)
	}
	st := stackRes{cfg: cfg, rg: rg, account: account, location: location, tags: tags}
	st.storageConn = pulumi.ToSecret(connectionString(ctx, rg.Name, account.Name)).(pulumi.StringOutput)

	var apps map[string]*web.WebApp
	if cfg.Plan == stackcfg.AzurePlanFlex {
		apps, err = flexApps(ctx, &st)
	} else {
		apps, err = consumptionApps(ctx, &st)
	}
	if err != nil {
		return nil, err
	}

	names := pulumi.StringMap{}
	urls := pulumi.StringMap{}
	keys := pulumi.StringMap{}
	for _, lab := range cfg.Functions {
		app := apps[lab]
		names[lab] = app.Name
		urls[lab] = pulumi.Sprintf("https://%s/api/%s", app.DefaultHostName, lab)
		key := pulumi.All(app.Name, rg.Name).ApplyT(func(xs []any) (string, error) {
			return defaultHostKey(ctx, xs[0].(string), xs[1].(string), poll)
		}).(pulumi.StringOutput)
		keys[lab] = pulumi.ToSecret(key).(pulumi.StringOutput)
	}

	// The full settings, including the siblings' keys, once every app (and
	// so every key) exists; they repeat the base settings, as the resource
	// replaces the app's whole set.
	for _, lab := range cfg.Functions {
		settings := st.base[lab]
		full := make(pulumi.StringMap, len(settings)+len(cfg.Functions))
		for k, v := range settings {
			full[k] = v
		}
		for _, callee := range cfg.Functions {
			full[stackcfg.NestedKeyEnv(callee)] = keys[callee]
		}
		if _, err := web.NewWebAppApplicationSettings(ctx, cfg.FunctionName(lab)+"-settings", &web.WebAppApplicationSettingsArgs{
			Name:              apps[lab].Name,
			ResourceGroupName: rg.Name,
			Properties:        full,
		}); err != nil {
			return nil, fmt.Errorf("azure stack: app settings %s: %w", lab, err)
		}
	}

	outs := map[string]pulumi.Output{
		stackcfg.OutPlatform:      pulumi.String(string(stackcfg.PlatformAzure)).ToStringOutput(),
		stackcfg.OutExperiment:    pulumi.String(cfg.Experiment).ToStringOutput(),
		stackcfg.OutRun:           pulumi.String(cfg.Run).ToStringOutput(),
		stackcfg.OutRegion:        pulumi.String(cfg.Location).ToStringOutput(),
		stackcfg.OutPlan:          pulumi.String(cfg.Plan).ToStringOutput(),
		stackcfg.OutResourceGroup: rg.Name,
		stackcfg.OutFunctionNames: names.ToStringMapOutput(),
		stackcfg.OutFunctionURLs:  urls.ToStringMapOutput(),
		stackcfg.OutFunctionKeys:  pulumi.ToSecret(keys.ToStringMapOutput()),
	}
	if cfg.Plan == stackcfg.AzurePlanFlex {
		outs[stackcfg.OutInstanceMemoryMB] = pulumi.String(strconv.Itoa(cfg.Memory())).ToStringOutput()
		outs[stackcfg.OutMaxInstances] = pulumi.String(strconv.Itoa(cfg.InstanceLimit())).ToStringOutput()
	}
	return outs, nil
}

// stackRes are the resources and values both plans build their apps on.
type stackRes struct {
	cfg         stackcfg.Azure
	rg          *resources.ResourceGroup
	account     *storage.StorageAccount
	location    pulumi.StringInput
	tags        pulumi.StringMap
	storageConn pulumi.StringOutput
	// base are each app's settings without the siblings' keys, filled in
	// by the plan's builder.
	base map[string]pulumi.StringMap
}

// commonSettings are the app settings of lab function lab's app on either
// plan. The explicit host ID keeps the apps, which share one storage
// account, from colliding on the host ID the host would derive from
// their names (see stackcfg.Azure.HostID).
func (st *stackRes) commonSettings(lab string) pulumi.StringMap {
	cfg := st.cfg
	m := pulumi.StringMap{
		"AzureWebJobsStorage":         st.storageConn,
		stackcfg.HostIDSetting:        pulumi.String(cfg.HostID(lab)),
		stackcfg.EnvPlatform:          pulumi.String(stackcfg.LabPlatformAzureFunctions),
		stackcfg.EnvNestedURLTemplate: pulumi.String(nestedURLTemplate(cfg)),
	}
	for k, v := range cfg.FunctionEnv(lab) {
		m[k] = pulumi.String(v)
	}
	for k, v := range cfg.Env {
		m[k] = pulumi.String(v)
	}
	return m
}

// siteConfig is the site configuration of an app with settings.
func siteConfig(settings pulumi.StringMap) *web.SiteConfigArgs {
	return &web.SiteConfigArgs{
		AppSettings:   nameValues(settings),
		FtpsState:     pulumi.String(string(web.FtpsStateDisabled)),
		MinTlsVersion: pulumi.String("1.2"),
		Http20Enabled: pulumi.Bool(true),
	}
}

// consumptionApps declares the Linux Consumption (Y1) plan, the package
// blobs and one app per lab function, each running its package from a
// read-only SAS URL.
func consumptionApps(ctx *pulumi.Context, st *stackRes) (map[string]*web.WebApp, error) {
	cfg, rg, account := st.cfg, st.rg, st.account
	container, err := storage.NewBlobContainer(ctx, "packages", &storage.BlobContainerArgs{
		AccountName:       account.Name,
		ResourceGroupName: rg.Name,
		PublicAccess:      storage.PublicAccessNone,
	})
	if err != nil {
		return nil, fmt.Errorf("azure stack: blob container: %w", err)
	}
	// One blob per distinct package (function1..3 share one, monolith has
	// its own), read through one container-wide read-only SAS.
	sas := containerSAS(ctx, rg.Name, account.Name, container.Name)
	packageURLs := map[string]pulumi.StringOutput{}
	for _, lab := range cfg.Functions {
		path := cfg.Artifact(lab)
		if _, done := packageURLs[path]; done {
			continue
		}
		blobName := filepath.Base(path)
		blob, err := storage.NewBlob(ctx, blobName, &storage.BlobArgs{
			AccountName:       account.Name,
			ContainerName:     container.Name,
			ResourceGroupName: rg.Name,
			BlobName:          pulumi.String(blobName),
			Type:              storage.BlobTypeBlock,
			ContentType:       pulumi.String("application/zip"),
			Source:            pulumi.NewFileAsset(path),
		})
		if err != nil {
			return nil, fmt.Errorf("azure stack: package blob %s: %w", blobName, err)
		}
		packageURLs[path] = pulumi.ToSecret(pulumi.Sprintf("https://%s.blob.core.windows.net/%s/%s?%s",
			account.Name, container.Name, blob.Name, sas)).(pulumi.StringOutput)
	}

	plan, err := web.NewAppServicePlan(ctx, "plan", &web.AppServicePlanArgs{
		ResourceGroupName: rg.Name,
		Location:          st.location,
		Kind:              pulumi.String("Linux"),
		Reserved:          pulumi.Bool(true),
		Sku:               &web.SkuDescriptionArgs{Name: pulumi.String("Y1"), Tier: pulumi.String("Dynamic")},
		Tags:              st.tags,
	})
	if err != nil {
		return nil, fmt.Errorf("azure stack: plan: %w", err)
	}

	st.base = map[string]pulumi.StringMap{}
	apps := map[string]*web.WebApp{}
	for _, lab := range cfg.Functions {
		settings := st.commonSettings(lab)
		settings["FUNCTIONS_WORKER_RUNTIME"] = pulumi.String("custom")
		settings["FUNCTIONS_EXTENSION_VERSION"] = pulumi.String(cfg.ExtensionVersion)
		settings["WEBSITE_RUN_FROM_PACKAGE"] = packageURLs[cfg.Artifact(lab)]
		st.base[lab] = settings
		app, err := web.NewWebApp(ctx, cfg.FunctionName(lab), &web.WebAppArgs{
			Name:              pulumi.String(cfg.FunctionName(lab)),
			ResourceGroupName: rg.Name,
			Location:          st.location,
			ServerFarmId:      plan.ID(),
			Kind:              pulumi.String("functionapp,linux"),
			Reserved:          pulumi.Bool(true),
			HttpsOnly:         pulumi.Bool(true),
			SiteConfig:        siteConfig(settings),
			Tags:              st.tags,
		}, pulumi.IgnoreChanges([]string{"siteConfig.appSettings"}))
		if err != nil {
			return nil, fmt.Errorf("azure stack: function app %s: %w", lab, err)
		}
		apps[lab] = app
	}
	return apps, nil
}

// flexPackageBlob is the blob name the Flex Consumption deployment reads
// from the app's deployment container: OneDeploy writes the package there
// under this name, and the app retrieves it from the container at startup
// (Microsoft Learn, "Azure Functions Flex Consumption plan hosting",
// Deployment; "Automate resource deployment for your function app",
// Flex Consumption pivot, Deployment package).
const flexPackageBlob = "released-package.zip"

// flexRuntimeVersion is functionAppConfig.runtime.version of a custom
// handler on Flex Consumption.
const flexRuntimeVersion = "1.0"

// flexApps declares, per lab function, a Flex Consumption (FC1) plan (a
// Flex plan holds one app), a deployment container with the package as
// released-package.zip, and the app. Every property is desk-checked
// against the azure-native web v3.8.0 module (FunctionAppConfig,
// FunctionsDeployment(Storage|Authentication), FunctionsRuntime,
// FunctionsScaleAndConcurrency) and Microsoft Learn ("Azure Functions Flex
// Consumption plan hosting"; "Create and manage function apps in the Flex
// Consumption plan"; app settings reference, "Flex Consumption plan
// deprecations"). Flex rejects FUNCTIONS_WORKER_RUNTIME,
// FUNCTIONS_EXTENSION_VERSION and WEBSITE_RUN_FROM_PACKAGE: the runtime
// and the package are in functionAppConfig instead.
func flexApps(ctx *pulumi.Context, st *stackRes) (map[string]*web.WebApp, error) {
	cfg, rg, account := st.cfg, st.rg, st.account
	st.base = map[string]pulumi.StringMap{}
	apps := map[string]*web.WebApp{}
	for _, lab := range cfg.Functions {
		containerName := "deploy-" + lab
		container, err := storage.NewBlobContainer(ctx, containerName, &storage.BlobContainerArgs{
			AccountName:       account.Name,
			ContainerName:     pulumi.String(containerName),
			ResourceGroupName: rg.Name,
			PublicAccess:      storage.PublicAccessNone,
		})
		if err != nil {
			return nil, fmt.Errorf("azure stack: deployment container %s: %w", lab, err)
		}
		blob, err := storage.NewBlob(ctx, lab+"-package", &storage.BlobArgs{
			AccountName:       account.Name,
			ContainerName:     container.Name,
			ResourceGroupName: rg.Name,
			BlobName:          pulumi.String(flexPackageBlob),
			Type:              storage.BlobTypeBlock,
			ContentType:       pulumi.String("application/zip"),
			Source:            pulumi.NewFileAsset(cfg.Artifact(lab)),
		})
		if err != nil {
			return nil, fmt.Errorf("azure stack: package blob %s: %w", lab, err)
		}
		plan, err := web.NewAppServicePlan(ctx, "plan-"+lab, &web.AppServicePlanArgs{
			ResourceGroupName: rg.Name,
			Location:          st.location,
			Kind:              pulumi.String("functionapp"),
			Reserved:          pulumi.Bool(true),
			Sku:               &web.SkuDescriptionArgs{Name: pulumi.String("FC1"), Tier: pulumi.String("FlexConsumption")},
			Tags:              st.tags,
		})
		if err != nil {
			return nil, fmt.Errorf("azure stack: plan %s: %w", lab, err)
		}

		settings := st.commonSettings(lab)
		settings[stackcfg.FlexDeploymentConnSetting] = st.storageConn
		st.base[lab] = settings
		scale := &web.FunctionsScaleAndConcurrencyArgs{
			InstanceMemoryMB:     pulumi.Int(cfg.Memory()),
			MaximumInstanceCount: pulumi.Int(cfg.InstanceLimit()),
			// No always-ready instances: every instance is on demand, so
			// cold starts are measured as a scale-from-zero app has them.
			AlwaysReady: web.FunctionsAlwaysReadyConfigArray{},
		}
		if cfg.HTTPConcurrency > 0 {
			scale.Triggers = &web.FunctionsScaleAndConcurrencyTriggersArgs{
				Http: &web.FunctionsScaleAndConcurrencyHttpArgs{PerInstanceConcurrency: pulumi.Int(cfg.HTTPConcurrency)},
			}
		}
		app, err := web.NewWebApp(ctx, cfg.FunctionName(lab), &web.WebAppArgs{
			Name:              pulumi.String(cfg.FunctionName(lab)),
			ResourceGroupName: rg.Name,
			Location:          st.location,
			ServerFarmId:      plan.ID(),
			Kind:              pulumi.String("functionapp,linux"),
			Reserved:          pulumi.Bool(true),
			HttpsOnly:         pulumi.Bool(true),
			FunctionAppConfig: &web.FunctionAppConfigArgs{
				Deployment: &web.FunctionsDeploymentArgs{
					Storage: &web.FunctionsDeploymentStorageArgs{
						Type:  pulumi.String(string(web.FunctionsDeploymentStorageTypeBlobContainer)),
						Value: pulumi.Sprintf("https://%s.blob.core.windows.net/%s", account.Name, container.Name),
						Authentication: &web.FunctionsDeploymentAuthenticationArgs{
							Type:                               pulumi.String(string(web.AuthenticationTypeStorageAccountConnectionString)),
							StorageAccountConnectionStringName: pulumi.String(stackcfg.FlexDeploymentConnSetting),
						},
					},
				},
				Runtime: &web.FunctionsRuntimeArgs{
					Name:    pulumi.String(string(web.RuntimeNameCustom)),
					Version: pulumi.String(flexRuntimeVersion),
				},
				ScaleAndConcurrency: scale,
			},
			SiteConfig: siteConfig(settings),
			Tags:       st.tags,
		}, pulumi.IgnoreChanges([]string{"siteConfig.appSettings"}), pulumi.DependsOn([]pulumi.Resource{blob}))
		if err != nil {
			return nil, fmt.Errorf("azure stack: function app %s: %w", lab, err)
		}
		apps[lab] = app
	}
	return apps, nil
}

// defaultHostKey lists the app's host keys until the default function key
// is there (bounded by poll), and fails with the last cause otherwise.
func defaultHostKey(ctx *pulumi.Context, app, rg string, poll keyPoll) (string, error) {
	var last string
	for i := 0; i < poll.attempts; i++ {
		if i > 0 {
			time.Sleep(poll.interval)
		}
		res, err := web.ListWebAppHostKeys(ctx, &web.ListWebAppHostKeysArgs{Name: app, ResourceGroupName: rg})
		switch {
		case err != nil:
			last = err.Error()
		case res.FunctionKeys["default"] == "":
			last = "the host returned no default function key"
		default:
			return res.FunctionKeys["default"], nil
		}
		_ = ctx.Log.Info(fmt.Sprintf("function app %s: host keys not available yet (%s), retrying", app, last), nil)
	}
	return "", fmt.Errorf("azure stack: function app %s: no default host key after %d attempts over %v (last: %s); "+
		"every call would be refused with 401: check the app's host in the Azure portal, then run again",
		app, poll.attempts, time.Duration(poll.attempts-1)*poll.interval, last)
}

// nameValues turns settings into the app's name/value list, sorted by name
// so the request is stable.
func nameValues(settings pulumi.StringMap) web.NameValuePairArray {
	ks := make([]string, 0, len(settings))
	for k := range settings {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	out := make(web.NameValuePairArray, 0, len(ks))
	for _, k := range ks {
		out = append(out, web.NameValuePairArgs{Name: pulumi.String(k), Value: settings[k].ToStringOutput()})
	}
	return out
}

// nestedURLTemplate is FB_NESTED_URL_TEMPLATE: the URL of lab function
// {name}'s app.
func nestedURLTemplate(cfg stackcfg.Azure) string {
	return "https://" + cfg.NameTemplate() + ".azurewebsites.net/api/{name}"
}

// containerSAS is a read-only, HTTPS-only service SAS token for the
// package container.
func containerSAS(ctx *pulumi.Context, rg, account, container pulumi.StringOutput) pulumi.StringOutput {
	sas := storage.ListStorageAccountServiceSASOutput(ctx, storage.ListStorageAccountServiceSASOutputArgs{
		ResourceGroupName:      rg,
		AccountName:            account,
		Protocols:              storage.HttpProtocolHttps,
		SharedAccessStartTime:  pulumi.String(sasStart),
		SharedAccessExpiryTime: pulumi.String(sasExpiry),
		Resource:               pulumi.String(string(storage.SignedResourceC)),
		Permissions:            pulumi.String(string(storage.PermissionsR)),
		CanonicalizedResource:  pulumi.Sprintf("/blob/%s/%s", account, container),
	})
	return sas.ServiceSasToken()
}

// connectionString is the AzureWebJobsStorage connection string of account.
func connectionString(ctx *pulumi.Context, rg, account pulumi.StringOutput) pulumi.StringOutput {
	keys := storage.ListStorageAccountKeysOutput(ctx, storage.ListStorageAccountKeysOutputArgs{
		ResourceGroupName: rg,
		AccountName:       account,
	})
	key := keys.Keys().Index(pulumi.Int(0)).Value()
	return pulumi.Sprintf("DefaultEndpointsProtocol=https;AccountName=%s;AccountKey=%s;EndpointSuffix=core.windows.net", account, key)
}
