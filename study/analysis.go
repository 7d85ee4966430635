package study

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/faas-benchmarker/faas-benchmarker/results"
	"github.com/faas-benchmarker/faas-benchmarker/stats"
)

// Interval bounds follow the estimate contract of docs/experiments.md: the
// estimate K has the interval [K_low, K_high] when the experiment returns
// those keys (stats.IntervalKeys; one of them alone is a one-sided bound).
// Every experiment's intervals are at 95 % (experiments.IntervalLevel).
const intervalZ = 1.959963984540054 // the normal quantile of a two-sided 95 % interval

// FamilyAlpha is the change detector's false-alarm rate per study run: the
// probability that a study run in which nothing changed flags anything at
// all, over every estimate of every platform it compares (Holm's procedure
// controls it at this level; docs/studies.md "The change detector").
const FamilyAlpha = 0.05

// Estimate is one estimate of one study run on one platform, pooled over
// the repetitions: the median of the repetitions' values and the union of
// their intervals (it covers the truth whenever any repetition's interval
// does, so pooling never makes an interval less honest).
type Estimate struct {
	// Value is the median over repetitions (NaN when only bounds exist).
	Value float64
	// Low and High bound the interval (-Inf / +Inf: open on that side);
	// HasInterval is false when a repetition gave no bound at all.
	Low, High   float64
	HasInterval bool
	// N is the number of repetitions that gave this estimate; RunIDs
	// their runs.
	N      int
	RunIDs []string
	// Mean, Reps, WithinSE and EffReps are what the change detector tests:
	// the precision-weighted mean of the repetitions' values (see combine),
	// the values, the mean's standard error from the repetitions'
	// two-sided intervals (each read as ±z·SE), and the effective number
	// of repetitions the mean averages. Testable is false when a
	// repetition lacks a value or a two-sided interval.
	Mean, WithinSE, EffReps float64
	// SELow and SEHigh are the mean's standard error from the lower and
	// the upper halves of the repetitions' intervals (each half read as
	// z·SE), with the same weights: an interval need not be symmetric
	// around its value (an order-statistic interval of a skewed latency,
	// an idle-timeout interval whose upper end rests on few evictions:
	// 4.28 [3.76, 7.41]), and a change is judged by the halves that face
	// each other. Both zero: WithinSE applies on either side.
	SELow, SEHigh float64
	Reps          []float64
	Testable      bool
}

// Text renders "2.05 [1.98, 2.11]", "≥ 16" or "3.4".
func (e Estimate) Text() string {
	v := ""
	if !math.IsNaN(e.Value) {
		v = stats.Format(e.Value)
	}
	if !e.HasInterval {
		return v
	}
	switch {
	case math.IsInf(e.Low, -1) && math.IsInf(e.High, 1):
		return v
	case math.IsInf(e.High, 1):
		return strings.TrimSpace(v + " [≥ " + stats.Format(e.Low) + "]")
	case math.IsInf(e.Low, -1):
		return strings.TrimSpace(v + " [≤ " + stats.Format(e.High) + "]")
	}
	return strings.TrimSpace(v + " [" + stats.Format(e.Low) + ", " + stats.Format(e.High) + "]")
}

// Short renders the value, or the bound when there is no value.
func (e Estimate) Short() string {
	switch {
	case !math.IsNaN(e.Value):
		return stats.Format(e.Value)
	case e.HasInterval && !math.IsInf(e.Low, -1):
		return "≥ " + stats.Format(e.Low)
	case e.HasInterval && !math.IsInf(e.High, 1):
		return "≤ " + stats.Format(e.High)
	}
	return "–"
}

// Point is an estimate at one study run.
type Point struct {
	StudyRun string
	Date     time.Time
	Estimate
}

// Series is one estimate of one experiment on one platform over the study
// runs, oldest first.
type Series struct {
	Platform, Experiment, Key string
	Points                    []Point
}

// Change is a flag of the change detector: the estimate moved between the
// previous study run that has it and this one, by a test whose
// false-alarm rate over the whole study run is FamilyAlpha (see Detect).
type Change struct {
	Platform, Experiment, Key string
	// From is the previous study run's estimate, To this one's.
	From, To       Estimate
	FromRun, ToRun string
	Date           time.Time
	// P is the test's two-sided p-value (before Holm's adjustment).
	P float64
	// History is the number of earlier successive differences of the
	// series its variance was checked against; 0: the night-to-night
	// variation was not estimated (assumed none, see detect).
	History int
}

