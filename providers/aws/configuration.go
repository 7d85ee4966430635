package aws

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/faas-benchmarker/faas-benchmarker/providers"
)

// maxUpdateAttempts bounds the configuration updates tried per change
// when Lambda answers PreconditionFailedException or
// ResourceConflictException.
const maxUpdateAttempts = 5

// updateConfiguration changes a function's configuration without
// overwriting anybody else's change: it reads the configuration (waiting
// first for an update in progress), lets change build the update from it
// (nil: nothing to change), sends the update with the RevisionId it read,
// and waits until Lambda reports the update done.
//
// Lambda API reference, UpdateFunctionConfiguration
// (https://docs.aws.amazon.com/lambda/latest/api/API_UpdateFunctionConfiguration.html):
// RevisionId "Update the function only if the revision ID matches the ID
// that's specified"; a mismatch is PreconditionFailedException (HTTP 412:
// "call GetFunction ... to retrieve the latest RevisionId"), and an update
// while another is in progress is ResourceConflictException (HTTP 409:
// "The resource already exists, or another operation is in progress").
// Both are retried from a fresh read, a conflict after waiting for the
// running update, at most maxUpdateAttempts times in all.
//
// The first read of each function records its memory size, which
// Restore puts back.
func (p *Provider) updateConfiguration(ctx context.Context, function, step string,
	change func(*lambda.GetFunctionConfigurationOutput) (*lambda.UpdateFunctionConfigurationInput, error)) error {
	name := sdkaws.String(function)
	for attempt := 1; ; attempt++ {
		conf, err := p.client.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: name})
		if err != nil {
			return p.classify(ctx, err, step+": get configuration")
		}
		if conf.LastUpdateStatus == types.LastUpdateStatusInProgress {
			if err := p.waitUpdated(ctx, name); err != nil {
				return p.classify(ctx, err, step+": wait for earlier update")
			}
			if conf, err = p.client.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: name}); err != nil {
				return p.classify(ctx, err, step+": get configuration")
			}
		}
		p.mu.Lock()
		if _, seen := p.memory[function]; !seen && conf.MemorySize != nil {
			p.memory[function] = *conf.MemorySize
		}
		p.mu.Unlock()
		in, err := change(conf)
		if err != nil || in == nil {
			return err
		}
		in.FunctionName, in.RevisionId = name, conf.RevisionId
		_, err = p.client.UpdateFunctionConfiguration(ctx, in)
		if err == nil {
			if err := p.waitUpdated(ctx, name); err != nil {
				return p.classify(ctx, err, step+": wait for update")
			}
			return nil
		}
		var (
			stale    *types.PreconditionFailedException
			conflict *types.ResourceConflictException
		)
		retry := errors.As(err, &stale) || errors.As(err, &conflict)
		if !retry || attempt >= maxUpdateAttempts {
			return p.classify(ctx, err, fmt.Sprintf("%s: update configuration (attempt %d)", step, attempt))
		}
		p.log.Debug("Lambda configuration update refused, retrying", "platform", p.name, "function", function, "attempt", attempt, "err", err)
		if conflict != nil {
			if err := p.waitUpdated(ctx, name); err != nil {
				return p.classify(ctx, err, step+": wait for the conflicting update")
			}
		}
	}
}

// Restore puts back what ForceColdStart and SetMemory changed on each
// function they touched: the memory size it had before the first change,
// and its environment without FB_COLD_TOKEN (every other variable as it
// is now, so a change someone else made meanwhile is kept). Updates carry
// the RevisionId (see updateConfiguration). The direct path (--function:
// the user's own functions) calls it when the run ends, also after an
// interrupt, with a context that was not cancelled; a stack's functions
// are deleted instead. Each function gets at most ColdStartTimeout. The
// error names every function left changed and what is left.
func (p *Provider) Restore(ctx context.Context) error {
	p.mu.Lock()
	names := make([]string, 0, len(p.memory))
	for n := range p.memory {
		names = append(names, n)
	}
	p.mu.Unlock()
	sort.Strings(names)
	var errs []error
	for _, name := range names {
		p.mu.Lock()
		mem := p.memory[name]
		p.mu.Unlock()
		if err := p.restore(ctx, name, mem); err != nil {
			errs = append(errs, fmt.Errorf("function %s may still hold %s and a memory size other than %d MB: %w", name, ColdTokenEnv, mem, err))
			continue
		}
		p.mu.Lock()
		delete(p.memory, name)
		p.mu.Unlock()
	}
	if len(errs) > 0 {
		return fmt.Errorf("%s: restore: %w", p.name, errors.Join(errs...))
	}
	return nil
}

