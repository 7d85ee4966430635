package runner

import (
	"context"
	"fmt"
	"os"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"

	"github.com/faas-benchmarker/faas-benchmarker/blobstore"
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

// EmptyPermanentBucket deletes every object of the permanent stack's
// results bucket (shipped runs and any Pulumi state kept there), for
// `fbrun down permanent --empty-bucket`: Spaces refuses to delete a bucket
// that is not empty. It returns the bucket and the number of objects
// deleted.
func (r *Runner) EmptyPermanentBucket(ctx context.Context) (string, int, error) {
	outs, err := r.Outputs(ctx, "", PermanentStack)
	if err != nil {
		return "", 0, err
	}
	cfg, err := SpacesStoreConfig(outs)
	if err != nil {
		return "", 0, err
	}
	store, err := blobstore.New(ctx, cfg)
	if err != nil {
		return cfg.Bucket, 0, err
	}
	n, err := store.DeleteAll(ctx, "")
	return cfg.Bucket, n, err
}
