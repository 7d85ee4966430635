package experiments

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/faas-benchmarker/faas-benchmarker/internal/testtools"
	"github.com/faas-benchmarker/faas-benchmarker/localfaas"
	"github.com/faas-benchmarker/faas-benchmarker/providers"
	"github.com/faas-benchmarker/faas-benchmarker/stats/survival"
)

// simEnv is a simulated platform with a simulated clock: the local
// platform's eviction rules (localfaas.Eviction, the same code the embedded
// platform runs) applied to instances that serve one request at a time,
// most recently used first, with a fixed round trip and init time. The
// design under test is the real one (runIdleDesign); only the platform and
// the clock are simulated, so a 10-minute experiment takes milliseconds.
type simEnv struct {
	now     time.Duration
	model   localfaas.Eviction
	never   float64                       // share of instances never evicted
	own     func(u float64) time.Duration // per-instance fixed eviction time, or nil
	redraw  func(u float64) time.Duration // eviction time drawn every idle period, or nil
	epoch   time.Time                     // run time 0
	origin  time.Time                     // sweep phase
	rng     *rand.Rand
	rtt     time.Duration
	init    time.Duration
	idle    map[string][]*simInstance // per function, by release, most recent last
	pending []simPending
	nextID  int
	// busy are the requests' [arrival, end of the handler) on the
	// platform, for the peak of concurrent executions (peakBusy).
	busy [][2]time.Duration
}

// peakBusy is the most executions that ran at once during the run.
func (s *simEnv) peakBusy() int {
	type edge struct {
		t     time.Duration
		delta int
	}
	edges := make([]edge, 0, 2*len(s.busy))
	for _, b := range s.busy {
		edges = append(edges, edge{b[0], 1}, edge{b[1], -1})
	}
	// Ends before starts at one instant: an instance released and taken
	// again at once is one execution at a time.
	slices.SortFunc(edges, func(a, b edge) int {
		if a.t != b.t {
			return int(a.t - b.t)
		}
		return a.delta - b.delta
	})
	n, peak := 0, 0
	for _, e := range edges {
		n += e.delta
		peak = max(peak, n)
	}
	return peak
}

type simInstance struct {
	id        string
	ownDraw   float64 // drawn when it started
	never     bool
	release   time.Duration
	evictAt   time.Duration
	evictable bool
}

type simPending struct {
	done time.Duration
	res  *burstResult
}

func newSimEnv(model localfaas.Eviction, seed uint64) *simEnv {
	return newSimEnvOf(simModel{model: model}, seed)
}

// newSimEnvOf is the simulated platform of m.
func newSimEnvOf(m simModel, seed uint64) *simEnv {
	model := m.model
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	epoch := time.Unix(1_000_000, 0)
	phase := time.Duration(0)
	if model.Sweep > 0 {
		phase = time.Duration(rng.Int64N(int64(model.Sweep)))
	}
	return &simEnv{model: model, never: m.never, own: m.own, redraw: m.redraw, epoch: epoch, origin: epoch.Add(phase), rng: rng,
		rtt: 2 * time.Millisecond, init: 80 * time.Millisecond, idle: map[string][]*simInstance{}}
}

func (s *simEnv) Now() time.Duration { return s.now }

// take returns the most recently released instance of fn still alive at
// t, dropping the evicted ones, or nil.
func (s *simEnv) take(fn string, t time.Duration) *simInstance {
	list := s.idle[fn]
	alive := list[:0]
	for _, in := range list {
		if !in.evictable || in.evictAt > t {
			alive = append(alive, in)
		}
	}
	s.idle[fn] = alive
	if len(alive) == 0 {
		return nil
	}
	in := alive[len(alive)-1]
	s.idle[fn] = alive[:len(alive)-1]
	return in
}

func (s *simEnv) Send(lane int, fn, _ string, sleeps []time.Duration) {
	res := &burstResult{lane: lane}
	var done time.Duration
	var released []*simInstance
	for i, sl := range sleeps {
		sent := s.now + time.Duration(i)*20*time.Microsecond
		arrive := sent + s.rtt/2
		in := s.take(fn, arrive)
		cold, start := in == nil, arrive
		if cold {
			s.nextID++
			in = &simInstance{id: fmt.Sprintf("i%d", s.nextID), ownDraw: s.rng.Float64(), never: s.rng.Float64() < s.never}
			start += s.init
		}
		end := start + sl
		s.busy = append(s.busy, [2]time.Duration{arrive, end})
		in.release = end
		switch {
		case in.never:
			in.evictable = false
		case s.own != nil:
			in.evictAt, in.evictable = end+s.own(in.ownDraw), true
		case s.redraw != nil:
			in.evictAt, in.evictable = end+s.redraw(s.rng.Float64()), true
		default:
			at, ok := s.model.EvictAt(s.epoch.Add(end), s.origin, in.ownDraw, s.rng.Float64)
			in.evictAt, in.evictable = at.Sub(s.epoch), ok
		}
		released = append(released, in)
		// A platform with REPORT lines (Lambda, the local platform): the
		// invocation's duration and a cold start's init are known.
		a := probeAnswer{ok: true, instance: in.id, cold: cold, known: true, sent: sent, received: end + s.rtt/2, handler: sl, invoked: sl}
		if cold {
			a.init = s.init
		}
		res.answers = append(res.answers, a)
		done = max(done, a.received)
	}
	list := append(s.idle[fn], released...)
	slices.SortStableFunc(list, func(a, b *simInstance) int { return int(a.release - b.release) })
	s.idle[fn] = list
	s.pending = append(s.pending, simPending{done: done, res: res})
}

