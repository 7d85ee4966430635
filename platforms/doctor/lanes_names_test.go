package doctor

import (
	"slices"
	"testing"
)

// TestAWSResourceNamesLanes: the permissions doctor simulates cover every
// function the stack deploys, lane copies too.
func TestAWSResourceNamesLanes(t *testing.T) {
	n := awsResourceNames([]string{"lanes=5"})
	if !slices.Contains(n.functions, "fb-adhoc-dev-lane5") {
		t.Errorf("functions simulated: %v", n.functions)
	}
}
