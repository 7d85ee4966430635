// Package localfaastest starts the embedded local platform in tests with
// the real lab function binaries (functions/cmd/bootstrap, monolith and
// httpfn), built once per test binary.
//
// Typical use:
//
//	p := localfaastest.Start(t, localfaas.Config{}) // lab functions, default knobs
//	client := lambda.New(lambda.Options{BaseEndpoint: aws.String(p.URL()), ...})
//
// The binaries are built with the Go toolchain from the module that
// contains the current directory (CGO_ENABLED=0, -tags lambda.norpc, the
// flags of the cloud artifact) into a per-user cache directory, replaced
// atomically, so concurrent test binaries share one copy.
package localfaastest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/faas-benchmarker/faas-benchmarker/localfaas"
)

// Binaries are the paths of the built lab binaries.
type Binaries struct {
	// Bootstrap is functions/cmd/bootstrap: function1, function2 and
	// function3 on the Lambda Runtime API.
	Bootstrap string
	// Monolith is functions/cmd/monolith: all four functions with every
	// workload; "lambda" or "http" as its first argument picks the adapter.
	Monolith string
	// HTTP is functions/cmd/httpfn: function1-3 as an HTTP server.
	HTTP string
}

var (
	buildOnce sync.Once
	built     Binaries
	buildErr  error
)

// Build builds the lab binaries once per test binary and returns their
// paths. It fails tb when the build fails.
func Build(tb testing.TB) Binaries {
	tb.Helper()
	buildOnce.Do(func() { built, buildErr = build() })
	if buildErr != nil {
		tb.Fatalf("localfaastest: %v", buildErr)
	}
	return built
}

func build() (Binaries, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return Binaries{}, fmt.Errorf("go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return Binaries{}, fmt.Errorf("not inside the faas-benchmarker module")
	}
	root := filepath.Dir(gomod)
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	sum := sha256.Sum256([]byte(root))
	dir := filepath.Join(cache, "faas-benchmarker", "localfaastest", hex.EncodeToString(sum[:8]))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return Binaries{}, err
	}
	tmp, err := os.MkdirTemp(dir, "build-")
	if err != nil {
		return Binaries{}, err
	}
	defer os.RemoveAll(tmp)
	cmd := exec.CommandContext(ctx, "go", "build", "-tags", "lambda.norpc", "-o", tmp+string(filepath.Separator),
		"./functions/cmd/bootstrap", "./functions/cmd/monolith", "./functions/cmd/httpfn")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return Binaries{}, fmt.Errorf("go build lab binaries: %w\n%s", err, stderr.String())
	}
	b := Binaries{
		Bootstrap: filepath.Join(dir, "bootstrap"),
		Monolith:  filepath.Join(dir, "monolith"),
		HTTP:      filepath.Join(dir, "httpfn"),
	}
	for _, name := range []string{"bootstrap", "monolith", "httpfn"} {
		// Rename is atomic: a concurrent test binary running the old file
		// keeps its copy.
		if err := os.Rename(filepath.Join(tmp, name), filepath.Join(dir, name)); err != nil {
			return Binaries{}, err
		}
	}
	return b, nil
}

// Functions returns the lab functions as the cloud deploys them:
// function1-3 run the bootstrap binary and monolith the monolith binary,
// all on the Lambda runtime with a 30 s timeout and 128 MB.
func Functions(b Binaries) []localfaas.FunctionSpec {
	fns := localfaas.DefaultFunctions([]string{b.Bootstrap})
	for i := range fns {
		if fns[i].Name == "monolith" {
			fns[i].Command = []string{b.Monolith, "lambda"}
		}
	}
	return fns
}

// CodeCatalog returns the catalog for CreateFunction: "bootstrap" (and
// "lambda") run the monolith binary on the Lambda runtime, so any lab
// function name works; "http" runs it as an HTTP function.
func CodeCatalog(b Binaries) map[string]localfaas.Code {
	return localfaas.DefaultCodeCatalog([]string{b.Monolith, "lambda"}, []string{b.Monolith, "http"})
}

// Start builds the lab binaries, starts a platform and closes it (killing
// every instance) when the test ends. Zero fields of cfg take
// localfaas.DefaultConfig values; without Functions the lab functions are
// deployed, without CodeCatalog the lab catalog is used.
func Start(tb testing.TB, cfg localfaas.Config) *localfaas.Platform {
	tb.Helper()
	b := Build(tb)
	cfg = withDefaults(cfg)
	if len(cfg.Functions) == 0 {
		cfg.Functions = Functions(b)
	}
	if cfg.CodeCatalog == nil {
		cfg.CodeCatalog = CodeCatalog(b)
	}
	p, err := localfaas.New(cfg)
	if err != nil {
		tb.Fatalf("localfaastest: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := p.Start(ctx); err != nil {
		tb.Fatalf("localfaastest: %v", err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := p.Close(ctx); err != nil {
			tb.Errorf("localfaastest: close: %v", err)
		}
	})
	return p
}

// withDefaults fills the zero fields of cfg from localfaas.DefaultConfig.
func withDefaults(cfg localfaas.Config) localfaas.Config {
	d := localfaas.DefaultConfig()
	if cfg.Addr == "" {
		cfg.Addr = d.Addr
	}
	if cfg.IdleTimeout == 0 {
		cfg.IdleTimeout = d.IdleTimeout
	}
	if cfg.IdleEvictFraction == 0 {
		cfg.IdleEvictFraction = d.IdleEvictFraction
	}
	if cfg.MaxLifetime == 0 {
		cfg.MaxLifetime = d.MaxLifetime
	}
	if cfg.MaxInstances == 0 {
		cfg.MaxInstances = d.MaxInstances
	}
	if cfg.ScaleBurst == 0 {
		cfg.ScaleBurst = d.ScaleBurst
	}
	if cfg.ScaleRate == 0 {
		cfg.ScaleRate = d.ScaleRate
	}
	if cfg.InitTimeout == 0 {
		cfg.InitTimeout = d.InitTimeout
	}
	if cfg.DefaultTimeout == 0 {
		cfg.DefaultTimeout = d.DefaultTimeout
	}
	if cfg.DefaultMemoryMB == 0 {
		cfg.DefaultMemoryMB = d.DefaultMemoryMB
	}
	if cfg.AsyncRetryFor == 0 {
		cfg.AsyncRetryFor = d.AsyncRetryFor
	}
	if cfg.Seed == 0 {
		cfg.Seed = d.Seed
	}
	return cfg
}

// CountEvents counts p's ground-truth events of kind for function fn
// (coldOnly: only those of a cold invocation).
func CountEvents(p *localfaas.Platform, fn string, kind localfaas.EventKind, coldOnly bool) int {
	n := 0
	for _, e := range p.Events() {
		if e.Function == fn && e.Kind == kind && (!coldOnly || e.Cold) {
			n++
		}
	}
	return n
}