func (s *simEnv) Wait(_ context.Context, until time.Duration) (*burstResult, error) {
	best := -1
	for i, p := range s.pending {
		if best < 0 || p.done < s.pending[best].done {
			best = i
		}
	}
	if best >= 0 && (until < 0 || s.pending[best].done <= until) {
		p := s.pending[best]
		s.pending = slices.Delete(s.pending, best, best+1)
		s.now = max(s.now, p.done)
		return p.res, nil
	}
	if until < 0 {
		return nil, errors.New("simEnv: waiting for nothing")
	}
	s.now = max(s.now, until)
	return nil, nil
}

// simModel is one eviction model of the coverage test with the parameters
// a user would pick for it.
type simModel struct {
	name  string
	model localfaas.Eviction
	// never is the share of instances never evicted (drawn per instance).
	never float64
	// own, when set, gives every instance its own fixed eviction time from
	// its uniform draw (instead of model), with cdf its distribution;
	// redraw, when set, draws a new one every idle period.
	own    func(u float64) time.Duration
	redraw func(u float64) time.Duration
	cdf    func(t float64) float64
	params map[string]string
	relErr float64 // largest allowed median relative error of the median
	// shortfall, when set, says why a goal of the issue is not met for
	// this model, and floors holds what is asserted instead (the measured
	// level, so a regression still fails): docs/experiments.md lists them.
	shortfall string
	floors    map[string]float64
}

// sharp reports whether m evicts every instance exactly at its timeout.
func (m simModel) sharp() bool {
	e := m.model
	return e.Jitter == 0 && e.Sweep == 0 && e.Fraction >= 1 && m.never == 0 && m.own == nil && m.redraw == nil
}

// floor is the asserted minimum of check for m: goal, or the documented
// shortfall's floor.
func (m simModel) floor(check string, goal float64) float64 {
	if f, ok := m.floors[check]; ok {
		return f
	}
	return goal
}

// CDF is the true distribution of the first idle period of a new instance.
func (m simModel) CDF(t float64) float64 {
	f := m.model.CDF
	if m.cdf != nil {
		f = m.cdf
	}
	return (1 - m.never) * f(t)
}

// quantiles returns inf{t : F(t) ≥ q} and sup{t : F(t) ≤ q} (+Inf when F
// never reaches q).
func (m simModel) quantiles(q float64) (lo, hi float64) {
	inv := func(above func(float64) bool) float64 {
		a, b := 0.0, 1.0
		for !above(b) {
			if b > 1e7 {
				return math.Inf(1)
			}
			a, b = b, 2*b
		}
		for range 80 {
			mid := (a + b) / 2
			if above(mid) {
				b = mid
			} else {
				a = mid
			}
		}
		return b
	}
	return inv(func(t float64) bool { return m.CDF(t) >= q-1e-12 }), inv(func(t float64) bool { return m.CDF(t) > q+1e-12 })
}

// simScale is where a model's times live: the local platform's seconds or
// a cloud's minutes, with the parameters a user would pass there.
type simScale struct {
	name   string
	t      time.Duration // the model's timeout T
	params map[string]string
}

var simScales = []simScale{
	{"local", 5 * time.Second, map[string]string{"precision": "0.1"}},
	{"cloud", 10 * time.Minute, cloudParams},
}

// cloudParams are the parameters of the cloud scale.
var cloudParams = map[string]string{"precision": "0.1", "min_gap": "1m", "max_gap": "16m", "max_stagger": "10m",
	"max_time": "8h", "max_probes": "4000"}

