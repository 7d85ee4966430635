package previewtest

import (
	"context"
	"errors"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/faas-benchmarker/faas-benchmarker/internal/testtools"
	"github.com/faas-benchmarker/faas-benchmarker/runner"
	"github.com/faas-benchmarker/faas-benchmarker/stacks/program"
	"github.com/faas-benchmarker/faas-benchmarker/stacks/stackcfg"
)

func TestPreviewCloudPrograms(t *testing.T) {
	pulumiBin := testtools.Require(t, "pulumi", "FB_PULUMI")
	r, err := runner.New(runner.Config{
		PulumiPath: pulumiBin,
		BackendURL: runner.FileBackendURL(filepath.Join(t.TempDir(), "state")),
		LogDir:     t.TempDir(),
		PulumiHome: t.TempDir(),
		Env: map[string]string{
			runner.EnvPassphrase:                          "preview-test",
			"PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
		},
		Stdout: testWriter{t},
		Stderr: testWriter{t},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		platform  stackcfg.Platform
		plugins   []string // every plugin the program needs
		overrides []string
	}{
		{stackcfg.PlatformAWS, []string{"aws"}, []string{"experiment=preview", "run=r1", "artifactDir=" + t.TempDir()}},
		{stackcfg.PlatformAzure, []string{"azure-native"}, []string{"experiment=preview", "run=r1", "artifactDir=" + t.TempDir()}},
		{stackcfg.PlatformOpenFaaS, []string{"aws", "eks", "kubernetes"}, []string{"experiment=preview", "run=r1",
			"image=ghcr.io/example/fb-lab:1", "monolithImage=ghcr.io/example/fb-mono:1",
			"gatewayPassword=preview-password-0123456789", "gatewayCidrs=192.0.2.0/24"}},
		{stackcfg.PlatformPermanent, []string{"digitalocean"}, []string{"sshPublicKey=ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPreviewKeyOnly preview",
			"sshCidrs=192.0.2.0/24"}},
	} {
		t.Run(string(tc.platform), func(t *testing.T) {
			s, err := stackcfg.New(tc.platform)
			if err != nil {
				t.Fatal(err)
			}
			if err := stackcfg.ApplyOverrides(s, tc.overrides); err != nil {
				t.Fatal(err)
			}
			prog, err := program.For(s)
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			defer cancel()
			stack := "preview-" + string(tc.platform)
			_, err = r.Preview(ctx, runner.StackSpec{StackName: stack, Program: prog})
			var missing []string
			for _, p := range tc.plugins {
				if _, lerr := exec.LookPath("pulumi-resource-" + p); lerr != nil {
					missing = append(missing, p)
				}
			}
			if len(missing) == 0 {
				if err != nil {
					t.Fatalf("preview with plugins %v installed: %v", tc.plugins, err)
				}
			} else {
				if !errors.Is(err, runner.ErrPluginMissing) {
					t.Fatalf("plugins %v missing: want ErrPluginMissing, got %v", missing, err)
				}
				named := false
				for _, p := range missing {
					named = named || strings.Contains(err.Error(), "plugin missing: "+p+" v")
				}
				if !named || !strings.Contains(err.Error(), "pulumi plugin install resource") {
					t.Fatalf("error does not name a missing plugin %v with its version and the install command: %v", missing, err)
				}
			}
			if err := r.RemoveStack(ctx, "", stack); err != nil {
				t.Fatalf("preview left a stack that cannot be removed: %v", err)
			}
		})
	}
}

// testWriter sends the runner's progress to the test log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
