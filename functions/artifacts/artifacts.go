// Package artifacts builds the deployable lab function packages:
//
//	<out>/<arch>/bin/{bootstrap,monolith,httpfn}   linux binaries (CGO_ENABLED=0, -tags lambda.norpc)
//	<out>/<arch>/lambda-function.zip               provided.al2023 package for function1/2/3 (bootstrap at the root)
//	<out>/<arch>/lambda-monolith.zip               provided.al2023 package for monolith (the monolith binary as bootstrap)
//	<out>/amd64/azure-functions.zip                Azure custom-handler app: host.json, function{1,2,3}/function.json, httpfn
//	<out>/amd64/azure-monolith.zip                 Azure custom-handler app: host.json, monolith/function.json, monolith
//
// Azure zips are built for amd64 only (Linux function apps run on
// x86-64). Binaries are built with -trimpath and an empty build id, and zip
// entries carry a fixed time, so the same source gives byte-identical
// packages (deployments see no change when nothing changed).
package artifacts

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// Main packages of the lab function binaries.
const (
	BootstrapPkg = "./functions/cmd/bootstrap"
	MonolithPkg  = "./functions/cmd/monolith"
	HTTPFnPkg    = "./functions/cmd/httpfn"
)

// zipTime is the modification time of every zip entry.
var zipTime = time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)

// Config configures Build.
type Config struct {
	// ModuleDir is the repository root (holding go.mod). Required.
	ModuleDir string
	// OutDir is where artifacts go; relative paths are relative to
	// ModuleDir. "" means "build/functions".
	OutDir string
	// Arches are GOARCH values; nil means amd64 and arm64.
	Arches []string
	// Go is the go command; "" means "go".
	Go string
}

// Artifact is one file written by Build.
type Artifact struct {
	// Kind is "binary", "lambda-zip" or "azure-zip".
	Kind string
	// Name is the binary or package name ("bootstrap", "lambda-function").
	Name string
	Arch string
	Path string
	// Bytes is the file size.
	Bytes int64
}

// Build cross-compiles the three lab binaries for every arch and packages
// them. It returns the artifacts written, in a stable order.
func Build(ctx context.Context, cfg Config) ([]Artifact, error) {
	if cfg.ModuleDir == "" {
		return nil, fmt.Errorf("artifacts: ModuleDir is empty")
	}
	if cfg.OutDir == "" {
		cfg.OutDir = filepath.Join("build", "functions")
	}
	if !filepath.IsAbs(cfg.OutDir) {
		cfg.OutDir = filepath.Join(cfg.ModuleDir, cfg.OutDir)
	}
	if len(cfg.Arches) == 0 {
		cfg.Arches = []string{"amd64", "arm64"}
	}
	if cfg.Go == "" {
		cfg.Go = "go"
	}
	var out []Artifact
	for _, arch := range cfg.Arches {
		dir := filepath.Join(cfg.OutDir, arch)
		bins := map[string]string{}
		for _, b := range []struct{ name, pkg string }{{"bootstrap", BootstrapPkg}, {"monolith", MonolithPkg}, {"httpfn", HTTPFnPkg}} {
			p := filepath.Join(dir, "bin", b.name)
			if err := goBuild(ctx, cfg, arch, b.pkg, p); err != nil {
				return out, err
			}
			bins[b.name] = p
			a, err := stat("binary", b.name, arch, p)
			if err != nil {
				return out, err
			}
			out = append(out, a)
		}
		zips := []struct {
			kind, name string
			files      []zipFile
		}{
			{"lambda-zip", "lambda-function", []zipFile{{name: "bootstrap", src: bins["bootstrap"], mode: 0o755}}},
			{"lambda-zip", "lambda-monolith", []zipFile{{name: "bootstrap", src: bins["monolith"], mode: 0o755}}},
		}
		if arch == "amd64" {
			zips = append(zips,
				struct {
					kind, name string
					files      []zipFile
				}{"azure-zip", "azure-functions", azureAppFiles("httpfn", bins["httpfn"], "function1", "function2", "function3")},
				struct {
					kind, name string
					files      []zipFile
				}{"azure-zip", "azure-monolith", azureAppFiles("monolith", bins["monolith"], "monolith")},
			)
		}
		for _, z := range zips {
			p := filepath.Join(dir, z.name+".zip")
			if err := writeZip(p, z.files); err != nil {
				return out, err
			}
			a, err := stat(z.kind, z.name, arch, p)
			if err != nil {
				return out, err
			}
			out = append(out, a)
		}
	}
	return out, nil
}

