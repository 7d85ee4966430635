package http_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/faas-benchmarker/faas-benchmarker/functions/lab"
	"github.com/faas-benchmarker/faas-benchmarker/localfaas"
	"github.com/faas-benchmarker/faas-benchmarker/localfaas/localfaastest"
	fbhttp "github.com/faas-benchmarker/faas-benchmarker/providers/http"
)

// TestAgainstLocalPlatform POSTs to the real lab binaries through the
// embedded platform's plain HTTP route.
func TestAgainstLocalPlatform(t *testing.T) {
	plat := localfaastest.Start(t, localfaas.Config{})
	p, err := fbhttp.New(fbhttp.Config{URLTemplate: plat.URL() + "/function/{name}"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	r, err := p.Invoke(ctx, "function1", []byte(`{}`))
	if err != nil {
		t.Fatalf("Invoke: %v", err)
	}
	var resp lab.Response
	if err := json.Unmarshal(r.Body, &resp); err != nil {
		t.Fatalf("decode %q: %v", r.Body, err)
	}
	if r.StatusCode != 200 || resp.Function != "function1" || resp.Error != nil || !resp.Instance.Cold {
		t.Errorf("reply %+v, lab response %+v", r, resp)
	}
	// A lab input error comes back as a function error with the body kept.
	r, err = p.Invoke(ctx, "function1", []byte(`{"sleep":-1}`))
	if err != nil {
		t.Fatalf("Invoke bad input: %v", err)
	}
	if r.FunctionError == "" || len(r.Body) == 0 {
		t.Errorf("bad input reply %+v", r)
	}
}
