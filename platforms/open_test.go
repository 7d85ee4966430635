package platforms

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/faas-benchmarker/faas-benchmarker/localfaas"
)

// TestOpen: the embedded platform is started first and its endpoint handed
// to the direct path, its knobs join the stored configuration, Close undoes
// the run's change on a context that outlives the cancelled run and then
// stops the platform; a failing direct path stops what was started.
func TestOpen(t *testing.T) {
	var gotEndpoint string
	var released context.Context
	p := Platform{Name: "fake", Direct: func(ctx context.Context, tg Target) (*Setup, error) {
		gotEndpoint = tg.LocalEndpoint
		if tg.Endpoint == "fail" {
			return nil, errors.New("no such deployment")
		}
		return &Setup{Config: map[string]any{"region": "here"}, Close: func(ctx context.Context) error {
			released = ctx
			return errors.New("restored nothing")
		}}, nil
	}}
	cfg := localfaas.DefaultConfig()
	ctx, cancel := context.WithCancel(context.Background())
	o, err := p.Open(ctx, Target{LocalEndpoint: "http://ignored"}, &cfg)
	if err != nil {
		t.Fatal(err)
	}
	if o.Local == nil || gotEndpoint != o.Local.URL || !strings.HasPrefix(gotEndpoint, "http://127.0.0.1:") {
		t.Fatalf("direct path got endpoint %q, local %+v", gotEndpoint, o.Local)
	}
	if o.Config["region"] != "here" || len(o.Config) < 2 {
		t.Errorf("config = %v, want the platform's and the knobs", o.Config)
	}
	cancel() // Ctrl-C: the release must still run
	if err := o.Close(ctx); err == nil || err.Error() != "restored nothing" {
		t.Errorf("Close = %v, want the release's error", err)
	}
	if released == nil || released.Err() != nil {
		t.Errorf("release ran on a cancelled context: %v", released)
	}
	if _, err := p.Open(context.Background(), Target{Endpoint: "fail"}, nil); err == nil || gotEndpoint != "" {
		t.Errorf("failing direct path: err %v, endpoint %q", err, gotEndpoint)
	}
	if _, err := (Platform{Name: "stackonly"}).Open(context.Background(), Target{}, nil); err == nil || !strings.Contains(err.Error(), "always deploys its own stack") {
		t.Errorf("platform without a direct path: %v", err)
	}
}
