package runner

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/faas-benchmarker/faas-benchmarker/results/blobstore"
)

func TestProtectedResources(t *testing.T) {
	dep := json.RawMessage(`{"resources":[
		{"urn":"urn:pulumi:permanent::faas-benchmarker::pulumi:pulumi:Stack::faas-benchmarker-permanent"},
		{"urn":"urn:pulumi:permanent::faas-benchmarker::digitalocean:index/spacesBucket:SpacesBucket::fb-results","protect":true},
		{"urn":"urn:pulumi:permanent::faas-benchmarker::digitalocean:index/droplet:Droplet::orchestrator","protect":false}]}`)
	got := protectedResources(dep)
	want := []string{"urn:pulumi:permanent::faas-benchmarker::digitalocean:index/spacesBucket:SpacesBucket::fb-results"}
	if !slices.Equal(got, want) {
		t.Fatalf("protected %v, want %v", got, want)
	}
	if got := protectedResources(nil); got != nil {
		t.Fatalf("empty state: %v", got)
	}
}

func TestStateStackNames(t *testing.T) {
	var objs []blobstore.Object
	for _, k := range []string{
		".pulumi/stacks/faas-benchmarker/cold-start-aws-20261126-054300-3fa9c1.json",
		".pulumi/stacks/faas-benchmarker/cold-start-aws-20261126-054300-3fa9c1.json.bak",
		".pulumi/stacks/faas-benchmarker/scaling-openfaas-20261127-101500-abcdef.json.gz",
		".pulumi/stacks/faas-benchmarker/permanent.json",
		".pulumi/stacks/faas-benchmarker/dev.json",
		".pulumi/history/faas-benchmarker/cold-start-aws-20261126-054300-3fa9c1/x.history.json",
	} {
		objs = append(objs, blobstore.Object{Key: k})
	}
	got := stateStackNames(objs)
	want := []string{"cold-start-aws-20261126-054300-3fa9c1", "scaling-openfaas-20261127-101500-abcdef"}
	if !slices.Equal(got, want) {
		t.Fatalf("stacks %v, want %v", got, want)
	}
}

// TestBackendInBucket: `down permanent --empty-bucket` refuses when the
// permanent stack's own state is in the bucket it would empty.
func TestBackendInBucket(t *testing.T) {
	for _, tc := range []struct {
		url  string
		want bool
	}{
		{"s3://fb-results-1a2b3c?endpoint=https://fra1.digitaloceanspaces.com&region=us-east-1&s3ForcePathStyle=true&profile=fb-spaces", true},
		{"s3://fb-results-1a2b3c/states?endpoint=https://fra1.digitaloceanspaces.com", true},
		{"s3://other-bucket?endpoint=https://fra1.digitaloceanspaces.com", false},
		{"file:///home/u/.local/share/faas-benchmarker/state", false},
		{"https://api.pulumi.com", false},
		{"", false},
	} {
		if got := backendInBucket(tc.url, "fb-results-1a2b3c"); got != tc.want {
			t.Errorf("backendInBucket(%q) = %v, want %v", tc.url, got, tc.want)
		}
	}
	if backendInBucket("s3://x", "") {
		t.Error("an empty bucket name matched")
	}
}