// NoHistory is the note on a flag made without earlier study runs to
// estimate the night-to-night variation from (Change.History == 0).
const NoHistory = "night-to-night variation not estimated yet"

// String renders "aws-eu idle_timeout_s 600 → 420 on 2026-12-14 15:04 (idle-timeout; ...; p = 0.0001)".
func (c Change) String() string {
	note := ""
	if c.History == 0 {
		note = "; " + NoHistory
	}
	return fmt.Sprintf("%s %s %s → %s on %s (%s; %s → %s; p = %.2g%s)", c.Platform, c.Key, c.From.Short(), c.To.Short(),
		c.Date.UTC().Format("2006-01-02 15:04"), c.Experiment, c.From.Text(), c.To.Text(), c.P, note)
}

// UntestedReason says why a comparison was not tested (Untested).
const UntestedReason = "its spread is not estimated yet: needs repetitions ≥ 2, or one more study run since the estimate began or was last flagged"

// Untested is a comparison the change detector could not judge: the
// estimate has a value and a two-sided interval in both study runs, but
// one repetition each and no earlier study runs since the series began or
// was last flagged, so nothing estimates how much it varies beyond its
// intervals (see detect).
type Untested struct {
	Platform, Experiment, Key string
	FromRun, ToRun            string
	Date                      time.Time
	Reason                    string
}

// RunCells are a study run with its cells.
type RunCells struct {
	Run   results.StudyRun
	Cells []results.StudyCell
}

// Analysis is everything `fbrun study status` and `fbrun study report`
// show about a study.
type Analysis struct {
	Study string
	// Runs are the study runs, oldest first, with their cells.
	Runs []RunCells
	// Platforms and Experiments are the labels in the order of the
	// latest study run's file; a platform label carries the hosting plan
	// its runs recorded ("azure (flex)"), and labels only earlier study
	// runs have (a column that changed plan) follow, sorted.
	Platforms, Experiments []string
	// Series are sorted by experiment (file order), key, platform.
	Series []Series
	// Changes are the change detector's flags, oldest first.
	Changes []Change
	// Untested are the comparisons the change detector could not judge,
	// oldest first.
	Untested []Untested
}

// Analyze reads a study's journal and runs and computes its estimates over
// time and the change detector's flags. Only cells recorded done count.
func Analyze(ctx context.Context, db *results.DB, study string) (*Analysis, error) {
	srs, err := db.StudyRuns(ctx, study)
	if err != nil {
		return nil, err
	}
	if len(srs) == 0 {
		return nil, fmt.Errorf("%w %q in %s (start one with fbrun study run FILE)", ErrNotFound, study, db.Path())
	}
	a := &Analysis{Study: study}
	// per study run → platform → experiment → the runs' estimates
	type reps = []map[string]float64
	type repIDs = []string
	pooled := map[string]map[cellKey]reps{}
	ids := map[string]map[cellKey]repIDs{}
	// A cell's platform is its column name with the hosting plan its run
	// recorded ("azure (flex)", results.Run.WithPlan): estimates of one
	// column measured on different plans are different series, never a
	// change of one.
	label := map[string]string{} // column → its label in the latest study run
	for i, sr := range srs {
		cells, err := db.StudyCells(ctx, sr.ID)
		if err != nil {
			return nil, err
		}
		a.Runs = append(a.Runs, RunCells{Run: sr, Cells: cells})
		pooled[sr.ID], ids[sr.ID] = map[cellKey]reps{}, map[cellKey]repIDs{}
		for _, c := range cells {
			if c.State != results.CellDone || c.RunID == "" {
				continue
			}
			run, err := db.GetRun(ctx, c.RunID)
			if err != nil {
				return nil, fmt.Errorf("study run %s cell %d: %w", sr.ID, c.Seq, err)
			}
			sum, err := results.ParseSummary(run.Summary)
			if err != nil {
				return nil, fmt.Errorf("study run %s cell %d: run %s: %w", sr.ID, c.Seq, run.ID, err)
			}
			est := sum.Estimates
			platform := run.WithPlan(c.Platform)
			if i == len(srs)-1 {
				label[c.Platform] = platform
			}
			k := cellKey{platform, c.Experiment}
			pooled[sr.ID][k] = append(pooled[sr.ID][k], est)
			ids[sr.ID][k] = append(ids[sr.ID][k], run.ID)
		}
	}
	a.columns(label)
	series := map[string]*Series{}
	for _, rc := range a.Runs {
		sr := rc.Run
		for k, rs := range pooled[sr.ID] {
			for key, est := range pool(rs) {
				est.RunIDs = ids[sr.ID][k]
				id := k.experiment + "\x00" + key + "\x00" + k.platform
				s := series[id]
				if s == nil {
					s = &Series{Platform: k.platform, Experiment: k.experiment, Key: key}
					series[id] = s
				}
				s.Points = append(s.Points, Point{StudyRun: sr.ID, Date: sr.StartedAt, Estimate: est})
			}
		}
	}
	var older []string // labels only earlier study runs have (another plan)
	for _, s := range series {
		a.Series = append(a.Series, *s)
		if !slices.Contains(a.Platforms, s.Platform) && !slices.Contains(older, s.Platform) {
			older = append(older, s.Platform)
		}
	}
	slices.Sort(older)
	a.Platforms = append(a.Platforms, older...)
	a.sortSeries()
	a.Changes, a.Untested = detect(a.Series)
	return a, nil
}

