package openfaas

import (
	"strings"
	"testing"
	"time"

	ofprov "github.com/faas-benchmarker/faas-benchmarker/providers/openfaas"
	"github.com/faas-benchmarker/faas-benchmarker/stacks/stackcfg"
)

const kubeconfig = `apiVersion: v1
kind: Config
current-context: eks
clusters:
- name: eks
  cluster: {server: "https://127.0.0.1:6443", certificate-authority-data: ""}
contexts:
- name: eks
  context: {cluster: eks, user: eks}
users:
- name: eks
  user: {token: t0ken}
`

// stackOutputs are the outputs of the managed OpenFaaS stack as the
// program exports them (stacks/openfaas), as plain values.
func stackOutputs(transport string, cidrs ...any) map[string]any {
	return map[string]any{
		stackcfg.OutGatewayURL:       "http://a1b2.elb.eu-west-1.amazonaws.com:8080",
		stackcfg.OutGatewayUser:      "admin",
		stackcfg.OutGatewayPassword:  "s3cret",
		stackcfg.OutKubeconfig:       kubeconfig,
		stackcfg.OutFunctionTimeout:  "120",
		stackcfg.OutRegion:           "eu-west-1",
		stackcfg.OutFunctionNames:    map[string]any{"function1": "function1"},
		stackcfg.OutGatewayTransport: transport,
		stackcfg.OutGatewayCIDRs:     cidrs,
	}
}

func withOutput(key, value string) map[string]any {
	outs := stackOutputs(stackcfg.GatewayTransportRestrictedHTTP, "203.0.113.7/32")
	outs[key] = value
	return outs
}

// TestManagedGatewayEndToEnd: stack outputs → provider configuration → the
// provider's own checks. The provider refuses plain HTTP with a password to
// a non-loopback host unless the stack declares its load balancer
// CIDR-restricted; a CIDR open to everyone is refused before any request.
func TestManagedGatewayEndToEnd(t *testing.T) {
	tests := []struct {
		name    string
		outs    map[string]any
		wantErr string
	}{
		{"restricted http", stackOutputs(stackcfg.GatewayTransportRestrictedHTTP, "203.0.113.7/32"), ""},
		{"open to everyone", stackOutputs(stackcfg.GatewayTransportRestrictedHTTP, "0.0.0.0/0"), "refusing to send its password"},
		{"restricted without cidrs", stackOutputs(stackcfg.GatewayTransportRestrictedHTTP), "no \"" + stackcfg.OutGatewayCIDRs + "\" output"},
		{"no opt-in", stackOutputs(""), "must use https"},
		{"function timeout beyond the NLB", withOutput(stackcfg.OutFunctionTimeout, "300"), "NLB's TCP idle timeout is 350 s"},
		{"function timeout not a number", withOutput(stackcfg.OutFunctionTimeout, "5m"), "not a number of seconds"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg, rec, err := ConfigFromOutputs(tc.outs)
			if err == nil {
				_, err = ofprov.New(cfg)
			}
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				// The client waits 240 s for a 120 s function: the
				// gateway's 235 s (100 s scale from zero + 130 s
				// upstream + 5 s) + 5 s, within the NLB's 350 s
				// (not the provider's 5-minute default).
				if !cfg.AllowPlainHTTP || !cfg.NoInvokeAuth || rec["region"] != "eu-west-1" ||
					cfg.HTTPTimeout != 240*time.Second || rec["client_timeout_s"] != 240.0 {
					t.Errorf("cfg %+v, record %v", cfg, rec)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("error %v, want one containing %q", err, tc.wantErr)
			}
		})
	}
}