func goBuild(ctx context.Context, cfg Config, arch, pkg, outPath string) error {
	if err := os.MkdirAll(filepath.Dir(outPath), 0o755); err != nil {
		return fmt.Errorf("artifacts: %w", err)
	}
	cmd := exec.CommandContext(ctx, cfg.Go, "build", "-tags", "lambda.norpc", "-trimpath",
		"-ldflags", "-s -w -buildid=", "-o", outPath, pkg)
	cmd.Dir = cfg.ModuleDir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+arch)
	if msg, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("artifacts: go build %s for linux/%s: %w\n%s", pkg, arch, err, msg)
	}
	return nil
}

func stat(kind, name, arch, p string) (Artifact, error) {
	fi, err := os.Stat(p)
	if err != nil {
		return Artifact{}, fmt.Errorf("artifacts: %w", err)
	}
	return Artifact{Kind: kind, Name: name, Arch: arch, Path: p, Bytes: fi.Size()}, nil
}

// zipFile is one zip entry: from a file (src) or from data.
type zipFile struct {
	name string
	src  string
	data []byte
	mode os.FileMode
}

// writeZip writes files (in the given order) to path with fixed times.
func writeZip(path string, files []zipFile) (err error) {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("artifacts: %w", err)
	}
	defer func() {
		if cerr := f.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("artifacts: %w", cerr)
		}
	}()
	zw := zip.NewWriter(f)
	for _, zf := range files {
		h := &zip.FileHeader{Name: zf.name, Method: zip.Deflate, Modified: zipTime}
		h.SetMode(zf.mode)
		w, err := zw.CreateHeader(h)
		if err != nil {
			return fmt.Errorf("artifacts: zip %s: %w", zf.name, err)
		}
		var r io.Reader = bytes.NewReader(zf.data)
		if zf.src != "" {
			src, err := os.Open(zf.src)
			if err != nil {
				return fmt.Errorf("artifacts: %w", err)
			}
			defer src.Close()
			r = src
		}
		if _, err := io.Copy(w, r); err != nil {
			return fmt.Errorf("artifacts: zip %s: %w", zf.name, err)
		}
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("artifacts: zip %s: %w", path, err)
	}
	return nil
}

// AzureHostJSON returns the host.json of a custom-handler function app
// whose handler is the executable at the app root. Requests arrive as the
// custom-handler envelope (enableForwardingHttpRequest false) and the
// function timeout is 5 minutes (see labruntime.AzureDefaultTimeout).
func AzureHostJSON(executable string) []byte {
	v := map[string]any{
		"version":         "2.0",
		"functionTimeout": "00:05:00",
		"logging":         map[string]any{"logLevel": map[string]any{"default": "Warning"}},
		"extensionBundle": map[string]any{"id": "Microsoft.Azure.Functions.ExtensionBundle", "version": "[4.*, 5.0.0)"},
		"customHandler": map[string]any{
			"description": map[string]any{
				"defaultExecutablePath": executable,
				"workingDirectory":      "",
				"arguments":             []string{},
			},
			"enableForwardingHttpRequest": false,
		},
	}
	b, _ := json.MarshalIndent(v, "", "  ")
	return append(b, '\n')
}

// AzureFunctionJSON returns the function.json of an HTTP-triggered lab
// function: trigger binding "req" (GET/POST, function key required) and
// HTTP output binding "res", the names the HTTP adapter's envelope code
// uses.
func AzureFunctionJSON() []byte {
	v := map[string]any{"bindings": []map[string]any{
		{"type": "httpTrigger", "direction": "in", "name": "req", "authLevel": "function", "methods": []string{"get", "post"}},
		{"type": "http", "direction": "out", "name": "res"},
	}}
	b, _ := json.MarshalIndent(v, "", "  ")
	return append(b, '\n')
}

// azureAppFiles lists the files of an Azure custom-handler app zip:
// host.json, <function>/function.json for each function, and the
// executable (from the file binPath) at the root.
func azureAppFiles(executable, binPath string, functions ...string) []zipFile {
	files := []zipFile{{name: "host.json", data: AzureHostJSON(executable), mode: 0o644}}
	for _, fn := range functions {
		files = append(files, zipFile{name: strings.TrimSuffix(fn, "/") + "/function.json", data: AzureFunctionJSON(), mode: 0o644})
	}
	return append(files, zipFile{name: executable, src: binPath, mode: 0o755})
}