// columns sets the platforms and experiments in the order of the latest
// study run's plan; label maps a column to its label there (with its plan).
func (a *Analysis) columns(label map[string]string) {
	for _, c := range a.Runs[len(a.Runs)-1].Cells {
		p := c.Platform
		if l, ok := label[p]; ok {
			p = l
		}
		if !slices.Contains(a.Platforms, p) {
			a.Platforms = append(a.Platforms, p)
		}
		if !slices.Contains(a.Experiments, c.Experiment) {
			a.Experiments = append(a.Experiments, c.Experiment)
		}
	}
}

// sortSeries orders the series by experiment and platform (in the order of
// a.Experiments and a.Platforms), then by key.
func (a *Analysis) sortSeries() {
	order := func(list []string, v string) int {
		if i := slices.Index(list, v); i >= 0 {
			return i
		}
		return len(list)
	}
	sort.Slice(a.Series, func(i, j int) bool {
		x, y := a.Series[i], a.Series[j]
		if x.Experiment != y.Experiment {
			if ox, oy := order(a.Experiments, x.Experiment), order(a.Experiments, y.Experiment); ox != oy {
				return ox < oy
			}
			return x.Experiment < y.Experiment
		}
		if x.Key != y.Key {
			return x.Key < y.Key
		}
		if ox, oy := order(a.Platforms, x.Platform), order(a.Platforms, y.Platform); ox != oy {
			return ox < oy
		}
		return x.Platform < y.Platform
	})
}

// pool combines the estimates of the repetitions of one cell: per base key
// the median value and the union of the intervals (shown), and the mean
// with its standard error (tested, see Estimate).
func pool(reps []map[string]float64) map[string]Estimate {
	type acc struct {
		vals        []float64
		lows, highs []float64
		withBound   int
		n           int
		ses         []float64 // per repetition with a value and a two-sided interval
		sesLo       []float64 // ... from the half of the interval below the value
		sesHi       []float64 // ... above it
	}
	accs := map[string]*acc{}
	get := func(k string) *acc {
		if accs[k] == nil {
			accs[k] = &acc{}
		}
		return accs[k]
	}
	for _, est := range reps {
		bases := map[string]bool{}
		for k := range est {
			bases[stats.BaseKey(k)] = true
		}
		for b := range bases {
			a := get(b)
			a.n++
			v, hasV := est[b]
			if hasV && !math.IsNaN(v) {
				a.vals = append(a.vals, v)
			}
			lk, hk := stats.IntervalKeys(b)
			lo, hasLo := est[lk]
			hi, hasHi := est[hk]
			if hasLo || hasHi {
				a.withBound++
				if !hasLo {
					lo = math.Inf(-1)
				}
				if !hasHi {
					hi = math.Inf(1)
				}
				a.lows, a.highs = append(a.lows, lo), append(a.highs, hi)
			}
			if hasV && !math.IsNaN(v) && hasLo && hasHi && hi >= lo {
				a.ses = append(a.ses, (hi-lo)/(2*intervalZ))
				a.sesLo = append(a.sesLo, max(v-lo, 0)/intervalZ)
				a.sesHi = append(a.sesHi, max(hi-v, 0)/intervalZ)
			}
		}
	}
	out := map[string]Estimate{}
	for k, a := range accs {
		e := Estimate{Value: math.NaN(), Mean: math.NaN(), WithinSE: math.NaN(), N: a.n}
		if len(a.vals) > 0 {
			slices.Sort(a.vals)
			m := len(a.vals) / 2
			e.Value = a.vals[m]
			if len(a.vals)%2 == 0 {
				e.Value = (a.vals[m-1] + a.vals[m]) / 2
			}
		}
		if a.withBound == a.n && a.n > 0 {
			e.HasInterval = true
			e.Low, e.High = slices.Min(a.lows), slices.Max(a.highs)
		}
		if len(a.ses) == a.n && a.n > 0 {
			e.Testable, e.Reps = true, a.vals
			e.Mean, e.WithinSE, e.EffReps = combine(a.vals, a.ses)
			e.SELow, e.SEHigh = sideSEs(a.vals, a.ses, a.sesLo, a.sesHi)
		}
		out[k] = e
	}
	return out
}

