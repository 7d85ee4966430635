package platforms

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/faas-benchmarker/faas-benchmarker/localfaas"
	"github.com/faas-benchmarker/faas-benchmarker/providers"
)

// Local is an embedded local platform started for one run.
type Local struct {
	// Config is what it runs with (its knobs are stored with the run).
	Config localfaas.Config
	// URL is its Lambda API endpoint.
	URL    string
	plat   *localfaas.Platform
	logger *slog.Logger
}

// StartLocal starts the embedded local platform with cfg; Close stops it.
func StartLocal(ctx context.Context, cfg localfaas.Config, logger *slog.Logger) (*Local, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	cfg.Logger = logger
	plat, err := localfaas.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("local platform: %w", err)
	}
	if err := plat.Start(ctx); err != nil {
		return nil, fmt.Errorf("local platform: %w", err)
	}
	return &Local{Config: cfg, URL: plat.URL(), plat: plat, logger: logger}, nil
}

// Close stops the platform and its instances, waiting at most 10 s.
func (l *Local) Close() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := l.plat.Close(ctx); err != nil {
		l.logger.Error("closing the local platform", "err", err)
	}
}

// Opened is an existing deployment ready to invoke: its invoker, the
// configuration stored with the run (the platform's own and, for the
// embedded platform, its knobs), and what Close must undo.
type Opened struct {
	Invoker providers.Invoker
	Config  map[string]any
	// Local is the embedded platform started for the run, or nil.
	Local   *Local
	release func(context.Context) error
}

// Open builds the invoker of an existing deployment of p at t, first
// starting the embedded local platform with *local when it is not nil (its
// endpoint then replaces t.LocalEndpoint).
func (p Platform) Open(ctx context.Context, t Target, local *localfaas.Config) (*Opened, error) {
	if p.Direct == nil {
		return nil, fmt.Errorf("platform %s always deploys its own stack", p.Name)
	}
	o := &Opened{}
	if local != nil {
		lp, err := StartLocal(ctx, *local, t.Logger)
		if err != nil {
			return nil, err
		}
		o.Local, t.LocalEndpoint = lp, lp.URL
	}
	s, err := p.Direct(ctx, t)
	if err != nil {
		o.Close(ctx)
		return nil, err
	}
	o.Invoker, o.Config, o.release = s.Invoker, s.Config, s.Close
	if o.Config == nil {
		o.Config = map[string]any{}
	}
	if o.Local != nil {
		for k, v := range o.Local.Config.Stored() {
			o.Config[k] = v
		}
	}
	return o, nil
}

// Close undoes what the run changed on the deployment (also after Ctrl-C:
// it runs on a context that is not cancelled with ctx), then stops the
// embedded platform; it returns the error of the undo.
func (o *Opened) Close(ctx context.Context) error {
	var err error
	if o.release != nil {
		err = o.release(context.WithoutCancel(ctx))
	}
	if o.Local != nil {
		o.Local.Close()
	}
	return err
}
