package fbcli

import (
	"slices"
	"testing"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/faas-benchmarker/faas-benchmarker/cmd/internal/cloudplan"
)

// TestCloudPlanCarriesTheRun: what `fbrun experiment` hands the cloud half
// for a stack deployed for the run is the run as resolved — the
// experiment's stack settings under --stack-set, the parameters resolved
// on that deployment and the client timeout that fits it — parsed from the
// real command line (the experiment command's flags, its action stopped
// before anything starts).
func TestCloudPlanCarriesTheRun(t *testing.T) {
	for _, tc := range []struct {
		name    string
		args    []string
		sets    []string
		stagger string
		timeout time.Duration
	}{
		{"idle-timeout's defaults", nil, []string{"lanes=12", "timeout=800"}, "10m0s", 830 * time.Second},
		{"the user's timeout", []string{"--stack-set", "timeout=60"}, []string{"lanes=12", "timeout=800", "timeout=60"}, "45s", 5 * time.Minute},
		{"the user's client timeout", []string{"--timeout", "20m"}, []string{"lanes=12", "timeout=800"}, "10m0s", 20 * time.Minute},
		{"the user's functions: no lanes", []string{"--stack-set", "functions=function1,monolith"}, []string{"timeout=800", "functions=function1,monolith"}, "10m0s", 830 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got cloudplan.Plan
			app := newApp()
			app.ExitErrHandler = func(*cli.Context, error) {} // an error is returned, never os.Exit
			for _, cmd := range app.Commands {
				if cmd.Name == experimentCommandName {
					cmd.Action = func(c *cli.Context) error {
						plan, in, err := resolveRun(c)
						if err == nil {
							got = cloudPlan(c, in.run(plan), false)
						}
						return err
					}
				}
			}
			args := append(append([]string{"fbrun", "--db", t.TempDir() + "/r.db", "experiment", "--platform", "aws"}, tc.args...), "idle-timeout")
			if err := app.Run(args); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got.StackSets, tc.sets) || got.Params["max_stagger"] != tc.stagger || got.TimeoutNS != tc.timeout {
				t.Errorf("plan: stack %v, max_stagger %s, timeout %v; want %v, %s, %v", got.StackSets, got.Params["max_stagger"], got.TimeoutNS, tc.sets, tc.stagger, tc.timeout)
			}
		})
	}
}