// simSweepScales are further timeouts, with the cloud parameters, at which
// only the sweep models run: the release spread (max_stagger 10 min) is
// longer than the period at T = 1 min and much shorter at T = 1 h (where
// the budget is 24 h: sweeps of 2T evict up to 3 h, which 8 h cannot
// bracket by doubling max_gap).
var simSweepScales = []simScale{
	{"cloud, T = 1 min", time.Minute, cloudParams},
	{"cloud, T = 1 h", time.Hour, map[string]string{"precision": "0.1", "min_gap": "1m", "max_gap": "16m", "max_stagger": "10m",
		"max_time": "24h", "max_probes": "4000"}},
}

// aws60Idle is the idle range of an aws stack with its own default
// 60 s Lambda timeout (--stack-set timeout=60; platforms/aws: 1–16 min, a
// 45 s release spread) and, unless Lanes are added, the three lanes
// function1..3. An existing deployment resolves to the same, without the
// Limit (cmd/fbrun's TestIdleDefaultsFromPlatform checks the CLI takes
// it from the descriptor). A test of package experiments may not import
// platforms.
var aws60Idle = providers.IdleRange{Min: time.Minute, Max: 16 * time.Minute, Spread: 45 * time.Second, Limit: time.Minute}

// awsIdle is the idle range `fbrun experiment idle-timeout --platform aws`
// resolves on: the stack deployed for the run with idle-timeout's stack
// defaults (IdleTimeout.StackDefaults: IdleLanesAWS lanes, an
// IdleTimeoutAWS Lambda timeout, so a 10-minute release spread).
var awsIdle = func() providers.IdleRange {
	r := providers.IdleRange{Min: time.Minute, Max: 16 * time.Minute}.WithLimit(IdleTimeoutAWS)
	r.Lanes = awsLanes(IdleLanesAWS)
	return r
}()

// awsLanes are the lanes an aws stack deployed with --stack-set lanes=n
// names (stackcfg.AWS.IdleLanes).
func awsLanes(n int) []string {
	out := []string{"function1", "function2", "function3"}
	for i := 4; i <= n; i++ {
		out = append(out, fmt.Sprintf("lane%d", i))
	}
	return out
}

// simAWSDefaults are the models `fbrun experiment idle-timeout --platform
// aws` must answer with no --set (IdleTimeout.PlatformDefaults on
// awsIdle): Lambda's 10 minutes, the documented sweeper of 5 minutes, an
// emulator configured with 2 s, an hour, and sweeps slower than the
// timeout (a skeptic's models) — and the same with the stack's own 60 s
// Lambda timeout and three lanes (aws60Idle: a 45 s release spread),
// against which the slow sweeps are a known shortfall: a burst's
// instances, and the bursts of other lanes released close by, share one
// sweep.
func simAWSDefaults() []struct {
	scale simScale
	m     simModel
} {
	type row = struct {
		scale simScale
		m     simModel
	}
	var rows []row
	for _, c := range []struct {
		name string
		idle providers.IdleRange
	}{{"aws defaults", awsIdle}, {"aws, 60 s timeout", aws60Idle}} {
		p := IdleTimeout{}.PlatformDefaults(c.idle)
		sc := simScale{c.name, 10 * time.Minute, p}
		sharp := func(T time.Duration, relErr float64) simModel {
			return simModel{name: "sharp " + fmtDur(T.Seconds()), model: localfaas.Eviction{Timeout: T, Fraction: 1}, params: p, relErr: relErr}
		}
		sweep := func(P time.Duration, relErr float64) simModel {
			return simModel{name: "sweep every " + fmtDur(P.Seconds()) + ", timeout 10m0s", model: localfaas.Eviction{Timeout: 10 * time.Minute, Sweep: P, Fraction: 1}, params: p, relErr: relErr}
		}
		slow2, slow3 := sweep(20*time.Minute, 0.20), sweep(30*time.Minute, 0.35)
		if c.idle.Spread < 10*time.Minute {
			slow2.shortfall, slow2.floors = "sweep of 2T against a 45 s release spread", awsSlowSweepFloors
			slow3.shortfall, slow3.floors = "sweep of 3T against a 45 s release spread", map[string]float64{"median": 0.80, "median two-sided": 0.70, "still warm": 0.90}
		} else {
			// The sweep of 3T evicts over [T, 4T]: the 4,000 probes end
			// most runs before the median is bounded above (reported as a
			// bound), so its error is unbounded.
			slow3.relErr = math.Inf(1)
		}
		rows = append(rows, row{sc, sharp(10*time.Minute, 0.05)}, row{sc, sweep(5*time.Minute, 0.10)},
			row{sc, sharp(2*time.Second, 0.05)}, row{sc, sharp(time.Hour, 0.05)}, row{sc, slow2}, row{sc, slow3})
	}
	return rows
}