// combine is the random-effects (DerSimonian–Laird) weighted mean of
// repetition values vals with standard errors ses, its standard error from
// the repetitions' intervals, and the effective number of repetitions (Σw)²/Σw² that run-to-run
// variation is divided by (the variance of a weighted mean of values that
// also vary by τ² from run to run is 1/Σw + τ²·Σw²/(Σw)² for weights
// 1/SE²). Each repetition weighs 1/(SEᵢ² + τ²), τ² the run-to-run variance
// beyond the repetitions' own intervals (the DerSimonian–Laird moment
// estimate, 0 when the values agree within them). So a repetition whose run
// was poor — on a loaded machine one scale-out run's rate interval was
// [0.99, 30.6]/s beside [1.80, 2.04] — no longer swamps the others, which an
// equal-weight mean with √(Σ SE²)/r would let it do; and where the runs
// differ by more than their intervals say (a local cold start's median
// moves with the machine's load from run to run: 50–110 ms at 20 ms delay
// while one run's interval was [55.2, 61.2]) the narrowest interval does not
// take all the weight, which pure inverse-variance weights 1/SEᵢ² let it
// do (an effective 1 repetition of 8, and a 60 ms change unflagged). With
// a zero standard error (a degenerate interval) the weights are undefined,
// and the plain mean with √(Σ SE²)/r and r is used.
func combine(vals, ses []float64) (mean, se, eff float64) {
	w := dlWeights(vals, ses)
	if w == nil { // a degenerate interval: the plain mean
		var sum, ss float64
		for i, v := range vals {
			sum += v
			ss += ses[i] * ses[i]
		}
		r := float64(len(vals))
		return sum / r, math.Sqrt(ss) / r, r
	}
	// The mean's standard error from the repetitions' own intervals,
	// Σwᵢ²SEᵢ²/(Σw)² (1/Σw when τ² = 0); the run-to-run part is the
	// detector's, divided by eff.
	var sw, sw2, swv, within float64
	for i, v := range vals {
		sw += w[i]
		sw2 += w[i] * w[i]
		swv += w[i] * v
		within += w[i] * w[i] * ses[i] * ses[i]
	}
	return swv / sw, math.Sqrt(within) / sw, sw * sw / sw2
}

// dlWeights are combine's random-effects weights 1/(SEᵢ² + τ²), τ² the
// DerSimonian–Laird moment estimate; nil when a standard error is zero.
func dlWeights(vals, ses []float64) []float64 {
	for _, se := range ses {
		if !(se > 0) {
			return nil
		}
	}
	weighted := func(tau2 float64) []float64 {
		w := make([]float64, len(vals))
		for i := range vals {
			w[i] = 1 / (ses[i]*ses[i] + tau2)
		}
		return w
	}
	w := weighted(0)
	if len(vals) < 2 {
		return w
	}
	var sw, sw2, swv float64
	for i, v := range vals {
		sw += w[i]
		sw2 += w[i] * w[i]
		swv += w[i] * v
	}
	m := swv / sw
	var q float64
	for i, v := range vals {
		q += (v - m) * (v - m) / (ses[i] * ses[i])
	}
	r := float64(len(vals))
	if t2 := (q - (r - 1)) / (sw - sw2/sw); t2 > 0 {
		return weighted(t2)
	}
	return w
}

