package fbcli

import (
	"context"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/faas-benchmarker/faas-benchmarker/localfaas"
	"github.com/faas-benchmarker/faas-benchmarker/providers"
	"github.com/faas-benchmarker/faas-benchmarker/providers/aws"
	"github.com/faas-benchmarker/faas-benchmarker/providers/azure"
	fbhttp "github.com/faas-benchmarker/faas-benchmarker/providers/http"
	"github.com/faas-benchmarker/faas-benchmarker/providers/local"
	"github.com/faas-benchmarker/faas-benchmarker/providers/openfaas"
)

// platformNames lists the values of --platform.
var platformNames = []string{"local", "aws", "azure", "openfaas", "http", PlatformLocalStack}

// Flags that point at an existing deployment (no stack is managed).
const (
	flagLocalEndpoint = "local-endpoint"
	flagFunction      = "function"
	flagEndpoint      = "endpoint"
	flagRegion        = "region"
)

func platformFlags() []cli.Flag {
	cat := "platform"
	return []cli.Flag{
		&cli.StringFlag{Name: flagLocalEndpoint, Usage: "use a running `fbrun local serve` at `URL` instead of embedding one", Category: cat},
		&cli.StringSliceFlag{Name: flagFunction, Usage: "map a lab function to a deployment: `NAME=TARGET` (aws/openfaas: deployed name or ARN; azure/http: URL)", Category: cat},
		&cli.StringFlag{Name: flagEndpoint, Usage: "aws: Lambda endpoint override; openfaas: gateway `URL`; http: URL template with {name}", Category: cat},
		&cli.StringFlag{Name: flagRegion, Usage: "aws: region (default: the AWS SDK's default chain)", Category: cat},
	}
}

// platformSetup is a ready platform: an invoker and how to release it.
type platformSetup struct {
	name    string
	invoker providers.Invoker
	config  map[string]any
	banner  string
	close   func()
}

// setupPlatform builds the invoker for --platform. For local it starts the
// embedded platform unless --local-endpoint names a running one.
func setupPlatform(c *cli.Context, logger *slog.Logger) (*platformSetup, error) {
	name := c.String(flagPlatform)
	fmap, err := parseSets(c.StringSlice(flagFunction))
	if err != nil {
		return nil, usageError("%v", strings.Replace(err.Error(), "--set", "--function", 1))
	}
	switch name {
	case "local":
		return setupLocal(c, logger, fmap)
	case "aws":
		cfg := aws.NewDefaultConfig()
		cfg.Functions, cfg.Logger = fmap, logger
		if v := c.String(flagRegion); v != "" {
			cfg.Region = v
		}
		if v := c.String(flagEndpoint); v != "" {
			cfg.Endpoint = v
		}
		p, err := aws.New(cfg)
		if err != nil {
			return nil, cli.Exit(err.Error(), 1)
		}
		if err := checkAWSCredentials(c.Context, p); err != nil {
			return nil, err
		}
		return &platformSetup{name: name, invoker: p, config: map[string]any{"region": cfg.Region, "functions": fmap}, close: func() {}}, nil
	case "azure":
		cfg := azure.NewDefaultConfig()
		if cfg.Functions == nil {
			cfg.Functions = map[string]azure.Function{}
		}
		for k, v := range fmap {
			f := cfg.Functions[k]
			f.URL = v
			cfg.Functions[k] = f
		}
		p, err := azure.New(cfg)
		if err != nil {
			return nil, cli.Exit(err.Error(), 1)
		}
		return &platformSetup{name: name, invoker: p, config: map[string]any{"functions": keys(fmap)}, close: func() {}}, nil
	case "openfaas":
		cfg := openfaas.NewDefaultConfig()
		if v := c.String(flagEndpoint); v != "" {
			cfg.GatewayURL = v
		}
		cfg.Functions = fmap
		p, err := openfaas.New(cfg)
		if err != nil {
			return nil, cli.Exit(err.Error(), 1)
		}
		return &platformSetup{name: name, invoker: p, config: map[string]any{"gateway": cfg.GatewayURL}, close: func() {}}, nil
	case "http":
		cfg := fbhttp.NewDefaultConfig()
		if v := c.String(flagEndpoint); v != "" {
			cfg.URLTemplate = v
		}
		if len(fmap) > 0 {
			cfg.URLs = fmap
		}
		p, err := fbhttp.New(cfg)
		if err != nil {
			return nil, cli.Exit(err.Error(), 1)
		}
		return &platformSetup{name: name, invoker: p, config: map[string]any{"url_template": cfg.URLTemplate}, close: func() {}}, nil
	default:
		return nil, usageError("unknown platform %q (known: %s)", name, strings.Join(platformNames, ", "))
	}
}