// awsSlowSweepFloors are the asserted floors of the aws defaults' slow
// sweeps (docs/experiments.md, Shortfalls): 2T 82.0 %, two-sided 74.3 %;
// 3T 94.5 %, two-sided 91.5 %, still warm 94.5 %.
var awsSlowSweepFloors = map[string]float64{"median": 0.80, "median two-sided": 0.70}

// awsLanesSlowSweepFloors are the floors of the aws defaults' sweep of 2T
// with 12 and 24 lanes (docs/experiments.md, Shortfalls): 80.0 % / 82.0 %,
// two-sided 71.4 % / 73.9 % (100 runs each).
var awsLanesSlowSweepFloors = map[string]float64{"median": 0.75, "median two-sided": 0.65}

// simModels are the eviction models of the coverage test at one scale.
func simModels(sc simScale) []simModel {
	T := sc.t
	f := func(x float64) time.Duration { return time.Duration(x * float64(T)) }
	p := sc.params
	// bimodal: 60 % of instances keep a timeout uniform in [0.4T, 0.8T],
	// 40 % one in [1.6T, 2T], for life.
	bimodal := func(u float64) time.Duration {
		if u < 0.6 {
			return f(0.4 + 0.4*u/0.6)
		}
		return f(1.6 + 0.4*(u-0.6)/0.4)
	}
	ts := T.Seconds()
	bimodalCDF := func(t float64) float64 {
		x := t / ts
		return 0.6*min(max((x-0.4)/0.4, 0), 1) + 0.4*min(max((x-1.6)/0.4, 0), 1)
	}
	// A sweep of period 2T spreads eviction over [T, 3T]: the runs that
	// end on the budget before the median is bounded count as an infinite
	// error, hence the looser bound.
	sweep := func(period float64, name string, relErr float64) simModel {
		return simModel{name: "sweep every " + name + ", timeout T", model: localfaas.Eviction{Timeout: T, Sweep: f(period), Fraction: 1}, params: p, relErr: relErr}
	}
	return []simModel{
		{name: "sharp T", model: localfaas.Eviction{Timeout: T, Fraction: 1}, params: p, relErr: 0.05},
		{name: "uniform [0.6T, 1.4T] per idle period", model: localfaas.Eviction{Timeout: f(0.6), Jitter: f(0.8), Fraction: 1}, params: p, relErr: 0.10},
		{name: "partial eviction 0.5, timeout 0.4T", model: localfaas.Eviction{Timeout: f(0.4), Fraction: 0.5}, params: p, relErr: 0.10},
		sweep(0.1, "T/10", 0.10),
		sweep(0.5, "T/2", 0.10),
		sweep(2, "2T", 0.15),
		{name: "sweep every T/2 + jitter T/5, timeout T", model: localfaas.Eviction{Timeout: T, Jitter: f(0.2), Sweep: f(0.5), Fraction: 1}, params: p, relErr: 0.10},
		{name: "per-instance fixed, uniform [0.6T, 1.4T]", model: localfaas.Eviction{Timeout: f(0.6), Jitter: f(0.8), Fraction: 1, Persistent: true}, params: p, relErr: 0.10},
		{name: "per-instance fixed, bimodal 60 % [0.4T, 0.8T] / 40 % [1.6T, 2T]", own: bimodal, cdf: bimodalCDF, params: p, relErr: 0.10},
		{name: "10 % never evicted, the rest at T", model: localfaas.Eviction{Timeout: T, Fraction: 1}, never: 0.1, params: p, relErr: 0.05},
		{name: "30 % never evicted, the rest at T", model: localfaas.Eviction{Timeout: T, Fraction: 1}, never: 0.3, params: p, relErr: 0.05},
	}
}

// hourShortfall is why the slow sweeps at T = 1 h miss the coverage goal.
const hourShortfall = "at T = 1 h the release spread (max_stagger 10 min, within Lambda's 15-minute handler limit) is a " +
	"twelfth of a 2-hour period, a burst's instances share one sweep, and a lane's next release follows its last by " +
	"the probed gap (close to the median, for 2T close to the period), so a run samples few phases; where the data " +
	"separate cleanly the design stops only if the interval holds with shared fate (sharedPrecise), which lifted " +
	"the median's coverage by 1–4 points; a sweep of 2T also stops growing max_gap at 128 min, just past its median"

// hourFloors are the asserted floors of the sweep models at T = 1 h, by
// sweep period in units of T (docs/experiments.md, Shortfalls).
var hourFloors = map[float64]map[string]float64{
	0.5: {"median two-sided": 0.85},                 // 92.0 %, two-sided 88.3 %
	2:   {"median": 0.85, "median two-sided": 0.75}, // 87.5 %, 78.3 %
}

// hourJitterFloors are those of the sweep of T/2 + jitter T/5 at T = 1 h:
// 86.0 %, two-sided 83.2 %.
var hourJitterFloors = map[string]float64{"median": 0.85, "median two-sided": 0.80}

