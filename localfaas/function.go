package localfaas

import (
	"maps"
	"slices"
	"sync"
	"time"
)

// functionMeta is what the Lambda configuration API reports besides the spec.
type functionMeta struct {
	handler      string
	runtimeName  string
	description  string
	role         string
	codeKey      string
	lastModified time.Time
	revisionID   string
}

// function is one deployed function and its pool of instances.
type function struct {
	p    *Platform
	name string // immutable copy of spec.Name

	mu        sync.Mutex
	spec      FunctionSpec
	meta      functionMeta
	instances map[*instance]struct{}
	// idle holds instances ready for a request; the last is the most
	// recently used and is reused first, like Lambda.
	idle   []*instance
	bucket *tokenBucket
	closed bool
}

func newFunction(p *Platform, spec FunctionSpec, meta functionMeta) *function {
	spec = p.withDefaults(spec)
	if meta.handler == "" {
		meta.handler = "bootstrap"
	}
	if meta.runtimeName == "" {
		meta.runtimeName = "provided.al2023"
	}
	meta.lastModified = time.Now()
	meta.revisionID = newRequestID()
	return &function{
		p:         p,
		name:      spec.Name,
		spec:      spec,
		meta:      meta,
		instances: map[*instance]struct{}{},
		bucket:    newTokenBucket(p.cfg.ScaleBurst, p.cfg.ScaleRate, time.Now()),
	}
}

// snapshot returns a copy of the spec and metadata.
func (f *function) snapshot() (FunctionSpec, functionMeta) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s := f.spec
	s.Env = maps.Clone(f.spec.Env)
	s.Command = slices.Clone(f.spec.Command)
	return s, f.meta
}

func (f *function) maxInstances() int {
	if f.spec.MaxInstances > 0 {
		return f.spec.MaxInstances
	}
	return f.p.cfg.MaxInstances
}

// acquire returns an instance reserved for one invocation: the most
// recently used idle one, or a new one when the concurrency limit and the
// scale-out rate allow. A new instance is still initialising.
func (f *function) acquire(requestID string) (*instance, *apiError) {
	f.mu.Lock()
	if f.closed {
		f.mu.Unlock()
		return nil, errNotFound(f.name)
	}
	// An instance past its eviction or retirement time is gone at that
	// time, whether or not the reaper has run: its timer fires late under
	// load (by up to hundreds of ms on a loaded 2-core machine), and
	// handing the instance out then would answer warm after the deadline.
	now := time.Now()
	expired := f.expireLocked(now)
	defer killVictims(expired)
	if n := len(f.idle); n > 0 {
		in := f.idle[n-1]
		f.idle[n-1] = nil
		f.idle = f.idle[:n-1]
		f.mu.Unlock()
		return in, nil
	}
	var reason string
	switch {
	case len(f.instances) >= f.maxInstances():
		reason = "ReservedFunctionConcurrentInvocationLimitExceeded"
	case !f.bucket.allow(now):
		reason = "FunctionInvocationRateLimitExceeded"
	}
	if reason != "" {
		name := f.spec.Name
		f.mu.Unlock()
		f.p.events.add(Event{Time: now, Kind: EventThrottled, Function: name, RequestID: requestID, Detail: reason})
		return nil, errThrottled(reason)
	}
	in := f.p.newInstance(f, f.spec)
	in.attached = true
	f.instances[in] = struct{}{}
	f.mu.Unlock()
	if err := in.start(); err != nil {
		f.detach(in)
		close(in.dead)
		f.p.log.Error("localfaas: cannot start instance", "function", in.spec.Name, "err", err)
		return nil, errService(err.Error())
	}
	return in, nil
}

