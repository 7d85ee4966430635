package fbcli

import (
	"strings"

	"github.com/urfave/cli/v2"
)

// interspersed reorders args so that flags given after a command's
// positional arguments still count: urfave/cli v2 stops parsing flags at the
// first positional argument, but users write `fbrun experiment smoke --json`.
// Global flags (--db, --log-level) given after the command move before it,
// unless the command defines a flag of the same name. Flags are recognised
// by their definitions (a boolean flag takes no value; others take the next
// token unless written --name=value); everything after "--" is left alone.
// A flag that needs a value but ends the command line is an error (left in
// place it would take a positional argument as its value).
func interspersed(app *cli.App, args []string) ([]string, error) {
	if len(args) < 2 {
		return args, nil
	}
	// Skip global flags to find the command.
	i := 1
	for i < len(args) && isFlag(args[i]) {
		if takesValue(app.Flags, args[i]) {
			i++
		}
		i++
	}
	if i >= len(args) {
		return args, nil
	}
	cmdStart := i
	cmds := app.Commands
	var cmd *cli.Command
	for i < len(args) {
		c := findCommand(cmds, args[i])
		if c == nil {
			break
		}
		cmd, cmds = c, c.Subcommands
		i++
	}
	if cmd == nil || cmd.SkipFlagParsing {
		return args, nil
	}
	var globals, flags, pos []string
	for j := i; j < len(args); j++ {
		a := args[j]
		switch {
		case a == "--":
			pos = append(pos, args[j:]...)
			j = len(args)
		case isFlag(a):
			dst, defs := &flags, cmd.Flags
			if !defines(cmd.Flags, a) && defines(app.Flags, a) {
				dst, defs = &globals, app.Flags
			}
			*dst = append(*dst, a)
			if takesValue(defs, a) {
				if j+1 >= len(args) {
					return nil, usageError("flag needs an argument: %s", dashed(flagName(a)))
				}
				j++
				*dst = append(*dst, args[j])
			}
		default:
			pos = append(pos, a)
		}
	}
	out := append([]string{}, args[:cmdStart]...)
	out = append(out, globals...)
	out = append(out, args[cmdStart:i]...)
	return append(append(out, flags...), pos...), nil
}

func isFlag(a string) bool { return strings.HasPrefix(a, "-") && a != "-" }

// flagName is the name in a flag token: "--name=v" -> "name".
func flagName(a string) string {
	name, _, _ := strings.Cut(strings.TrimLeft(a, "-"), "=")
	return name
}

// defines reports whether flags define the flag token a.
func defines(flags []cli.Flag, a string) bool {
	name := flagName(a)
	for _, f := range flags {
		for _, n := range f.Names() {
			if n == name {
				return true
			}
		}
	}
	return false
}

func findCommand(cmds []*cli.Command, name string) *cli.Command {
	for _, c := range cmds {
		if c.Name == name {
			return c
		}
		for _, a := range c.Aliases {
			if a == name {
				return c
			}
		}
	}
	return nil
}

// takesValue reports whether the flag token a ("-x", "--name", "--name=v")
// consumes the next token.
func takesValue(flags []cli.Flag, a string) bool {
	name := strings.TrimLeft(a, "-")
	if strings.Contains(name, "=") {
		return false
	}
	for _, f := range flags {
		for _, n := range f.Names() {
			if n != name {
				continue
			}
			if _, ok := f.(*cli.BoolFlag); ok {
				return false
			}
			return true
		}
	}
	return false // unknown flags are left for cli to report
}
