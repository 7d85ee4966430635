package runner

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path"
	"sort"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"

	"github.com/faas-benchmarker/faas-benchmarker/results/blobstore"
	"github.com/faas-benchmarker/faas-benchmarker/stacks/stackcfg"
)

// Environment variables holding the Spaces access key pair.
const (
	EnvSpacesAccessKey = "SPACES_ACCESS_KEY_ID"
	EnvSpacesSecretKey = "SPACES_SECRET_ACCESS_KEY"
)

// SpacesStoreConfig returns the blobstore configuration of the permanent
// stack's results bucket from its outputs (bucketName, spacesEndpoint),
// with the access key pair from SPACES_ACCESS_KEY_ID and
// SPACES_SECRET_ACCESS_KEY. Spaces does not take S3 additional checksums,
// so the SHA-256 travels in the object metadata only.
func SpacesStoreConfig(permanentOutputs auto.OutputMap) (blobstore.Config, error) {
	str := func(k string) string {
		v, _ := permanentOutputs[k].Value.(string)
		return v
	}
	cfg := blobstore.Config{
		Bucket:           str(stackcfg.OutBucketName),
		Endpoint:         str(stackcfg.OutSpacesEndpoint),
		AccessKeyID:      os.Getenv(EnvSpacesAccessKey),
		SecretAccessKey:  os.Getenv(EnvSpacesSecretKey),
		NoServerChecksum: true,
	}
	if cfg.Bucket == "" {
		return cfg, fmt.Errorf("runner: the permanent stack has no %q output: run `fbrun up permanent` first", stackcfg.OutBucketName)
	}
	if cfg.Endpoint == "" {
		region := str(stackcfg.OutSpacesRegion)
		if region == "" {
			region = blobstore.DefaultSpacesRegion
		}
		cfg.Endpoint = blobstore.SpacesEndpoint(region)
	}
	if cfg.AccessKeyID == "" || cfg.SecretAccessKey == "" {
		return cfg, fmt.Errorf("runner: results shipping to Spaces needs %s and %s (a Spaces access key pair)",
			EnvSpacesAccessKey, EnvSpacesSecretKey)
	}
	return cfg, nil
}

