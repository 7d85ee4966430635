package runner

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/faas-benchmarker/faas-benchmarker/platforms"
	"github.com/faas-benchmarker/faas-benchmarker/providers"
)

// TestSetupOnStackDeploysFirst: on a stack that is up (RunStack calls
// Spec.Run only after a successful up, so every app exists), the
// platform's Deploy publishes before the invoker is built and probed; a
// failed deployment stops the run before any function is called (and
// RunStack tears the stack down); the deployment's own price wins over
// the platform's.
func TestSetupOnStackDeploysFirst(t *testing.T) {
	outs := map[string]any{"plan": "flex"}
	for _, tc := range []struct {
		name      string
		deployErr error
		wantSteps string
		wantErr   string
	}{
		{"deployed", nil, "deploy,invoker", ""},
		{"deployment failed", errors.New("azure one deploy fb-x: deployment d1 failed: boom; log: https://x/log"), "deploy", "deployment d1 failed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var steps []string
			st := &platforms.Stack{
				Deploy: func(_ context.Context, o map[string]any, _ *slog.Logger) error {
					if o["plan"] != "flex" {
						t.Errorf("Deploy got outputs %v", o)
					}
					steps = append(steps, "deploy")
					return tc.deployErr
				},
				FromOutputs: func(map[string]any, *slog.Logger) (*platforms.Setup, error) {
					steps = append(steps, "invoker")
					return &platforms.Setup{Pricing: providers.Pricing{Default: "azure-flex"}}, nil
				},
			}
			s, err := setupOnStack(context.Background(), st, outs, slog.New(slog.DiscardHandler))
			if got := strings.Join(steps, ","); got != tc.wantSteps {
				t.Errorf("steps %q, want %q", got, tc.wantSteps)
			}
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			p := platforms.Platform{Pricing: providers.Pricing{Default: "azure-consumption"}}
			if got := p.PricingFor(s).Default; got != "azure-flex" {
				t.Errorf("price=auto = %q, want the deployment's azure-flex", got)
			}
			if got := p.PricingFor(&platforms.Setup{}).Default; got != "azure-consumption" {
				t.Errorf("without its own price a deployment is priced %q, want the platform's", got)
			}
		})
	}
}
