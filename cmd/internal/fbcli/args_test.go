package fbcli

import (
	"fmt"
	"testing"
)

func TestInterspersed(t *testing.T) {
	app := newApp()
	tests := []struct{ in, want []string }{
		{[]string{"fbrun", "experiment", "smoke", "--json"}, []string{"fbrun", "experiment", "--json", "smoke"}},
		{[]string{"fbrun", "--db", "x.db", "experiment", "smoke", "--set", "a=1", "-p", "local"},
			[]string{"fbrun", "--db", "x.db", "experiment", "--set", "a=1", "-p", "local", "smoke"}},
		{[]string{"fbrun", "experiment", "--json", "smoke"}, []string{"fbrun", "experiment", "--json", "smoke"}},
		{[]string{"fbrun", "local", "serve", "--local-addr", "127.0.0.1:9"}, []string{"fbrun", "local", "serve", "--local-addr", "127.0.0.1:9"}},
		{[]string{"fbrun", "lab-runtime", "lambda", "--x"}, []string{"fbrun", "lab-runtime", "lambda", "--x"}},
		{[]string{"fbrun", "experiment", "smoke", "--", "--json"}, []string{"fbrun", "experiment", "smoke", "--", "--json"}},
		{[]string{"fbrun"}, []string{"fbrun"}},
	}
	for _, tc := range tests {
		if got := interspersed(app, tc.in); fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("interspersed(%v) = %v, want %v", tc.in, got, tc.want)
		}
	}
}