// DownPermanent destroys the permanent stack (`fbrun down permanent`).
// With emptyBucket it first empties the results bucket, which Spaces
// refuses to delete while it holds objects — but only once nothing can go
// wrong: it checks first that no resource of the stack is protected (the
// bucket is, unless fb:protectBucket=false was applied with `fbrun up
// permanent`), and refuses, listing them, while experiment stacks exist in
// the runner's backend or in the bucket's own state (.pulumi/): their state
// is what a later cleanup needs to delete their cloud resources. Only then
// does it empty the bucket and destroy the stack. Everything it deleted is
// printed to Stdout.
func (r *Runner) DownPermanent(ctx context.Context, emptyBucket bool) error {
	var sw *signalWatch
	if r.cfg.HandleSignals {
		var stop func()
		ctx, sw, stop = r.watchSignals(ctx, PermanentStack, bestEffort{r.stderr})
		defer stop()
	}
	st, err := r.selectStack(ctx, DefaultProject, PermanentStack)
	if err != nil {
		return err
	}
	dep, err := st.Export(ctx)
	if err != nil {
		return fmt.Errorf("runner: state of %s: %w", PermanentStack, err)
	}
	if prot := protectedResources(dep.Deployment); len(prot) > 0 {
		return fmt.Errorf("runner: the %s stack has protected resources, which a destroy refuses to delete: %s — "+
			"run `fbrun up permanent protectBucket=false` (with your other settings) first; nothing was deleted",
			PermanentStack, strings.Join(prot, ", "))
	}
	listed, err := r.ListStacks(ctx, DefaultProject)
	if err != nil {
		return err
	}
	var left []string
	for _, s := range listed {
		if n := shortStackName(s.Name); isExperimentStack(n) {
			left = append(left, n+" ("+r.cfg.BackendURL+")")
		}
	}
	var store *blobstore.Store
	bucket := ""
	if emptyBucket {
		outs, err := st.Outputs(ctx)
		if err != nil {
			return fmt.Errorf("runner: outputs of %s: %w", PermanentStack, err)
		}
		cfg, err := SpacesStoreConfig(outs)
		if err != nil {
			return err
		}
		bucket = cfg.Bucket
		if backendInBucket(r.cfg.BackendURL, bucket) {
			return fmt.Errorf("runner: the %s stack's own state is in bucket %s (backend %s): emptying the bucket would delete it "+
				"before the destroy, leaving the droplet and the bucket running with no state to delete them — move the state to "+
				"another backend first (pulumi stack export, then pulumi stack import with another PULUMI_BACKEND_URL); nothing was deleted",
				PermanentStack, bucket, r.cfg.BackendURL)
		}
		if store, err = blobstore.New(ctx, cfg); err != nil {
			return err
		}
		objs, err := store.List(ctx, stateStacksPrefix)
		if err != nil {
			return fmt.Errorf("runner: list the stack states in bucket %s: %w", bucket, err)
		}
		for _, n := range stateStackNames(objs) {
			left = append(left, n+" (state in bucket "+bucket+")")
		}
	}
	if len(left) > 0 {
		sort.Strings(left)
		return fmt.Errorf("runner: experiment stacks still exist and may hold cloud resources: %s — destroy them with "+
			"`fbrun cleanup` (with --state for the bucket backend) first; nothing was deleted", strings.Join(left, ", "))
	}
	if emptyBucket {
		n, err := store.DeleteAll(ctx, "")
		if err != nil {
			return fmt.Errorf("runner: empty bucket %s (%d objects deleted): %w", bucket, n, err)
		}
		fmt.Fprintf(r.stdout, "deleted %d objects from bucket %s\n", n, bucket)
	}
	logf, err := r.openLog(PermanentStack)
	if err != nil {
		return err
	}
	defer logf.Close()
	sw.tearingDown()
	return r.teardown(ctx, st, DefaultProject, bestEffort{r.stdout, logf}, bestEffort{r.stderr, logf})
}

// backendInBucket reports whether the Pulumi backend URL keeps its state in
// bucket: an s3:// backend names its bucket as the URL's host
// (s3://bucket/optional/prefix?endpoint=..., Pulumi docs "State and
// backends").
func backendInBucket(backendURL, bucket string) bool {
	u, err := url.Parse(backendURL)
	return err == nil && u.Scheme == "s3" && bucket != "" && u.Host == bucket
}

// stateStacksPrefix is where a self-managed (diy) backend keeps stack
// states: .pulumi/stacks/<project>/<stack>.json (Pulumi docs, "State and
// backends": self-managed backend layout).
const stateStacksPrefix = ".pulumi/stacks/"

// stateStackNames returns the experiment stacks (names made by StackName)
// whose state files a diy backend bucket holds; backups (.bak) and
// history do not count.
func stateStackNames(objs []blobstore.Object) []string {
	seen := map[string]bool{}
	var out []string
	for _, o := range objs {
		base := path.Base(o.Key)
		name, ok := strings.CutSuffix(base, ".json")
		if !ok {
			name, ok = strings.CutSuffix(base, ".json.gz")
		}
		if ok && isExperimentStack(name) && !seen[name] {
			seen[name] = true
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

// isExperimentStack reports whether a stack name is one StackName makes.
func isExperimentStack(name string) bool {
	_, ok := ParseStackName(name)
	return ok
}

// protectedResources lists the URNs of the protected resources of a
// deployment (apitype DeploymentV3 JSON).
func protectedResources(deployment json.RawMessage) []string {
	var d struct {
		Resources []struct {
			URN     string `json:"urn"`
			Protect bool   `json:"protect"`
		} `json:"resources"`
	}
	if len(deployment) == 0 || json.Unmarshal(deployment, &d) != nil {
		return nil
	}
	var out []string
	for _, r := range d.Resources {
		if r.Protect {
			out = append(out, r.URN)
		}
	}
	return out
}
