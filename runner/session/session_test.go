package session

import (
	"context"
	"errors"
	"math"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/faas-benchmarker/faas-benchmarker/engine"
	"github.com/faas-benchmarker/faas-benchmarker/experiments"
	"github.com/faas-benchmarker/faas-benchmarker/providers"
	"github.com/faas-benchmarker/faas-benchmarker/results"
)

// nanExperiment writes a NaN around Estimates.Set, as a careless
// experiment could.
type nanExperiment struct{ experiments.Smoke }

func (nanExperiment) Run(context.Context, *engine.Benchmarker, experiments.Params) (experiments.Estimates, error) {
	return experiments.Estimates{"good": 1, "bad_ms": math.NaN()}, nil
}

type noInvoker struct{}

func (noInvoker) Platform() string { return "none" }
func (noInvoker) Invoke(context.Context, string, []byte) (*providers.Reply, error) {
	return nil, &providers.Error{Platform: "none", Kind: providers.KindTransport, Message: "no platform"}
}

// TestBadEstimateFailsTheRun: a NaN estimate neither vanishes nor takes
// the others with it (the summary's JSON would not encode): the run fails
// naming it, and the valid estimates are stored.
func TestBadEstimateFailsTheRun(t *testing.T) {
	ctx := context.Background()
	db, err := results.Open(ctx, filepath.Join(t.TempDir(), "r.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	exp := nanExperiment{}
	params, err := experiments.Resolve(exp, nil)
	if err != nil {
		t.Fatal(err)
	}
	out, err := Run(ctx, Config{DB: db, Experiment: exp, Params: params, Invoker: noInvoker{}})
	if err != nil {
		t.Fatal(err)
	}
	if out.Status != results.StatusFailed || out.Err == nil || !strings.Contains(out.Err.Error(), `estimate "bad_ms"`) {
		t.Fatalf("status %s, err %v", out.Status, out.Err)
	}
	run, err := db.GetRun(ctx, out.RunID)
	if err != nil {
		t.Fatal(err)
	}
	sum, err := results.ParseSummary(run.Summary)
	if err != nil {
		t.Fatalf("stored summary %q: %v", run.Summary, err)
	}
	if sum.Estimates["good"] != 1 || len(sum.Estimates) != 1 || !strings.Contains(sum.Error, "bad_ms") {
		t.Errorf("stored summary = %+v", sum)
	}
}

// describedInvoker reads facts from the "running platform" (as the
// OpenFaaS provider reads the gateway's edition).
type describedInvoker struct {
	noInvoker
	facts map[string]any
	err   error
}

func (d describedInvoker) Describe(context.Context) (map[string]any, error) { return d.facts, d.err }

// TestDescriberRecorded: what a providers.Describer reads from the running
// platform is stored in the run's platform description, over what the
// configuration claimed; a failing Describe stores no run at all.
func TestDescriberRecorded(t *testing.T) {
	ctx := context.Background()
	db, err := results.Open(ctx, filepath.Join(t.TempDir(), "r.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	exp := experiments.Smoke{}
	params, err := experiments.Resolve(exp, nil)
	if err != nil {
		t.Fatal(err)
	}
	claimed := map[string]any{"gateway": "http://gw", "edition": "pro"}
	inv := describedInvoker{facts: map[string]any{"edition": "ce", "gateway_provider": "faas-netes-ce"}}
	out, err := Run(ctx, Config{DB: db, Experiment: exp, Params: params, Invoker: inv, PlatformConfig: claimed})
	if err != nil {
		t.Fatal(err)
	}
	run, err := db.GetRun(ctx, out.RunID)
	if err != nil {
		t.Fatal(err)
	}
	pc := run.PlatformConfig
	if pc["edition"] != "ce" || pc["gateway_provider"] != "faas-netes-ce" || pc["gateway"] != "http://gw" || claimed["edition"] != "pro" {
		t.Errorf("stored platform config %v (caller's map now %v)", pc, claimed)
	}
	// The client's timeout is stored with the run: the engine's default
	// here, the given one below.
	if pc["client_timeout_s"] != 300.0 {
		t.Errorf("client_timeout_s = %v, want 300 (engine.DefaultTimeout)", pc["client_timeout_s"])
	}
	out2, err := Run(ctx, Config{DB: db, Experiment: exp, Params: params, Invoker: inv, Engine: engine.Config{Timeout: 830 * time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	if run2, err := db.GetRun(ctx, out2.RunID); err != nil || run2.PlatformConfig["client_timeout_s"] != 830.0 {
		t.Errorf("client_timeout_s = %v (%v), want 830", run2.PlatformConfig["client_timeout_s"], err)
	}

	_, err = Run(ctx, Config{DB: db, Experiment: exp, Params: params, Invoker: describedInvoker{err: errors.New("gateway unreachable")}})
	if err == nil || !strings.Contains(err.Error(), "describe the platform: gateway unreachable") {
		t.Fatalf("failing Describe: %v", err)
	}
	runs, err := db.Runs(ctx, results.RunFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 2 {
		t.Errorf("%d runs stored, want only the first two", len(runs))
	}
}
