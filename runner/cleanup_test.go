package runner

import (
	"errors"
	"strings"
	"testing"
)

// TestExplainStuckGatewayService: a destroy that fails on the OpenFaaS
// gateway's Service says why (the load balancer controller's finalizer)
// and what to check; other destroy errors are left as they are.
func TestExplainStuckGatewayService(t *testing.T) {
	stuck := errors.New("destroy s: exit status 255: kubernetes:core/v1:Service (gateway-nlb):\n    error: 1 error occurred:\n\t* timed out waiting for the resource to be deleted")
	got := explainStuckGatewayService(stuck)
	if !errors.Is(got, stuck) || !strings.Contains(got.Error(), "service.k8s.aws/resources") ||
		!strings.Contains(got.Error(), "kubectl -n kube-system logs deploy/aws-load-balancer-controller") {
		t.Errorf("stuck Service: %v", got)
	}
	other := errors.New("destroy s: aws:ec2/vpc:Vpc (fb): error: DependencyViolation")
	if got := explainStuckGatewayService(other); got != other {
		t.Errorf("unrelated error rewritten: %v", got)
	}
	if explainStuckGatewayService(nil) != nil {
		t.Error("nil error rewritten")
	}
}
