package fbcli

import (
	"time"

	"github.com/urfave/cli/v2"

	"github.com/faas-benchmarker/faas-benchmarker/localfaas"
)

// Local-platform knob flags, shared by `experiment` and `local serve`.
const (
	flagLocalAddr          = "local-addr"
	flagLocalIdleTimeout   = "local-idle-timeout"
	flagLocalIdleJitter    = "local-idle-jitter"
	flagLocalIdleSweep     = "local-idle-sweep"
	flagLocalSweepPhase    = "local-idle-sweep-phase"
	flagLocalPersistent    = "local-idle-persistent"
	flagLocalEvictFraction = "local-evict-fraction"
	flagLocalMaxLifetime   = "local-max-lifetime"
	flagLocalLifeJitter    = "local-max-lifetime-jitter"
	flagLocalMaxInstances  = "local-max-instances"
	flagLocalScaleBurst    = "local-scale-burst"
	flagLocalScaleRate     = "local-scale-rate"
	flagLocalInitDelay     = "local-init-delay"
	flagLocalTimeout       = "local-timeout"
	flagLocalMemory        = "local-memory"
	flagLocalSeed          = "local-seed"
	flagLocalFunctionLogs  = "local-function-logs"
)

func localFlags() []cli.Flag {
	d := localfaas.DefaultConfig()
	cat := "local platform"
	return []cli.Flag{
		&cli.StringFlag{Name: flagLocalAddr, Value: d.Addr, Usage: "listen address of the embedded platform (loopback only)", Category: cat},
		&cli.DurationFlag{Name: flagLocalIdleTimeout, Value: d.IdleTimeout, Usage: "evict instances idle longer than this (0: never)", Category: cat},
		&cli.DurationFlag{Name: flagLocalIdleJitter, Value: d.IdleJitter, Usage: "random extra idle time per idle period, uniform in [0, this)", Category: cat},
		&cli.DurationFlag{Name: flagLocalIdleSweep, Value: d.IdleSweep, Usage: "reclaim idle instances only by a sweep this often: evicted at the first sweep at or after the deadline (0: at the deadline)", Category: cat},
		&cli.DurationFlag{Name: flagLocalSweepPhase, Value: d.IdleSweepPhase, Usage: "phase of the idle sweeps: at start + phase + k·sweep, in [0, sweep)", Category: cat},
		&cli.BoolFlag{Name: flagLocalPersistent, Value: d.IdlePersistent, Usage: "draw the idle jitter once per instance: each instance keeps its own fixed timeout, uniform in [timeout, timeout + jitter)", Category: cat},
		&cli.Float64Flag{Name: flagLocalEvictFraction, Value: d.IdleEvictFraction, Usage: "probability an idle-expired instance is evicted (partial eviction)", Category: cat},
		&cli.DurationFlag{Name: flagLocalMaxLifetime, Value: d.MaxLifetime, Usage: "retire instances older than this once idle (0: never)", Category: cat},
		&cli.DurationFlag{Name: flagLocalLifeJitter, Value: d.MaxLifetimeJitter, Usage: "random extra lifetime per instance, uniform in [0, this)", Category: cat},
		&cli.IntFlag{Name: flagLocalMaxInstances, Value: d.MaxInstances, Usage: "maximum instances per function; beyond it requests get 429", Category: cat},
		&cli.IntFlag{Name: flagLocalScaleBurst, Value: d.ScaleBurst, Usage: "instances a function may create at once", Category: cat},
		&cli.Float64Flag{Name: flagLocalScaleRate, Value: d.ScaleRate, Usage: "new instances per second after the burst", Category: cat},
		&cli.DurationFlag{Name: flagLocalInitDelay, Value: d.ExtraInitDelay, Usage: "extra initialisation delay per instance (heavier runtimes)", Category: cat},
		&cli.DurationFlag{Name: flagLocalTimeout, Value: 30 * time.Second, Usage: "function timeout of the lab functions", Category: cat},
		&cli.IntFlag{Name: flagLocalMemory, Value: 128, Usage: "memory size (MB) of the lab functions", Category: cat},
		&cli.Uint64Flag{Name: flagLocalSeed, Value: d.Seed, Usage: "seed of jitter and partial eviction", Category: cat},
		&cli.BoolFlag{Name: flagLocalFunctionLogs, Usage: "copy the function instances' output to stderr", Category: cat},
	}
}

// localConfig builds the platform configuration from the flags, deploying
// the lab functions run by fbrun-lab or this very binary (labCommands).
func localConfig(c *cli.Context) (localfaas.Config, error) {
	lambdaCmd, httpCmd, err := labCommands()
	if err != nil {
		return localfaas.Config{}, err
	}
	cfg := localfaas.DefaultConfig()
	cfg.Addr = c.String(flagLocalAddr)
	cfg.IdleTimeout = c.Duration(flagLocalIdleTimeout)
	cfg.IdleJitter = c.Duration(flagLocalIdleJitter)
	cfg.IdleSweep = c.Duration(flagLocalIdleSweep)
	cfg.IdleSweepPhase = c.Duration(flagLocalSweepPhase)
	cfg.IdlePersistent = c.Bool(flagLocalPersistent)
	cfg.IdleEvictFraction = c.Float64(flagLocalEvictFraction)
	cfg.MaxLifetime = c.Duration(flagLocalMaxLifetime)
	cfg.MaxLifetimeJitter = c.Duration(flagLocalLifeJitter)
	cfg.MaxInstances = c.Int(flagLocalMaxInstances)
	cfg.ScaleBurst = c.Int(flagLocalScaleBurst)
	cfg.ScaleRate = c.Float64(flagLocalScaleRate)
	cfg.ExtraInitDelay = c.Duration(flagLocalInitDelay)
	cfg.Seed = c.Uint64(flagLocalSeed)
	cfg.Functions = localfaas.DefaultFunctions(lambdaCmd)
	for i := range cfg.Functions {
		cfg.Functions[i].Timeout = c.Duration(flagLocalTimeout)
		cfg.Functions[i].MemoryMB = c.Int(flagLocalMemory)
	}
	cfg.CodeCatalog = localfaas.DefaultCodeCatalog(lambdaCmd, httpCmd)
	if c.Bool(flagLocalFunctionLogs) {
		cfg.FunctionOutput = c.App.ErrWriter
	}
	if err := cfg.Validate(); err != nil {
		return cfg, usageError("local platform: %v", err)
	}
	return cfg, nil
}