// sideSEs are the standard errors of combine's mean from the lower and the
// upper halves of the repetitions' intervals (sesLo, sesHi), with combine's
// weights (ses: the symmetric ones it weighs by).
func sideSEs(vals, ses, sesLo, sesHi []float64) (lo, hi float64) {
	w := dlWeights(vals, ses)
	if w == nil { // combine's plain mean
		w = make([]float64, len(vals))
		for i := range w {
			w[i] = 1
		}
	}
	var sw, vlo, vhi float64
	for i, wi := range w {
		sw += wi
		vlo += wi * wi * sesLo[i] * sesLo[i]
		vhi += wi * wi * sesHi[i] * sesHi[i]
	}
	return math.Sqrt(vlo) / sw, math.Sqrt(vhi) / sw
}

// Detect flags the estimates that changed from the previous study run that
// has them, with a false-alarm rate per study run of FamilyAlpha.
func Detect(series []Series) []Change {
	changes, _ := detect(series)
	return changes
}

// detect is the change detector: the flags, and the comparisons it could
// not judge (Untested).
//
// Each estimate with a value and a two-sided interval in every repetition
// (Estimate.Testable) is compared with its previous testable study run by
// a two-sided t test of the difference d of the two study runs' repetition
// means (precision-weighted, see combine). Var(d) comes from two sources:
//
//   - within the study runs (withinVar): each mean's variance the larger of
//     what the repetitions' intervals say (Estimate.WithinSE) and the
//     repetitions' spread — the variance of one repetition around its study
//     run's mean, pooled over every study run of the series, Σ(r−1) degrees
//     of freedom (repSpread) — divided by the effective number of
//     repetitions;
//   - the history: the mean square of the series' earlier successive
//     differences of study-run means, since the series began or was last
//     flagged (von Neumann's mean square successive difference). Under no
//     change it estimates Var(d) with everything in it — the intervals,
//     the repetitions' spread and the night-to-night variation that all
//     repetitions of one study run share, which nothing within a study run
//     can see — and a slow drift adds only its square per study run. From m
//     differences it has 2m²/(3m−1) degrees of freedom (successive
//     differences share a mean: neighbours correlate −½; historyDF).
//
// With a history, Var(d) is its mean square plus the excess of this
// comparison's within-run variance over the history's mean one (a study
// run with a poor repetition), and the t reference has the history's
// degrees of freedom: the history alone makes d/√(its mean square) a t
// statistic whatever the night-to-night variation (when the study runs
// vary alike), and with that variation unknown only the history measures
// it. Without one, Var(d) is the within-run variance, with the repetition
// spread's degrees of freedom.
//
// A comparison with neither estimate — one repetition per study run and no
// earlier difference (a study's first comparison, or the first after a
// flag) — is Untested: its intervals alone would read run-to-run variation
// beyond them as change (docs/studies.md, "Limits"). A comparison with a
// repetition spread but no history (the first one of a study with
// repetitions ≥ 2, or its first after a flag) assumes no night-to-night
// variation; Change.History says so. With a history the within-run
// variance must call the move a change too (changeP): the history's t
// reference assumes study-run means close to normal, and discrete or
// strongly skewed estimates (a fraction near 0, a rate from few events)
// can have a quiet history by chance. Heavy-tailed nights still exceed
// FamilyAlpha (docs/studies.md, "Limits"; TestDetectorAttacksCoverage).
//
// All comparisons into one study run — every estimate of every platform —
// form one family, and Holm's step-down procedure flags them at
// FamilyAlpha; the study runs are judged oldest first, so that a flag
// restarts its series' history. Estimates without a two-sided interval are
// never compared: a point estimate alone cannot tell a change from noise.
func detect(series []Series) ([]Change, []Untested) {
	type state struct {
		between, df float64        // the repetitions' pooled spread (repSpread)
		at          map[string]int // study run → index of its point
		prev        *Point
		hist        []step // successive differences since the start or the last flag
	}
	states := make([]state, len(series))
	for i, s := range series {
		st := &states[i]
		st.between, st.df = repSpread(s.Points)
		st.at = map[string]int{}
		for j, p := range s.Points {
			st.at[p.StudyRun] = j
		}
	}
	var changes []Change
	var untested []Untested
	for _, run := range runOrder(series) {
		var family []Change
		var who []int    // family[k] is series who[k]
		var steps []step // and its step
		for i, s := range series {
			st := &states[i]
			j, ok := st.at[run]
			if !ok || !s.Points[j].Testable {
				continue
			}
			prev, p := st.prev, &s.Points[j]
			st.prev = p
			if prev == nil {
				continue
			}
			d, within := p.Mean-prev.Mean, withinVar(prev.Estimate, p.Estimate, st.between, st.df)
			if st.df == 0 && len(st.hist) == 0 { // only the intervals: untested
				untested = append(untested, Untested{Platform: s.Platform, Experiment: s.Experiment, Key: s.Key,
					FromRun: prev.StudyRun, ToRun: p.StudyRun, Date: p.Date, Reason: UntestedReason})
				st.hist = append(st.hist, step{d * d, within})
				continue
			}
			family = append(family, Change{Platform: s.Platform, Experiment: s.Experiment, Key: s.Key,
				From: prev.Estimate, To: p.Estimate, FromRun: prev.StudyRun, ToRun: p.StudyRun, Date: p.Date,
				P: changeP(d, within, st.df, st.hist), History: len(st.hist)})
			who = append(who, i)
			steps = append(steps, step{d * d, within})
		}
		for k, flagged := range holm(family, FamilyAlpha) {
			st := &states[who[k]]
			if flagged {
				changes = append(changes, family[k])
				st.hist = nil
				continue
			}
			st.hist = append(st.hist, steps[k])
		}
	}
	sort.SliceStable(changes, func(i, j int) bool { return changes[i].Date.Before(changes[j].Date) })
	return changes, untested
}