// simEdgeModels are models whose median lies at an edge of the gaps a
// design reaches, where an end block of few untied observations used to
// bound the median on the wrong side (stats/survival.EdgeMin): just past
// the longest gap the local defaults' max_time allows, and, with the
// cloud parameters, below min_gap. Each is redrawn every idle period.
// Their runs mostly end with a one-sided bound, so no relative error is
// asserted (relErr +Inf).
func simEdgeModels() []struct {
	scale simScale
	m     simModel
} {
	local := map[string]string{"precision": "0.1"}
	cloud := simScales[1].params
	lognormal := func(median time.Duration, sigma float64) (func(u float64) time.Duration, func(t float64) float64) {
		draw := func(u float64) time.Duration {
			z := math.Sqrt2 * math.Erfinv(2*min(max(u, 1e-12), 1-1e-12)-1)
			return time.Duration(float64(median) * math.Exp(sigma*z))
		}
		cdf := func(t float64) float64 {
			if t <= 0 {
				return 0
			}
			return 0.5 * math.Erfc(-math.Log(t/median.Seconds())/sigma/math.Sqrt2)
		}
		return draw, cdf
	}
	// mixture: a share p evicted at 2 s, the rest at 10 min.
	mixture := func(p float64) (func(u float64) time.Duration, func(t float64) float64) {
		draw := func(u float64) time.Duration {
			if u < p {
				return 2 * time.Second
			}
			return 10 * time.Minute
		}
		cdf := func(t float64) float64 {
			switch {
			case t >= 600:
				return 1
			case t >= 2:
				return p
			}
			return 0
		}
		return draw, cdf
	}
	ln, lnCDF := lognormal(10*time.Minute, 1)
	mix40, mix40CDF := mixture(0.4)
	mix60, mix60CDF := mixture(0.6)
	inf := math.Inf(1)
	type edge = struct {
		scale simScale
		m     simModel
	}
	return []edge{
		{simScales[0], simModel{name: "lognormal σ 1, median 10 min (just past the longest gap max_time=20m allows)", redraw: ln, cdf: lnCDF, params: local, relErr: inf}},
		{simScales[0], simModel{name: "mixture 40 % at 2 s / 60 % at 10 min (median 10 min, past every gap)", redraw: mix40, cdf: mix40CDF, params: local, relErr: inf}},
		{simScales[1], simModel{name: "mixture 60 % at 2 s / 40 % at 10 min (median 2 s, below min_gap)", redraw: mix60, cdf: mix60CDF, params: cloud, relErr: inf}},
		{simScales[1], simModel{name: "mixture 40 % at 2 s / 60 % at 10 min (median 10 min)", redraw: mix40, cdf: mix40CDF, params: cloud, relErr: inf}},
	}
}

