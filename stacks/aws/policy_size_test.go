package aws

import (
	"strings"
	"testing"
	"unicode"

	"github.com/faas-benchmarker/faas-benchmarker/stacks/stackcfg"
)

// TestPolicySizeAtMaxLanes: IAM limits a role's inline policies to 10,240
// characters together, whitespace not counted (IAM and STS quotas,
// "Role policy size").
func TestPolicySizeAtMaxLanes(t *testing.T) {
	cfg := stackcfg.DefaultAWS()
	cfg.Experiment = strings.Repeat("e", stackcfg.MaxExperimentLen)
	cfg.Run = strings.Repeat("r", stackcfg.MaxRunLen)
	for lanes := stackcfg.DefaultLanes; lanes <= stackcfg.MaxLanes; lanes++ {
		cfg.Lanes = lanes
		region, account := "ap-southeast-2", "123456789012"
		var arns []string
		for _, n := range append(cfg.Functions, cfg.LaneCopies()...) {
			arns = append(arns, "arn:aws:lambda:"+region+":"+account+":function:"+cfg.FunctionName(n))
		}
		doc, err := policyDocument("arn:aws:logs:"+region+":"+account+":log-group:/fb/"+cfg.Experiment+"/"+cfg.Run, arns)
		if err != nil {
			t.Fatal(err)
		}
		size := len(strings.Map(func(r rune) rune {
			if unicode.IsSpace(r) {
				return -1
			}
			return r
		}, doc))
		t.Logf("%d functions, policy %d characters without whitespace", len(arns), size)
		if size > 10240 {
			t.Errorf("lanes=%d: policy of %d characters is over IAM's 10,240", lanes, size)
		}
	}
}
