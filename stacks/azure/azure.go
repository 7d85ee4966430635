// Package azure is the per-experiment Azure Functions stack: a resource
// group, a storage account holding the custom-handler packages, one Linux
// consumption (Y1) plan and one function app per lab function (a single
// app deadlocks on nested calls), each running its package from a
// read-only SAS URL, with the nested-call URL template and the function
// keys of its siblings as app settings. The function keys are secret
// outputs, read from each app once its host serves them (bounded polling:
// right after creation the host may answer ServiceUnavailable or no key).
//
// App names are fb-<experiment>-<run>-<lab> exactly (no random suffix), as
// the lab functions build sibling URLs from FB_NESTED_URL_TEMPLATE; they
// are global in azurewebsites.net, so pick a distinctive run id.
package azure

import (
	"fmt"
	"path/filepath"
	"sort"
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
	storageConn := pulumi.ToSecret(connectionString(ctx, rg.Name, account.Name)).(pulumi.StringOutput)

	plan, err := web.NewAppServicePlan(ctx, "plan", &web.AppServicePlanArgs{
		ResourceGroupName: rg.Name,
		Location:          location,
		Kind:              pulumi.String("Linux"),
		Reserved:          pulumi.Bool(true),
		Sku:               &web.SkuDescriptionArgs{Name: pulumi.String("Y1"), Tier: pulumi.String("Dynamic")},
		Tags:              tags,
	})
	if err != nil {
		return nil, fmt.Errorf("azure stack: plan: %w", err)
	}

	// Base settings every app needs to start; the full set including the
	// siblings' URLs and keys is written by WebAppApplicationSettings once
	// every app (and so every key) exists.
	base := func(lab string) pulumi.StringMap {
		m := pulumi.StringMap{
			"FUNCTIONS_WORKER_RUNTIME":    pulumi.String("custom"),
			"FUNCTIONS_EXTENSION_VERSION": pulumi.String(cfg.ExtensionVersion),
			"AzureWebJobsStorage":         storageConn,
			"WEBSITE_RUN_FROM_PACKAGE":    packageURLs[cfg.Artifact(lab)],
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

	apps := map[string]*web.WebApp{}
	names := pulumi.StringMap{}
	urls := pulumi.StringMap{}
	keys := pulumi.StringMap{}
	for _, lab := range cfg.Functions {
		app, err := web.NewWebApp(ctx, cfg.FunctionName(lab), &web.WebAppArgs{
			Name:              pulumi.String(cfg.FunctionName(lab)),
			ResourceGroupName: rg.Name,
			Location:          location,
			ServerFarmId:      plan.ID(),
			Kind:              pulumi.String("functionapp,linux"),
			Reserved:          pulumi.Bool(true),
			HttpsOnly:         pulumi.Bool(true),
			SiteConfig: &web.SiteConfigArgs{
				AppSettings:   nameValues(base(lab)),
				FtpsState:     pulumi.String(string(web.FtpsStateDisabled)),
				MinTlsVersion: pulumi.String("1.2"),
				Http20Enabled: pulumi.Bool(true),
			},
			Tags: tags,
		}, pulumi.IgnoreChanges([]string{"siteConfig.appSettings"}))
		if err != nil {
			return nil, fmt.Errorf("azure stack: function app %s: %w", lab, err)
		}
		apps[lab] = app
		names[lab] = app.Name
		urls[lab] = pulumi.Sprintf("https://%s/api/%s", app.DefaultHostName, lab)
		key := pulumi.All(app.Name, rg.Name).ApplyT(func(xs []any) (string, error) {
			return defaultHostKey(ctx, xs[0].(string), xs[1].(string), poll)
		}).(pulumi.StringOutput)
		keys[lab] = pulumi.ToSecret(key).(pulumi.StringOutput)
	}

	for _, lab := range cfg.Functions {
		settings := base(lab)
		for _, callee := range cfg.Functions {
			settings[stackcfg.NestedKeyEnv(callee)] = keys[callee]
		}
		if _, err := web.NewWebAppApplicationSettings(ctx, cfg.FunctionName(lab)+"-settings", &web.WebAppApplicationSettingsArgs{
			Name:              apps[lab].Name,
			ResourceGroupName: rg.Name,
			Properties:        settings,
		}); err != nil {
			return nil, fmt.Errorf("azure stack: app settings %s: %w", lab, err)
		}
	}

	return map[string]pulumi.Output{
		stackcfg.OutPlatform:      pulumi.String(string(stackcfg.PlatformAzure)).ToStringOutput(),
		stackcfg.OutExperiment:    pulumi.String(cfg.Experiment).ToStringOutput(),
		stackcfg.OutRun:           pulumi.String(cfg.Run).ToStringOutput(),
		stackcfg.OutRegion:        pulumi.String(cfg.Location).ToStringOutput(),
		stackcfg.OutResourceGroup: rg.Name,
		stackcfg.OutFunctionNames: names.ToStringMapOutput(),
		stackcfg.OutFunctionURLs:  urls.ToStringMapOutput(),
		stackcfg.OutFunctionKeys:  pulumi.ToSecret(keys.ToStringMapOutput()),
	}, nil
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
