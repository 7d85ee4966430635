package fbcli

import (
	"fmt"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/faas-benchmarker/faas-benchmarker/localfaas"
)

// localFlagPrefix turns a local-platform knob into its flag:
// --local-idle-timeout sets the knob idle-timeout (localfaas.Knobs).
const localFlagPrefix = "local-"

// localFlags are the --local-* flags of `experiment` and `local serve`,
// one per localfaas.Knobs row, with the knob's default.
func localFlags() []cli.Flag {
	d := localfaas.DefaultConfig()
	d.Functions = localfaas.DefaultFunctions(nil)
	cat := "local platform"
	var out []cli.Flag
	for _, k := range localfaas.Knobs() {
		name, usage, v := localFlagPrefix+k.Name, k.Usage, k.Get(d)
		switch k.Kind {
		case localfaas.KnobDuration:
			out = append(out, &cli.DurationFlag{Name: name, Value: v.(time.Duration), Usage: usage, Category: cat})
		case localfaas.KnobFloat:
			out = append(out, &cli.Float64Flag{Name: name, Value: v.(float64), Usage: usage, Category: cat})
		case localfaas.KnobInt:
			out = append(out, &cli.IntFlag{Name: name, Value: v.(int), Usage: usage, Category: cat})
		case localfaas.KnobUint:
			out = append(out, &cli.Uint64Flag{Name: name, Value: v.(uint64), Usage: usage, Category: cat})
		case localfaas.KnobBool:
			out = append(out, &cli.BoolFlag{Name: name, Value: v.(bool), Usage: usage, Category: cat})
		default:
			out = append(out, &cli.StringFlag{Name: name, Value: fmt.Sprint(v), Usage: usage, Category: cat})
		}
	}
	return out
}

// localConfig builds the platform configuration from the flags, deploying
// the lab functions run by fbrun-lab or this very binary (labCommands).
func localConfig(c *cli.Context) (localfaas.Config, error) {
	lambdaCmd, httpCmd, err := labCommands()
	if err != nil {
		return localfaas.Config{}, err
	}
	cfg := localfaas.DefaultConfig()
	cfg.Functions = localfaas.DefaultFunctions(lambdaCmd)
	cfg.CodeCatalog = localfaas.DefaultCodeCatalog(lambdaCmd, httpCmd)
	for _, k := range localfaas.Knobs() {
		if err := k.Set(&cfg, c.Value(localFlagPrefix+k.Name)); err != nil {
			return cfg, err
		}
	}
	if err := cfg.Validate(); err != nil {
		return cfg, usageError("local platform: %v", err)
	}
	return cfg, nil
}