// runOrder is the series' study runs oldest first: each series' own order
// (its points are oldest first) is kept, and among the study runs that
// order leaves free the earliest date goes first, then the one seen first.
// Sorting by date alone is not enough: study runs with equal dates (a
// clock's resolution, a test's fixed time) would then be ordered by where
// they first appear, and a series that lacks the earlier one would be
// compared backwards (r2 → r1, TestRunOrderEqualDates).
func runOrder(series []Series) []string {
	date := map[string]time.Time{}
	var runs []string // in the order first seen
	indeg := map[string]int{}
	next := map[string][]string{}
	for _, s := range series {
		for j, p := range s.Points {
			if _, ok := date[p.StudyRun]; !ok {
				date[p.StudyRun] = p.Date
				runs = append(runs, p.StudyRun)
			}
			if j > 0 && s.Points[j-1].StudyRun != p.StudyRun {
				prev := s.Points[j-1].StudyRun
				next[prev] = append(next[prev], p.StudyRun)
				indeg[p.StudyRun]++
			}
		}
	}
	done := map[string]bool{}
	earliest := func(free bool) string {
		best := ""
		for _, r := range runs {
			if done[r] || (free && indeg[r] > 0) {
				continue
			}
			if best == "" || date[r].Before(date[best]) {
				best = r
			}
		}
		return best
	}
	out := make([]string, 0, len(runs))
	for len(out) < len(runs) {
		r := earliest(true)
		if r == "" { // the series disagree on the order: the earliest left
			r = earliest(false)
		}
		done[r] = true
		out = append(out, r)
		for _, n := range next[r] {
			indeg[n]--
		}
	}
	return out
}

// repSpread is the variance of one repetition's value around its study
// run's mean, pooled over the testable points of a series, and its degrees
// of freedom Σ(r−1); 0, 0 when no study run has two repetitions.
func repSpread(pts []Point) (variance, df float64) {
	var ss float64
	for _, p := range pts {
		if !p.Testable || len(p.Reps) < 2 {
			continue
		}
		for _, v := range p.Reps {
			ss += (v - p.Mean) * (v - p.Mean)
		}
		df += float64(len(p.Reps) - 1)
	}
	if df == 0 {
		return 0, 0
	}
	return ss / df, df
}

// historyDF is the degrees of freedom of the mean of m squared successive
// differences of independent normal means (von Neumann's MSSD): each
// difference's square has variance 2V², neighbours share a mean, so
// Cov(dₖ², dₖ₊₁²) = 2(V/2)², and Var(Σdₖ²/m) = (12m−4)V²/(4m²) =
// 2V²/ν with ν = 2m²/(3m−1) (1 at m = 1, about 2m/3 for many).
func historyDF(m int) float64 {
	fm := float64(m)
	return 2 * fm * fm / (3*fm - 1)
}

