package fbcli

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"
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
		// Global flags after the command move before it.
		{[]string{"fbrun", "experiment", "smoke", "--db", "x.db"}, []string{"fbrun", "--db", "x.db", "experiment", "smoke"}},
		{[]string{"fbrun", "experiment", "smoke", "--db=x.db", "--json", "--log-level", "debug"},
			[]string{"fbrun", "--db=x.db", "--log-level", "debug", "experiment", "--json", "smoke"}},
		{[]string{"fbrun", "--log-level", "info", "runs", "--db", "x.db", "--platform", "aws"},
			[]string{"fbrun", "--log-level", "info", "--db", "x.db", "runs", "--platform", "aws"}},
		{[]string{"fbrun", "runs", "close", "r1", "--db", "x.db", "--crashed"}, []string{"fbrun", "--db", "x.db", "runs", "close", "--crashed", "r1"}},
		{[]string{"fbrun", "report", "-o", "r.html", "--log-level=debug"}, []string{"fbrun", "--log-level=debug", "report", "-o", "r.html"}},
		// ... but not into a command that skips flag parsing, nor after "--".
		{[]string{"fbrun", "lab-runtime", "http", "--db", "x"}, []string{"fbrun", "lab-runtime", "http", "--db", "x"}},
		{[]string{"fbrun", "experiment", "smoke", "--", "--db", "x"}, []string{"fbrun", "experiment", "smoke", "--", "--db", "x"}},
	}
	for _, tc := range tests {
		if got, err := interspersed(app, tc.in); err != nil || fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("interspersed(%v) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

// TestUsageErrors: a flag mistake is one line with exit code 2, naming the
// closest flag when one is close, and no help is printed.
func TestUsageErrors(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"experiment", "smoke", "--dbb", "x.db"}, "unknown flag --dbb for fbrun experiment: did you mean --db?"},
		{[]string{"experiment", "smoke", "--platfrom", "aws"}, "unknown flag --platfrom for fbrun experiment: did you mean --platform?"},
		{[]string{"experiment", "smoke", "--local-idle-timeot", "1s"}, "did you mean --local-idle-timeout?"},
		{[]string{"--lg-level", "debug", "runs"}, "unknown flag --lg-level for fbrun: did you mean --log-level?"},
		{[]string{"runs", "close", "--crashd"}, "unknown flag --crashd for fbrun runs close: did you mean --crashed?"},
		{[]string{"experiment", "smoke", "--zzzzqq"}, "unknown flag --zzzzqq for fbrun experiment (see fbrun experiment --help)"},
		{[]string{"experiment", "smoke", "--timeout", "soon"}, `invalid value "soon" for flag --timeout`},
		{[]string{"experiment", "smoke", "--timeout"}, "flag needs an argument: --timeout"},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			app := newApp()
			app.ExitErrHandler = func(*cli.Context, error) {}
			withOneLineUsageErrors(app)
			var out, errb bytes.Buffer
			app.Writer, app.ErrWriter = &out, &errb
			args, err := interspersed(app, append([]string{"fbrun"}, tc.args...))
			if err == nil {
				err = app.Run(args)
			}
			var ec cli.ExitCoder
			if !errors.As(err, &ec) || ec.ExitCode() != 2 {
				t.Fatalf("err = %v, want exit code 2", err)
			}
			if msg := err.Error(); !strings.Contains(msg, tc.want) || strings.Contains(msg, "\n") {
				t.Errorf("message %q, want one line containing %q", msg, tc.want)
			}
			if out.Len()+errb.Len() > 0 {
				t.Errorf("printed besides the error:\n%s%s", out.String(), errb.String())
			}
		})
	}
}

func TestClosestCommand(t *testing.T) {
	cmds := newApp().Commands
	for in, want := range map[string]string{"experimnt": "experiment", "expriments": "experiments", "clenup": "cleanup", "lab-runtim": "", "frobnicate": ""} {
		if got := closestCommand(in, cmds); got != want {
			t.Errorf("closestCommand(%q) = %q, want %q", in, got, want)
		}
	}
}
