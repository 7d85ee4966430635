package artifacts

import (
	"archive/zip"
	"bytes"
	"context"
	"debug/elf"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/faas-benchmarker/faas-benchmarker/functions/httpadapter"
)

// TestBuildAll cross-builds every binary for linux/amd64 and linux/arm64,
// checks the packages' layout and reports the sizes.
func TestBuildAll(t *testing.T) {
	if testing.Short() {
		t.Skip("cross-builds all lab binaries")
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	arts, err := Build(context.Background(), Config{ModuleDir: root, OutDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	size := map[string]int64{}
	for _, a := range arts {
		t.Logf("%-10s %-16s %-6s %10d bytes", a.Kind, a.Name, a.Arch, a.Bytes)
		size[a.Arch+"/"+a.Name] = a.Bytes
	}
	if len(arts) != 12 {
		t.Fatalf("%d artifacts, want 12 (3 binaries + 2 Lambda zips per arch, 2 Azure zips for amd64)", len(arts))
	}
	machine := map[string]elf.Machine{"amd64": elf.EM_X86_64, "arm64": elf.EM_AARCH64}
	for _, a := range arts {
		switch a.Kind {
		case "binary":
			checkELF(t, a.Path, machine[a.Arch])
		case "lambda-zip":
			files := readZip(t, a.Path)
			if len(files) != 1 || files["bootstrap"].mode&0o111 == 0 {
				t.Fatalf("%s: want one executable bootstrap at the root, got %v", a.Path, files)
			}
			checkELFBytes(t, a.Path+"!bootstrap", files["bootstrap"].data, machine[a.Arch])
		case "azure-zip":
			files := readZip(t, a.Path)
			var host struct {
				CustomHandler struct {
					Description struct {
						DefaultExecutablePath string `json:"defaultExecutablePath"`
					} `json:"description"`
					EnableForwardingHTTPRequest bool `json:"enableForwardingHttpRequest"`
				} `json:"customHandler"`
			}
			if err := json.Unmarshal(files["host.json"].data, &host); err != nil {
				t.Fatalf("%s host.json: %v", a.Path, err)
			}
			exe := host.CustomHandler.Description.DefaultExecutablePath
			if f, ok := files[exe]; !ok || f.mode&0o111 == 0 || host.CustomHandler.EnableForwardingHTTPRequest {
				t.Fatalf("%s: handler %q missing, not executable, or forwarding enabled", a.Path, exe)
			}
			checkELFBytes(t, a.Path+"!"+exe, files[exe].data, elf.EM_X86_64)
			want := []string{"function1", "function2", "function3"}
			if a.Name == "azure-monolith" {
				want = []string{"monolith"}
			}
			for _, fn := range want {
				if _, ok := files[fn+"/function.json"]; !ok {
					t.Fatalf("%s: no %s/function.json", a.Path, fn)
				}
			}
		}
	}
	for _, arch := range []string{"amd64", "arm64"} {
		if size[arch+"/lambda-monolith"] <= size[arch+"/lambda-function"] {
			t.Fatalf("%s: monolith package (%d) is not larger than function1/2/3's (%d)", arch, size[arch+"/lambda-monolith"], size[arch+"/lambda-function"])
		}
	}
}

func checkELF(t *testing.T, path string, m elf.Machine) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	checkELFBytes(t, path, b, m)
}

func checkELFBytes(t *testing.T, name string, b []byte, m elf.Machine) {
	t.Helper()
	f, err := elf.NewFile(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("%s: not an ELF file: %v", name, err)
	}
	if f.Machine != m || f.Type != elf.ET_EXEC {
		t.Fatalf("%s: machine %v type %v, want %v static executable", name, f.Machine, f.Type, m)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Fatalf("%s: dynamically linked (has an interpreter)", name)
		}
	}
}

type entry struct {
	mode os.FileMode
	data []byte
}

func readZip(t *testing.T, path string) map[string]entry {
	t.Helper()
	zr, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	out := map[string]entry{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		out[f.Name] = entry{mode: f.Mode(), data: b}
	}
	return out
}

func TestAzureFilesMatchAdapter(t *testing.T) {
	var fj struct {
		Bindings []struct {
			Type, Direction, Name string
			Methods               []string
		}
	}
	if err := json.Unmarshal(AzureFunctionJSON(), &fj); err != nil {
		t.Fatal(err)
	}
	if len(fj.Bindings) != 2 || fj.Bindings[0].Type != "httpTrigger" || fj.Bindings[0].Name != httpadapter.AzureTriggerBinding ||
		fj.Bindings[1].Type != "http" || fj.Bindings[1].Name != httpadapter.AzureOutputBinding {
		t.Fatalf("function.json bindings %+v do not match the adapter's envelope names", fj.Bindings)
	}
	var host map[string]any
	if err := json.Unmarshal(AzureHostJSON("httpfn"), &host); err != nil || host["version"] != "2.0" {
		t.Fatalf("host.json: %v %v", host, err)
	}
}

func TestZipIsReproducible(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "bin")
	if err := os.WriteFile(bin, []byte("\x7fELF fake"), 0o755); err != nil {
		t.Fatal(err)
	}
	a, b := filepath.Join(dir, "a.zip"), filepath.Join(dir, "b.zip")
	for _, p := range []string{a, b} {
		if err := writeZip(p, azureAppFiles("httpfn", bin, "function1")); err != nil {
			t.Fatal(err)
		}
	}
	ab, _ := os.ReadFile(a)
	bb, _ := os.ReadFile(b)
	if !bytes.Equal(ab, bb) {
		t.Fatal("two zips of the same input differ")
	}
	files := readZip(t, a)
	if files["httpfn"].mode != 0o755 || files["host.json"].mode != 0o644 || string(files["httpfn"].data) != "\x7fELF fake" {
		t.Fatalf("entries %v", files)
	}
}