func (p *Provider) restore(ctx context.Context, name string, memoryMB int32) error {
	ctx, cancel := context.WithTimeout(ctx, p.cfg.ColdStartTimeout)
	defer cancel()
	step := "restore " + name
	return p.updateConfiguration(ctx, name, step, func(conf *lambda.GetFunctionConfigurationOutput) (*lambda.UpdateFunctionConfigurationInput, error) {
		in := &lambda.UpdateFunctionConfigurationInput{}
		changed := false
		if conf.Environment != nil && conf.Environment.Error == nil {
			if _, ok := conf.Environment.Variables[ColdTokenEnv]; ok {
				env, err := p.environment(conf, step)
				if err != nil {
					return nil, err
				}
				delete(env, ColdTokenEnv)
				in.Environment, changed = &types.Environment{Variables: env}, true
			}
		}
		if conf.MemorySize == nil || *conf.MemorySize != memoryMB {
			in.MemorySize, changed = sdkaws.Int32(memoryMB), true
		}
		if !changed {
			return nil, nil
		}
		p.log.Info("restoring the function's configuration", "platform", p.name, "function", name, "memory_mb", memoryMB)
		return in, nil
	})
}

// Architecture returns function's Lambda architecture: Config.Architecture
// when set (a stack's output), otherwise the first entry of Architectures
// in its configuration (GetFunctionConfiguration), read once per function.
// A function that reports none runs on Lambda's default, x86_64
// (https://docs.aws.amazon.com/lambda/latest/dg/foundation-arch.html).
func (p *Provider) Architecture(ctx context.Context, function string) (string, error) {
	if a := p.cfg.Architecture; a != "" {
		return a, nil
	}
	name := p.deployed(function)
	p.mu.Lock()
	a, ok := p.arch[name]
	p.mu.Unlock()
	if ok {
		return a, nil
	}
	conf, err := p.client.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: sdkaws.String(name)})
	if err != nil {
		return "", p.classify(ctx, err, "architecture of "+function)
	}
	a = string(types.ArchitectureX8664)
	if len(conf.Architectures) > 0 {
		a = strings.TrimSpace(string(conf.Architectures[0]))
	}
	p.mu.Lock()
	p.arch[name] = a
	p.mu.Unlock()
	return a, nil
}

// ConcurrencyLimits reads the account's concurrency in the region
// (GetAccountSettings: AccountLimit.ConcurrentExecutions and
// UnreservedConcurrentExecutions,
// https://docs.aws.amazon.com/lambda/latest/api/API_GetAccountSettings.html)
// and function's reserved concurrency (GetFunctionConcurrency,
// https://docs.aws.amazon.com/lambda/latest/api/API_GetFunctionConcurrency.html;
// an empty reply means none). A function whose reserved concurrency
// cannot be read (not allowed) counts as having none: the unreserved pool
// is then its limit, the stricter reading for an experiment that must not
// exhaust it.
func (p *Provider) ConcurrencyLimits(ctx context.Context, function string) (providers.ConcurrencyLimits, error) {
	var l providers.ConcurrencyLimits
	acc, err := p.client.GetAccountSettings(ctx, &lambda.GetAccountSettingsInput{})
	if err != nil {
		return l, p.classify(ctx, err, "GetAccountSettings")
	}
	if acc.AccountLimit == nil {
		return l, &providers.Error{Platform: p.name, Kind: providers.KindHTTP, Message: "GetAccountSettings returned no AccountLimit"}
	}
	l.Account = int(acc.AccountLimit.ConcurrentExecutions)
	l.Unreserved = int(sdkaws.ToInt32(acc.AccountLimit.UnreservedConcurrentExecutions))
	fc, err := p.client.GetFunctionConcurrency(ctx, &lambda.GetFunctionConcurrencyInput{FunctionName: sdkaws.String(p.deployed(function))})
	switch {
	case err != nil:
		p.log.Debug("reserved concurrency not readable; taking the unreserved pool as the limit", "platform", p.name, "function", function, "err", err)
	case fc.ReservedConcurrentExecutions != nil:
		l.Reserved, l.HasReserved = int(*fc.ReservedConcurrentExecutions), true
	}
	return l, nil
}
