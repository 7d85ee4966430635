package openfaas_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/faas-benchmarker/faas-benchmarker/functions/lab"
	"github.com/faas-benchmarker/faas-benchmarker/localfaas"
	"github.com/faas-benchmarker/faas-benchmarker/localfaas/localfaastest"
	"github.com/faas-benchmarker/faas-benchmarker/providers"
	"github.com/faas-benchmarker/faas-benchmarker/providers/openfaas"
)

// TestAgainstLocalGateway invokes the real lab binaries through the
// embedded platform's OpenFaaS-style gateway route, which checks basic
// auth. (ForceColdStart needs /system/ endpoints the local platform does
// not serve; it is covered by the fake gateway tests.)
func TestAgainstLocalGateway(t *testing.T) {
	plat := localfaastest.Start(t, localfaas.Config{GatewayUser: "admin", GatewayPassword: "pw-for-test"})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	p, err := openfaas.New(openfaas.Config{GatewayURL: plat.URL(), Username: "admin", Password: "pw-for-test"})
	if err != nil {
		t.Fatal(err)
	}
	r, err := p.Invoke(ctx, "function3", []byte(`{}`))
	if err != nil {
		t.Fatalf("Invoke: %v", err)
	}
	var resp lab.Response
	if err := json.Unmarshal(r.Body, &resp); err != nil {
		t.Fatalf("decode %q: %v", r.Body, err)
	}
	if r.StatusCode != 200 || resp.Function != "function3" || resp.Error != nil || r.RequestID == "" {
		t.Errorf("reply %+v, lab response %+v", r, resp)
	}

	bad, err := openfaas.New(openfaas.Config{GatewayURL: plat.URL(), Username: "admin", Password: "wrong"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bad.Invoke(ctx, "function3", []byte(`{}`)); providers.KindOf(err) != providers.KindAuth {
		t.Errorf("wrong password: %v, want auth", err)
	}
	if _, err := p.Invoke(ctx, "nope", []byte(`{}`)); providers.KindOf(err) != providers.KindNotFound {
		t.Errorf("unknown function: %v, want not_found", err)
	}
}