// simDesign returns the design for params over the defaults.
func simDesign(t testing.TB, params map[string]string) idleDesign {
	p, err := Resolve(IdleTimeout{}, params)
	if err != nil {
		t.Fatal(err)
	}
	d, err := idleParams(p)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// tailCount is how one tail estimate was reported over many runs.
type tailCount struct {
	twoSided, covered int // runs with a two-sided interval, and of them covering
	bound, trueBound  int // runs with a one-sided bound only, and of them true
}

func (c tailCount) coverage() float64  { return frac(c.covered, c.twoSided) }
func (c tailCount) boundTrue() float64 { return frac(c.trueBound, c.bound) }

func frac(a, b int) float64 {
	if b == 0 {
		return math.NaN()
	}
	return float64(a) / float64(b)
}

// add counts one run's estimate e of the quantile whose true value is x.
func (c *tailCount) add(e survival.Estimate, x float64) {
	switch {
	case e.Bounded():
		c.twoSided++
		if e.Low <= x+1e-9 && x <= e.High+1e-9 {
			c.covered++
		}
	case e.LowFound || e.HighFound:
		c.bound++
		if (!e.LowFound || e.Low <= x+1e-9) && (!e.HighFound || x <= e.High+1e-9) {
			c.trueBound++
		}
	}
}

// coverageRow is the outcome of many simulated experiments of one model.
type coverageRow struct {
	scale, name            string
	truth                  float64 // the true median (lower end of the median set)
	longest                float64 // the true 95 % point (the median where infinite)
	runs                   int
	median                 float64 // coverage of the median's 95% interval (a one-sided bound covers when true)
	medianTwoSided         tailCount
	warm, cold             tailCount
	stillWarm              float64 // coverage of the still-warm fraction at the longest gap
	relErr                 float64 // median relative error of the median
	precise                float64 // share of runs that reached the precision
	probeTime, invocations float64 // medians
	probeTime90            float64 // 90th percentile
	flat                   int     // runs that reported the median as a stretch (its interval alone)
	behaviour              map[string]int
}

func simulate(t testing.TB, sc simScale, m simModel, runs int) coverageRow {
	d := simDesign(t, m.params)
	truthLo, truthHi := m.quantiles(0.5)
	warm, _ := m.quantiles(0.05)
	cold, _ := m.quantiles(0.95)
	row := coverageRow{scale: sc.name, name: m.name, truth: truthLo, longest: cold, runs: runs, behaviour: map[string]int{}}
	if math.IsInf(cold, 1) {
		row.longest = truthLo
	}
	var errs, times, invs []float64
	for seed := range runs {
		env := newSimEnvOf(m, uint64(seed)+1)
		d.seed = uint64(seed) + 1000
		run, err := runIdleDesign(context.Background(), env, d, nil)
		if err != nil {
			t.Fatalf("%s seed %d: %v", m.name, seed, err)
		}
		// idle_probes counts the probe requests sent: every invocation
		// but the warm-up's.
		if want := run.invocations - len(d.functions)*d.instances; run.probes != want {
			t.Fatalf("%s seed %d: %d probes counted, %d sent", m.name, seed, run.probes, want)
		}
		e, err := estimateIdle(run, d.level, d.precision)
		if err != nil {
			t.Fatalf("%s seed %d: %v", m.name, seed, err)
		}
		// The median is the set [Quantile(0.5), QuantileUpper(0.5)]: one
		// point unless F is flat at 0.5, as with partial eviction 0.5,
		// where every t in [T, 2T] is a median. The interval covers when
		// it meets the set; the error is the distance to the set.
		covered := e.median.Low <= truthHi+1e-9 && truthLo <= e.median.High+1e-9
		if covered {
			row.median++
		}
		if e.median.LowFound && e.median.HighFound {
			row.medianTwoSided.twoSided++
			if covered {
				row.medianTwoSided.covered++
			}
		}
		row.warm.add(e.warm, warm)
		row.cold.add(e.cold, cold)
		// The still-warm share's truth: the mean survival over the gaps
		// it pools.
		var truthWarm float64
		for _, o := range run.obs {
			if o.first && o.gap >= run.maxGap {
				truthWarm += (1 - m.CDF(o.gap.Seconds())) / float64(e.stillN)
			}
		}
		if w := e.stillWarm; e.stillN == 0 || (w.Low <= truthWarm+1e-9 && truthWarm <= w.High+1e-9) {
			row.stillWarm++
		}
		if e.medianFlat {
			// Reported as its interval alone (a stretch): judged by
			// coverage, no point to be off.
			row.flat++
		} else {
			errs = append(errs, medianError(e.median, truthLo, truthHi))
		}
		if precise(e.median, d.precision) {
			row.precise++ // as idle_precision_reached judges it
		}
		row.behaviour[e.behaviour()]++
		times = append(times, run.elapsed.Seconds())
		invs = append(invs, float64(run.invocations))
	}
	n := float64(runs)
	row.median, row.stillWarm, row.precise = row.median/n, row.stillWarm/n, row.precise/n
	row.relErr, row.probeTime, row.invocations = median(errs), median(times), median(invs)
	if len(errs) == 0 {
		row.relErr = math.NaN()
	}
	row.probeTime90 = percentile(times, 0.9)
	return row
}

// medianError is the relative distance of a reported median to the true
// median set [lo, hi] (+Inf when it has no two-sided interval).
func medianError(e survival.Estimate, lo, hi float64) float64 {
	dist := 0.0
	switch v := e.Value; {
	case !e.Bounded():
		dist = math.Inf(1)
	case v < lo:
		dist = lo - v
	case v > hi:
		dist = v - hi
	}
	return dist / lo
}

// simRuns is the number of simulated experiments per model.
const simRuns = 200

// TestIdleTimeoutCoverage runs the real design and estimator 200 times per
// eviction model and scale against the simulated platform and checks that
// the median's 95% interval covers the truth in ≥ 90% of runs, that the
// 5% and 95% points cover in ≥ 85% of the runs where they are reported
// two-sided and are true bounds in ≥ 95% of the runs where they are
// reported as a bound, that the still-warm fraction at the longest gap is
// covered in ≥ 95% (every row reaches 98% or more), and that the median's
// median relative error is ≤ 5% (sharp) / 10% (others). The tables it
// logs (-v) are the ones in docs/experiments.md.
func TestIdleTimeoutCoverage(t *testing.T) {
	testtools.SimulationOnly(t)
	var rows []*coverageRow
	t.Run("models", func(t *testing.T) {
		for _, sc := range simScales {
			for _, m := range simModels(sc) {
				row := &coverageRow{}
				rows = append(rows, row)
				t.Run(sc.name+"/"+m.name, func(t *testing.T) {
					t.Parallel()
					*row = simulate(t, sc, m, simRuns)
					checkCoverage(t, *row, m)
				})
			}
		}
		for _, sc := range simSweepScales {
			for _, m := range simModels(sc) {
				if m.model.Sweep == 0 {
					continue
				}
				if sc.t == time.Hour && m.model.Sweep > sc.t/10 {
					m.shortfall, m.floors = hourShortfall, hourFloors[float64(m.model.Sweep)/float64(sc.t)]
					if m.model.Jitter > 0 {
						m.floors = hourJitterFloors
					}
					if m.model.Sweep == 2*sc.t {
						m.relErr = 0.45 // 39.4 %: the 24 h budget ends most runs
					}
				}
				row := &coverageRow{}
				rows = append(rows, row)
				t.Run(sc.name+"/"+m.name, func(t *testing.T) {
					t.Parallel()
					*row = simulate(t, sc, m, simRuns)
					checkCoverage(t, *row, m)
				})
			}
		}
		for _, e := range append(simEdgeModels(), simAWSDefaults()...) {
			row := &coverageRow{}
			rows = append(rows, row)
			t.Run(e.scale.name+"/"+e.m.name, func(t *testing.T) {
				t.Parallel()
				*row = simulate(t, e.scale, e.m, simRuns)
				checkCoverage(t, *row, e.m)
			})
		}
	})
	var lanes []*coverageRow
	t.Run("lanes", func(t *testing.T) {
		for _, l := range simLaneRows() {
			row := &coverageRow{}
			lanes = append(lanes, row)
			t.Run(l.scale.name+"/"+l.m.name, func(t *testing.T) {
				t.Parallel()
				*row = simulate(t, l.scale, l.m, simLaneRuns)
				checkCoverage(t, *row, l.m)
			})
		}
	})
	t.Log("\n" + coverageTable(rows) + "\n" + timeTable(rows) + "\n" + coverageTable(lanes) + "\n" + timeTable(lanes))
}

// simLaneRuns is the number of simulated experiments per row of the
// lanes table (fewer than simRuns: it measures time, and its coverage is
// checked at the same floors).
const simLaneRuns = 100

// simLaneRows are the cloud-scale models (T = 10 min, the cloud
// parameters) with 6, 12 and 24 lanes — functions deployed alike —
// instead of the three the lab stacks deploy: the time to answer as a
// function of the lanes.
func simLaneRows() []struct {
	scale simScale
	m     simModel
} {
	T := 10 * time.Minute
	type row = struct {
		scale simScale
		m     simModel
	}
	var rows []row
	for _, n := range []int{6, 12, 24} {
		fns := make([]string, n)
		for i := range fns {
			fns[i] = fmt.Sprintf("function%d", i+1)
		}
		p := maps.Clone(cloudParams)
		p["functions"] = strings.Join(fns, ",")
		sc := simScale{fmt.Sprintf("cloud, %d lanes", n), T, p}
		rows = append(rows,
			row{sc, simModel{name: "sharp T", model: localfaas.Eviction{Timeout: T, Fraction: 1}, params: p, relErr: 0.05}},
			row{sc, simModel{name: "sweep every T/2, timeout T", model: localfaas.Eviction{Timeout: T, Sweep: T / 2, Fraction: 1}, params: p, relErr: 0.10}},
			row{sc, simModel{name: "uniform [0.6T, 1.4T] per idle period", model: localfaas.Eviction{Timeout: 6 * T / 10, Jitter: 8 * T / 10, Fraction: 1}, params: p, relErr: 0.10}})
	}
	// aws with the stack's own 60 s Lambda timeout (a 45 s release
	// spread) and 12 / 24 lanes: --stack-set timeout=60 lanes=12 / 24.
	for _, n := range []int{12, 24} {
		idle := aws60Idle
		idle.Lanes = awsLanes(n)
		p := IdleTimeout{}.PlatformDefaults(idle)
		sc := simScale{fmt.Sprintf("aws, 60 s timeout, %d lanes", n), T, p}
		rows = append(rows,
			row{sc, simModel{name: "sharp 10m0s", model: localfaas.Eviction{Timeout: T, Fraction: 1}, params: p, relErr: 0.05}},
			row{sc, simModel{name: "sweep every 5m0s, timeout 10m0s", model: localfaas.Eviction{Timeout: T, Sweep: T / 2, Fraction: 1}, params: p, relErr: 0.10}},
			// More lanes do not help against a slow sweeper: more
			// observations of the same few phases.
			// (With 24 lanes the 4,000 probes end most runs before the
			// median is bounded above: its error is unbounded.)
			row{sc, simModel{name: "sweep every 20m0s, timeout 10m0s", model: localfaas.Eviction{Timeout: T, Sweep: 2 * T, Fraction: 1}, params: p, relErr: math.Inf(1),
				shortfall: "sweep of 2T against a 45 s release spread", floors: awsLanesSlowSweepFloors}})
	}
	return rows
}

func checkCoverage(t *testing.T, row coverageRow, m simModel) {
	if m.shortfall != "" {
		t.Logf("known shortfall, floors %v: %s", m.floors, m.shortfall)
	}
	if f := m.floor("median", 0.90); row.median < f {
		t.Errorf("median interval coverage %.3f < %.2f", row.median, f)
	}
	if c, f := row.medianTwoSided, m.floor("median two-sided", 0.90); c.twoSided >= 20 && c.coverage() < f {
		t.Errorf("median: two-sided intervals cover in %.3f < %.2f (%d runs)", c.coverage(), f, c.twoSided)
	}
	for _, tc := range []struct {
		name string
		c    tailCount
	}{{"idle_warm_s", row.warm}, {"idle_cold_s", row.cold}} {
		if tc.c.twoSided >= 20 && tc.c.coverage() < 0.85 {
			t.Errorf("%s: two-sided coverage %.3f < 0.85 (%d runs)", tc.name, tc.c.coverage(), tc.c.twoSided)
		}
		if tc.c.bound >= 20 && tc.c.boundTrue() < 0.95 {
			t.Errorf("%s: bound true in %.3f < 0.95 (%d runs)", tc.name, tc.c.boundTrue(), tc.c.bound)
		}
	}
	if f := m.floor("still warm", 0.95); row.stillWarm < f {
		t.Errorf("still-warm fraction at the longest gap covered in %.3f < %.2f", row.stillWarm, f)
	}
	// A sharp timeout reaches the precision asked for within the budget
	// (the live TestIdleTimeoutGroundTruth only logs it: on a loaded
	// machine the resolution decides it).
	if m.sharp() && row.precise < 0.95 {
		t.Errorf("sharp timeout: precision reached in %.3f < 0.95 of the runs", row.precise)
	}
	if !math.IsInf(m.relErr, 1) && row.flat < row.runs && !(row.relErr <= m.relErr) { // NaN (most runs unbounded) fails too
		t.Errorf("median relative error %.3f > %.2f", row.relErr, m.relErr)
	}
}

func pct(x float64) string {
	if math.IsNaN(x) {
		return "–"
	}
	return fmt.Sprintf("%.1f %%", 100*x)
}

func coverageTable(rows []*coverageRow) string {
	var b strings.Builder
	b.WriteString("| scale | eviction model | runs | median covered | median: two-sided runs, covered | idle_warm_s: two-sided runs, covered / bound runs, true | idle_cold_s: two-sided runs, covered / bound runs, true | still warm at longest gap covered | median rel. error | median a stretch (runs) | behaviour (redrawn / persistent / undetermined) |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|---|---|---|\n")
	for _, r := range rows {
		fmt.Fprintf(&b, "| %s | %s | %d | %s | %d, %s | %d, %s / %d, %s | %d, %s / %d, %s | %s | %s | %d | %d / %d / %d |\n", r.scale, r.name, r.runs, pct(r.median),
			r.medianTwoSided.twoSided, pct(r.medianTwoSided.coverage()),
			r.warm.twoSided, pct(r.warm.coverage()), r.warm.bound, pct(r.warm.boundTrue()),
			r.cold.twoSided, pct(r.cold.coverage()), r.cold.bound, pct(r.cold.boundTrue()),
			pct(r.stillWarm), pct(r.relErr), r.flat, r.behaviour[behaviourRedrawn], r.behaviour[behaviourPersistent], r.behaviour[behaviourUnknown])
	}
	return b.String()
}

func timeTable(rows []*coverageRow) string {
	var b strings.Builder
	b.WriteString("| scale | eviction model | true median | ±10 % reached | wall time, median / p90 (simulated) | median wall time ÷ true 95 % point | invocations (median) |\n")
	b.WriteString("|---|---|---|---|---|---|---|\n")
	for _, r := range rows {
		fmt.Fprintf(&b, "| %s | %s | %s | %.0f %% | %s / %s | %.1f | %.0f |\n", r.scale, r.name, fmtDur(r.truth), 100*r.precise,
			fmtDur(r.probeTime), fmtDur(r.probeTime90), r.probeTime/r.longest, r.invocations)
	}
	return b.String()
}

func fmtDur(s float64) string {
	return time.Duration(s * float64(time.Second)).Round(time.Second).String()
}
