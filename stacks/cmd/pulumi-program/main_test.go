package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/faas-benchmarker/faas-benchmarker/stacks/internal/stacktest"
)

// TestRun runs the Pulumi.yaml program the way the Go language host does:
// config in PULUMI_CONFIG, resources against the mock monitor.
func TestRun(t *testing.T) {
	tests := []struct {
		name, config, wantErr string
		functions             int
	}{
		{"aws", `{"fb:platform":"aws","fb:functions":"function1,function2"}`, "", 2},
		{"typo rejected", `{"fb:platform":"aws","fb:memroy":"512"}`, "config keys not used by the aws stack: fb:memroy", 0},
		{"other stack's key rejected", `{"fb:platform":"aws","fb:image":"x"}`, "fb:image", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(pulumi.EnvConfig, tt.config)
			m := &stacktest.Mocks{State: func(r stacktest.Resource) resource.PropertyMap {
				return resource.PropertyMap{"arn": resource.NewProperty("arn:aws:x:eu-west-1:1:" + r.Name)}
			}}
			err := pulumi.RunErr(run, pulumi.WithMocks("faas-benchmarker", "dev", m))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				if n := len(m.Resources()); n != 0 {
					t.Fatalf("%d resources registered", n)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if n := len(m.OfType("aws:lambda/function:Function")); n != tt.functions {
				t.Fatalf("%d functions, want %d", n, tt.functions)
			}
		})
	}
}

// TestArtifactPathsFromProjectRoot: Pulumi runs the Go program of the root
// Pulumi.yaml in its main directory (stacks/cmd/pulumi-program, where this
// test runs too), so the default build/functions must resolve against the
// project root: <repo>/build/functions/arm64/lambda-function.zip, not
// stacks/cmd/pulumi-program/build/... . Both ways the CLI can tell the
// program its root are covered: PULUMI_ROOT_DIRECTORY, and none (the
// nearest Pulumi.yaml upwards). An absolute setting is kept.
func TestArtifactPathsFromProjectRoot(t *testing.T) {
	repo, err := filepath.Abs("../../..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(repo, "Pulumi.yaml")); err != nil {
		t.Fatalf("test assumes the repository root at %s: %v", repo, err)
	}
	abs := filepath.Join(t.TempDir(), "f.zip")
	tests := []struct {
		name, rootEnv, config, want string
	}{
		{"found upwards", "", `{"fb:platform":"aws","fb:functions":"function1"}`,
			filepath.Join(repo, "build/functions/arm64/lambda-function.zip")},
		{"root from the CLI", "/srv/fb", `{"fb:platform":"aws","fb:functions":"function1","fb:artifactDir":"out"}`,
			"/srv/fb/out/arm64/lambda-function.zip"},
		{"absolute kept", "/srv/fb", `{"fb:platform":"aws","fb:functions":"function1","fb:functionZip":"` + abs + `"}`, abs},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(pulumi.EnvConfig, tt.config)
			t.Setenv(pulumi.EnvPulumiRootDirectory, tt.rootEnv)
			m := &stacktest.Mocks{State: func(r stacktest.Resource) resource.PropertyMap {
				return resource.PropertyMap{"arn": resource.NewProperty("arn:aws:x:eu-west-1:1:" + r.Name)}
			}}
			if err := pulumi.RunErr(run, pulumi.WithMocks("faas-benchmarker", "dev", m)); err != nil {
				t.Fatal(err)
			}
			fns := m.OfType("aws:lambda/function:Function")
			if len(fns) != 1 {
				t.Fatalf("%d functions", len(fns))
			}
			code := fns[0].Inputs["code"]
			if !code.IsArchive() || code.ArchiveValue().Path != tt.want {
				t.Fatalf("code archive = %v, want path %s", code, tt.want)
			}
		})
	}
}
