package openfaas

import (
	"strings"
	"testing"

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
		stackcfg.OutEdition:          "ce",
		stackcfg.OutRegion:           "eu-west-1",
		stackcfg.OutFunctionNames:    map[string]any{"function1": "function1"},
		stackcfg.OutGatewayTransport: transport,
		stackcfg.OutGatewayCIDRs:     cidrs,
	}
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
				if !cfg.AllowPlainHTTP || !cfg.NoInvokeAuth || rec["edition"] != "ce" || rec["region"] != "eu-west-1" {
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
