package stackcfg

import (
	"strings"
	"testing"
)

// TestLambdaEnvRefused: fb:env may not set a key Lambda reserves, nor make
// the functions' environment exceed Lambda's 4 KB (measured with the
// FB_COLD_TOKEN a forced cold start adds); both are refused by Validate,
// before any resource exists.
func TestLambdaEnvRefused(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want string // "" = valid
	}{
		{"ordinary", map[string]string{"GOGC": "off", "LANG": "C.UTF-8"}, ""},
		{"reserved region", map[string]string{"AWS_REGION": "us-east-1"}, `"AWS_REGION" is reserved by Lambda`},
		{"reserved handler", map[string]string{"_HANDLER": "x"}, `"_HANDLER" is reserved by Lambda`},
		{"reserved credentials", map[string]string{"AWS_SECRET_ACCESS_KEY": "x"}, "reserved by Lambda"},
		{"just fits", map[string]string{"PAD": strings.Repeat("x", 3700)}, ""},
		{"over 4 KB", map[string]string{"PAD": strings.Repeat("x", 4000)}, "over Lambda's 4 KB"},
		{"over 4 KB only with the cold token", map[string]string{"PAD": strings.Repeat("x", 4096-baseSize(t)-len(`,"PAD":""`)-10)}, "with FB_COLD_TOKEN"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := DefaultAWS()
			c.Env = tt.env
			err := c.Validate()
			if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
				t.Fatalf("Validate = %v, want %q", err, tt.want)
			}
			if tt.want != "" && !strings.Contains(err.Error(), "fb:env") {
				t.Errorf("error %v does not name fb:env", err)
			}
		})
	}
}

// baseSize is the largest environment of the default stack without fb:env.
func baseSize(t *testing.T) int {
	c := DefaultAWS()
	n := 0
	for _, lab := range c.Functions {
		n = max(n, LambdaEnvSize(c.LambdaEnv(lab)))
	}
	if n < 100 || n > 1000 {
		t.Fatalf("default environment of %d bytes", n)
	}
	return n
}
