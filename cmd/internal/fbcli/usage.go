package fbcli

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/urfave/cli/v2"
	"github.com/xrash/smetrics"

	"github.com/faas-benchmarker/faas-benchmarker/internal/exitcode"
)

// withOneLineUsageErrors makes every flag mistake of app and its commands
// one line with exit code 2 (the closest flag name when there is one)
// instead of urfave/cli's "Incorrect Usage" and the whole help.
func withOneLineUsageErrors(app *cli.App) {
	app.OnUsageError = usageErrorFor("fbrun", app.Flags, nil)
	var walk func(path string, cmds []*cli.Command)
	walk = func(path string, cmds []*cli.Command) {
		for _, c := range cmds {
			p := path + " " + c.Name
			if c.OnUsageError == nil {
				c.OnUsageError = usageErrorFor(p, c.Flags, app.Flags)
			}
			walk(p, c.Subcommands)
		}
	}
	walk("fbrun", app.Commands)
}

// The flag package's messages name flags with one dash.
var (
	reNotDefined = regexp.MustCompile(`^flag provided but not defined: -+(.+)$`)
	reFlagName   = regexp.MustCompile(`(flag|for) -([A-Za-z][-A-Za-z0-9]+)`)
)

// usageErrorFor turns a flag parsing error of the command at path into one
// line. globals are the flags also accepted after the command.
func usageErrorFor(path string, flags, globals []cli.Flag) cli.OnUsageErrorFunc {
	return func(_ *cli.Context, err error, _ bool) error {
		msg := err.Error()
		if m := reNotDefined.FindStringSubmatch(msg); m != nil {
			name := m[1]
			if s := closestFlag(name, append(append([]cli.Flag{}, flags...), globals...)); s != "" {
				return cli.Exit(fmt.Sprintf("unknown flag %s for %s: did you mean %s?", dashed(name), path, dashed(s)), exitcode.Usage)
			}
			return cli.Exit(fmt.Sprintf("unknown flag %s for %s (see %s --help)", dashed(name), path, path), exitcode.Usage)
		}
		msg = reFlagName.ReplaceAllStringFunc(msg, func(s string) string {
			m := reFlagName.FindStringSubmatch(s)
			return m[1] + " " + dashed(m[2])
		})
		return cli.Exit(msg, exitcode.Usage)
	}
}

func dashed(name string) string {
	if len(name) == 1 {
		return "-" + name
	}
	return "--" + name
}

// minSimilarity is the Jaro-Winkler similarity below which no flag is
// suggested: "--db" for "--dbb" (0.93) or "--platfrom" for "--platform"
// (0.97), nothing for an unrelated word.
const minSimilarity = 0.8

// closestCommand returns the visible command name most similar to name,
// or "" when none is similar enough.
func closestCommand(name string, cmds []*cli.Command) string {
	var names []string
	for _, c := range cmds {
		if !c.Hidden {
			names = append(names, c.Names()...)
		}
	}
	return closest(name, names)
}

// closestFlag returns the flag name most similar to name (Jaro-Winkler,
// the measure urfave/cli uses for its own suggestions), or "" when none is
// similar enough.
func closestFlag(name string, flags []cli.Flag) string {
	var names []string
	for _, f := range flags {
		names = append(names, f.Names()...)
	}
	return closest(name, names)
}

func closest(name string, names []string) string {
	best, bestScore := "", 0.0
	for _, n := range names {
		if s := smetrics.JaroWinkler(strings.ToLower(name), n, 0.7, 4); s > bestScore {
			best, bestScore = n, s
		}
	}
	if bestScore < minSimilarity {
		return ""
	}
	return best
}