func keys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func setupLocal(c *cli.Context, logger *slog.Logger, fmap map[string]string) (*platformSetup, error) {
	if ep := c.String(flagLocalEndpoint); ep != "" {
		p, err := local.New(local.Config{Endpoint: ep, Functions: fmap, Logger: logger})
		if err != nil {
			return nil, cli.Exit(err.Error(), 1)
		}
		return &platformSetup{name: "local", invoker: p, config: map[string]any{"endpoint": ep}, close: func() {}}, nil
	}
	lp, err := startLocal(c, logger)
	if err != nil {
		return nil, err
	}
	plat, cfg, closePlat := lp.plat, lp.cfg, lp.close
	p, err := local.New(local.Config{Endpoint: plat.URL(), Functions: fmap, Logger: logger})
	if err != nil {
		closePlat()
		return nil, cli.Exit(err.Error(), 1)
	}
	return &platformSetup{
		name: "local", invoker: p, close: closePlat,
		config: localConfigMap(cfg),
		banner: "embedded local platform at " + plat.URL() + "\n" + cfg.Describe() + "\n",
	}, nil
}

// localConfigMap records the ground-truth knobs with the run.
func localConfigMap(cfg localfaas.Config) map[string]any {
	return map[string]any{
		"idle_timeout_s":      cfg.IdleTimeout.Seconds(),
		"idle_jitter_s":       cfg.IdleJitter.Seconds(),
		"idle_evict_fraction": cfg.IdleEvictFraction,
		"max_lifetime_s":      cfg.MaxLifetime.Seconds(),
		"max_instances":       cfg.MaxInstances,
		"scale_burst":         cfg.ScaleBurst,
		"scale_rate_per_s":    cfg.ScaleRate,
		"extra_init_delay_s":  cfg.ExtraInitDelay.Seconds(),
		"seed":                cfg.Seed,
	}
}

// checkAWSCredentials fails fast, before a run is created, when the AWS
// default chain yields no credentials: otherwise every invocation of the run
// would fail the same way.
func checkAWSCredentials(ctx context.Context, p *aws.Provider) error {
	creds := p.Client().Options().Credentials
	if creds == nil {
		return cli.Exit("aws: no credentials configured: set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY", 1)
	}
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if _, err := creds.Retrieve(ctx); err != nil {
		return cli.Exit(fmt.Sprintf("aws: no usable credentials (set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or run aws configure): %v", err), 1)
	}
	return nil
}

// localPlatform is a started embedded platform.
type localPlatform struct {
	plat  *localfaas.Platform
	cfg   localfaas.Config
	url   string
	close func()
}

// startLocal starts the embedded platform configured by the --local-* flags.
func startLocal(c *cli.Context, logger *slog.Logger) (*localPlatform, error) {
	cfg, err := localConfig(c)
	if err != nil {
		return nil, err
	}
	cfg.Logger = logger
	plat, err := localfaas.New(cfg)
	if err != nil {
		return nil, cli.Exit(fmt.Sprintf("local platform: %v", err), 1)
	}
	if err := plat.Start(c.Context); err != nil {
		return nil, cli.Exit(fmt.Sprintf("local platform: %v", err), 1)
	}
	closePlat := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := plat.Close(ctx); err != nil {
			logger.Error("closing the local platform", "err", err)
		}
	}
	return &localPlatform{plat: plat, cfg: cfg, url: plat.URL(), close: closePlat}, nil
}
