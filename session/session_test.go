package session

import (
	"context"
	"encoding/json"
	"math"
	"path/filepath"
	"strings"
	"testing"

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
	var sum Summary
	if err := json.Unmarshal(run.Summary, &sum); err != nil {
		t.Fatalf("stored summary %q: %v", run.Summary, err)
	}
	if sum.Estimates["good"] != 1 || len(sum.Estimates) != 1 || !strings.Contains(sum.Error, "bad_ms") {
		t.Errorf("stored summary = %+v", sum)
	}
}
