package fbcli

import (
	"context"
	"fmt"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/faas-benchmarker/faas-benchmarker/localfaas"
)

func localCommand() *cli.Command {
	serveFlags := append([]cli.Flag{}, localFlags()...)
	return &cli.Command{
		Name:  "local",
		Usage: "the embedded local FaaS platform",
		Subcommands: []*cli.Command{{
			Name:  "serve",
			Usage: "serve the local platform (Lambda Invoke/configuration API and an OpenFaaS-style gateway) until Ctrl-C",
			Description: "Deploys function1, function2, function3 and monolith, run by this fbrun binary as separate\n" +
				"processes (one per instance), and serves them on --local-addr. Point experiments at it with\n" +
				"fbrun experiment NAME --local-endpoint URL, or any AWS SDK with its endpoint set to URL.",
			Flags:  serveFlags,
			Action: localServeAction,
		}},
	}
}

func localServeAction(c *cli.Context) error {
	logger, err := newLogger(c, c.App.ErrWriter)
	if err != nil {
		return err
	}
	cfg, err := localConfig(c)
	if err != nil {
		return err
	}
	if cfg.Addr == localfaas.DefaultConfig().Addr && !c.IsSet(localFlagPrefix+"addr") {
		cfg.Addr = "127.0.0.1:9001"
	}
	cfg.Logger = logger
	plat, err := localfaas.New(cfg)
	if err != nil {
		return cli.Exit(fmt.Sprintf("local platform: %v", err), 1)
	}
	if err := plat.Start(c.Context); err != nil {
		return cli.Exit(fmt.Sprintf("local platform: %v", err), 1)
	}
	fmt.Fprintf(c.App.ErrWriter, "local platform serving at %s (functions: %v)\n%s", plat.URL(), plat.Functions(), cfg.Describe())
	fmt.Fprintf(c.App.Writer, "%s\n", plat.URL())
	<-c.Context.Done()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	fmt.Fprintln(c.App.ErrWriter, "shutting down: stopping every instance")
	if err := plat.Close(ctx); err != nil {
		return cli.Exit(fmt.Sprintf("local platform shutdown: %v", err), 1)
	}
	return nil
}