// release returns an instance whose invocation finished (or was abandoned)
// to the idle pool, or retires it.
func (f *function) release(in *instance) {
	f.mu.Lock()
	if !in.attached {
		f.mu.Unlock()
		// Retired by a configuration update, delete or shutdown while busy.
		in.kill(ReasonConfigUpdate, "retired while busy")
		return
	}
	now := time.Now()
	if in.lifetime > 0 && now.Sub(in.created) >= in.lifetime {
		f.detachLocked(in)
		f.mu.Unlock()
		in.kill(ReasonLifetime, "older than max lifetime")
		return
	}
	in.idleDeadline, in.evictable = f.p.cfg.Eviction().EvictAt(now, f.p.sweepOrigin, in.ownDraw, f.p.randFloat)
	due := time.Time{}
	if in.evictable {
		due = in.idleDeadline
	}
	if in.lifetime > 0 && (due.IsZero() || in.created.Add(in.lifetime).Before(due)) {
		due = in.created.Add(in.lifetime)
	}
	f.idle = append(f.idle, in)
	f.mu.Unlock()
	if !due.IsZero() {
		f.p.wakeReaper(due)
	}
}

// detach removes in from the function's pool (idempotent).
func (f *function) detach(in *instance) {
	f.mu.Lock()
	f.detachLocked(in)
	f.mu.Unlock()
}

func (f *function) detachLocked(in *instance) {
	if !in.attached {
		return
	}
	in.attached = false
	delete(f.instances, in)
	if i := slices.Index(f.idle, in); i >= 0 {
		f.idle = slices.Delete(f.idle, i, i+1)
	}
}

// retire detaches every instance so the next invocation is cold: idle ones
// are killed now with reason, busy ones when their invocation ends (see
// release), or now too when killBusy. closed makes every later acquire
// fail. It returns the retired instances.
func (f *function) retire(reason EvictReason, killBusy, closed bool) []*instance {
	f.mu.Lock()
	all := make([]*instance, 0, len(f.instances))
	for in := range f.instances {
		all = append(all, in)
	}
	idle := slices.Clone(f.idle)
	for _, in := range all {
		f.detachLocked(in)
	}
	if closed {
		f.closed = true
	}
	f.mu.Unlock()
	for _, in := range idle {
		in.kill(reason, "")
	}
	if killBusy {
		for _, in := range all {
			in.kill(reason, "")
		}
	}
	return all
}

// reap evicts idle instances past their eviction time (see Eviction: the
// time already accounts for sweeps and partial eviction) or lifetime.
func (f *function) reap(now time.Time) {
	f.mu.Lock()
	victims := f.expireLocked(now)
	f.mu.Unlock()
	killVictims(victims)
}

// victim is an idle instance removed from its function's pool, to be
// killed with reason.
type victim struct {
	in     *instance
	reason EvictReason
}

// expireLocked detaches the idle instances due at now for eviction or
// retirement and returns them; the caller kills them (killVictims) once
// f.mu is released. f.mu must be held.
func (f *function) expireLocked(now time.Time) []victim {
	var victims []victim
	keep := f.idle[:0]
	for _, in := range f.idle {
		switch {
		case in.lifetime > 0 && now.Sub(in.created) >= in.lifetime:
			victims = append(victims, victim{in, ReasonLifetime})
		case in.evictable && !now.Before(in.idleDeadline):
			victims = append(victims, victim{in, ReasonIdle})
		default:
			keep = append(keep, in)
		}
	}
	clear(f.idle[len(keep):])
	f.idle = keep
	for _, v := range victims {
		v.in.attached = false
		delete(f.instances, v.in)
	}
	return victims
}

func killVictims(victims []victim) {
	for _, v := range victims {
		v.in.kill(v.reason, "")
	}
}

// nextDeadline returns the earliest moment an idle instance of f is due
// for eviction or retirement (ok false when none is).
func (f *function) nextDeadline() (next time.Time, ok bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, in := range f.idle {
		if in.evictable && (!ok || in.idleDeadline.Before(next)) {
			next, ok = in.idleDeadline, true
		}
		if in.lifetime > 0 {
			if d := in.created.Add(in.lifetime); !ok || d.Before(next) {
				next, ok = d, true
			}
		}
	}
	return next, ok
}

// counts returns the number of instances and idle instances.
func (f *function) counts() (total, idle int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.instances), len(f.idle)
}
