package experiments

import (
	"math"
	"testing"
)

// TestFlexPrice: Flex Consumption on demand bills the instance memory at
// least 1,000 ms per execution, then in 100 ms steps (Microsoft Learn,
// "Azure Functions Flex Consumption plan hosting", Billing), at $0.000026
// per GB-s plus $0.40 per million executions.
func TestFlexPrice(t *testing.T) {
	p, err := PriceByName("azure-flex")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name          string
		billedMS, mem float64
		want          float64
	}{
		{"below the 1 s minimum", 20, 2048, 0.40/1e6 + 0.000026*1.0*2},
		{"rounded up to 100 ms", 1234, 512, 0.40/1e6 + 0.000026*1.3*0.5},
		{"exact step, 4 GB", 2000, 4096, 0.40/1e6 + 0.000026*2.0*4},
	} {
		if got := p.Cost(tc.billedMS, tc.mem); math.Abs(got-tc.want) > 1e-15 {
			t.Errorf("%s: %g, want %g", tc.name, got, tc.want)
		}
	}
}
