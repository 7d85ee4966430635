package stacktest

import "github.com/pulumi/pulumi/sdk/v3/go/common/resource"

// ToStrings reads a list input as the mock monitor delivers it ([]any of
// strings, or []string) as []string; anything else is an empty list.
func ToStrings(v any) []string {
	if ss, ok := v.([]string); ok {
		return ss
	}
	xs, _ := v.([]any)
	out := make([]string, 0, len(xs))
	for _, x := range xs {
		s, _ := x.(string)
		out = append(out, s)
	}
	return out
}

// Unsecret returns the value inside a secret, or v itself when it is not
// one.
func Unsecret(v resource.PropertyValue) resource.PropertyValue {
	if v.IsSecret() {
		return v.SecretValue().Element
	}
	return v
}
