package fbcli

import (
	"slices"
	"testing"
	"time"

	"github.com/faas-benchmarker/faas-benchmarker/experiments"
	"github.com/faas-benchmarker/faas-benchmarker/platforms"
	"github.com/faas-benchmarker/faas-benchmarker/platforms/builtin"
)

// TestPlanStackSets: a stack deployed for the run gets the experiment's
// stack defaults under the user's --stack-set (idle-timeout on aws: 12
// lanes, an 800 s Lambda timeout), and the idle range and the client's
// default timeout follow the settings the stack is deployed with; an
// existing deployment and other experiments get the user's alone.
func TestPlanStackSets(t *testing.T) {
	reg, err := builtin.Registry()
	if err != nil {
		t.Fatal(err)
	}
	aws, err := reg.Lookup("aws")
	if err != nil {
		t.Fatal(err)
	}
	idle, smoke := experiments.IdleTimeout{}, experiments.Smoke{}
	existing := platforms.Target{Endpoint: "http://127.0.0.1:9"}
	for _, tc := range []struct {
		name          string
		exp           experiments.Experiment
		target        platforms.Target
		user          []string
		sets          []string
		limit, client time.Duration
		lanes         int
	}{
		{"idle-timeout on a stack", idle, platforms.Target{}, nil, []string{"lanes=12", "timeout=800"}, 800 * time.Second, 830 * time.Second, 12},
		{"the user's settings win", idle, platforms.Target{}, []string{"timeout=60", "lanes=3"},
			[]string{"lanes=12", "timeout=800", "timeout=60", "lanes=3"}, time.Minute, 5 * time.Minute, 3},
		{"another experiment", smoke, platforms.Target{}, []string{"memory=512"}, []string{"memory=512"}, time.Minute, 5 * time.Minute, 3},
		{"an existing deployment", idle, existing, nil, nil, 0, 5 * time.Minute, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := &platformPlan{platform: aws, target: tc.target}
			p.withExperiment(tc.exp, tc.user)
			if !slices.Equal(p.stackSets, tc.sets) {
				t.Errorf("stack settings %v, want %v", p.stackSets, tc.sets)
			}
			r, err := p.deploymentRange()
			if err != nil {
				t.Fatal(err)
			}
			if r.Limit != tc.limit || len(r.Lanes) != tc.lanes {
				t.Errorf("limit %v, %d lanes; want %v, %d", r.Limit, len(r.Lanes), tc.limit, tc.lanes)
			}
			if got := clientTimeoutFor(r, 0, false); got != tc.client {
				t.Errorf("client timeout %v, want %v", got, tc.client)
			}
			if got := clientTimeoutFor(r, time.Minute, true); got != time.Minute {
				t.Errorf("--timeout 1m gave %v", got)
			}
		})
	}
}