// step is one comparison of a series' history: the squared difference of
// two consecutive study runs' means and its variance within them.
type step struct{ sq, within float64 }

// withinVar is the variance of the difference of the means of a and b
// (testable estimates) within their study runs, given the series' pooled
// repetition variance between (df degrees of freedom): each mean's
// variance the larger of its intervals' (from the halves that face the
// other estimate, see Estimate.SELow) and between/r.
func withinVar(a, b Estimate, between, df float64) float64 {
	d := b.Mean - a.Mean
	var v float64
	for i, e := range []Estimate{a, b} {
		// The halves of the intervals that face each other: a's upper
		// and b's lower when b is larger.
		se := e.WithinSE
		if e.SELow != 0 || e.SEHigh != 0 {
			se = e.SELow
			if (i == 0) == (d > 0) {
				se = e.SEHigh
			}
		}
		w := se * se
		vi := w
		r := e.EffReps
		if !(r > 0) {
			r = float64(len(e.Reps))
		}
		if df > 0 && between/r > w {
			vi = between / r
		}
		v += vi
	}
	return v
}

// changeP is the two-sided p-value of a difference d of two study runs'
// means whose variance within them is within, given the series' pooled
// repetition spread's degrees of freedom df and its earlier steps hist (see
// detect): with a history the larger of the history's t test and the
// within-run variance's normal test; without one the within-run variance
// with df (with neither, df 0 and no history, the intervals alone, a
// normal reference — which detect never uses: Untested).
func changeP(d, within, df float64, hist []step) float64 {
	if m := len(hist); m > 0 {
		var ss, ws float64
		for _, h := range hist {
			ss += h.sq
			ws += h.within
		}
		// The history's mean square alone gives a t statistic with
		// historyDF(m) degrees of freedom whatever the night-to-night
		// variation (for study-run means close to normal); a study run
		// noisier within than the history's (a poor repetition) adds its
		// excess. The study runs' own variance must call it a change too
		// (the larger p-value, a normal reference): a history that
		// happens to be small — a fraction that was 0 of 100 on most
		// nights, the quiet nights of a rate from 8 events — then cannot
		// make a move its intervals call noise a flag. The larger of two
		// p-values is valid when either is, so the test holds where the
		// history's normal t does or where the intervals are honest
		// (TestDetectorAttacksCoverage), and a move beyond both is what
		// it flags (power: TestDetectorLimitsCoverage).
		hp := tP(d, ss/float64(m)+max(0, within-ws/float64(m)), historyDF(m))
		return max(hp, tP(d, within, math.Inf(1)))
	}
	// Without a history: both means' spread variances are the same
	// pooled estimate between (perfectly correlated, not two independent
	// ones), so their sum has df degrees of freedom, never the
	// Welch–Satterthwaite Σ of two (up to 2·df: at 2 repetitions in 2
	// study runs 4 instead of 2, a false-alarm rate of 8.5 % at 5 %,
	// TestChangePDegreesOfFreedom). Whichever variance is used, the
	// run-to-run spread was estimated from df degrees of freedom: a
	// mean's variance from the intervals alone would miss it, so df
	// applies then too (conservative).
	dof := math.Inf(1)
	if df > 0 {
		dof = df
	}
	return tP(d, within, dof)
}

// tP is the two-sided p-value of d with variance v and dof degrees of
// freedom (v = 0: 1 when d is 0, else 0).
func tP(d, v, dof float64) float64 {
	if v == 0 {
		if d == 0 {
			return 1
		}
		return 0
	}
	return stats.StudentTwoSidedP(d/math.Sqrt(v), dof)
}

// holm returns which tests Holm's step-down procedure rejects at
// family-wise level alpha: sorted by p, the i-th smallest (0-based, of m)
// is rejected while p ≤ alpha/(m−i). A NaN p-value sorts last and is never
// rejected (it still counts in m).
func holm(tests []Change, alpha float64) []bool {
	order := make([]int, len(tests))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(i, j int) bool { // NaN last
		a, b := tests[order[i]].P, tests[order[j]].P
		return a < b || (!math.IsNaN(a) && math.IsNaN(b))
	})
	out := make([]bool, len(tests))
	for i, k := range order {
		if !(tests[k].P <= alpha/float64(len(tests)-i)) { // a NaN p is never a flag
			break
		}
		out[k] = true
	}
	return out
}