// TestLightBinariesDoNotLinkWorkloads keeps function1/2/3 small: only the
// monolith may depend on the workloads package.
func TestLightBinariesDoNotLinkWorkloads(t *testing.T) {
	const wl = "github.com/faas-benchmarker/faas-benchmarker/functions/lab/workloads"
	for _, tt := range []struct {
		pkg  string
		want bool
	}{{BootstrapPkg, false}, {HTTPFnPkg, false}, {MonolithPkg, true}} {
		cmd := exec.Command("go", "list", "-deps", tt.pkg)
		cmd.Dir = "../.."
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("go list %s: %v", tt.pkg, err)
		}
		if got := bytes.Contains(out, []byte(wl+"\n")); got != tt.want {
			t.Errorf("%s links workloads = %v, want %v", tt.pkg, got, tt.want)
		}
	}
}

// TestOpenFaaSDockerfile checks what can be checked without a Docker
// engine: the watchdog runs in http mode, forwards to the address the
// adapter listens on, and the built package exists.
func TestOpenFaaSDockerfile(t *testing.T) {
	b, err := os.ReadFile("../openfaas/Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"ghcr.io/openfaas/of-watchdog:${WATCHDOG_VERSION} AS watchdog",
		`mode="http"`,
		`upstream_url="http://127.0.0.1:8082"`,
		`FB_HTTP_ADDR="127.0.0.1:8082"`,
		`fprocess="/handler"`,
		"-tags lambda.norpc",
		"./functions/cmd/${BINARY}",
		`CMD ["/fwatchdog"]`,
	} {
		if !bytes.Contains(b, []byte(want)) {
			t.Errorf("Dockerfile lacks %q", want)
		}
	}
	for _, bin := range []string{"httpfn", "monolith"} {
		if _, err := os.Stat(filepath.Join("../cmd", bin, "main.go")); err != nil {
			t.Errorf("BINARY=%s does not build: %v", bin, err)
		}
	}
}
