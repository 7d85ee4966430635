package fbcli

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"

	"github.com/faas-benchmarker/faas-benchmarker/localfaas"
	"github.com/faas-benchmarker/faas-benchmarker/platforms/builtin"
	"github.com/faas-benchmarker/faas-benchmarker/results"
	"github.com/faas-benchmarker/faas-benchmarker/study"
)

// studyVocabulary is what a study file may name: the --platform values
// of `fbrun experiment` that need no existing deployment (a study takes no
// --function or --endpoint: the platform starts or deploys its own), and
// the --local-* flags of the embedded ones.
func studyVocabulary() (study.Vocabulary, error) {
	v := study.Vocabulary{CheckLocal: checkLocalKnobs}
	reg, err := builtin.Registry()
	if err != nil {
		return v, err
	}
	for _, p := range reg.All() {
		if p.Embedded {
			v.LocalPlatforms = append(v.LocalPlatforms, p.Name)
		}
		if p.Embedded || p.Stack != nil {
			v.Platforms = append(v.Platforms, p.Name)
		}
	}
	for _, k := range localfaas.Knobs() {
		v.LocalKnobs = append(v.LocalKnobs, k.Name)
	}
	return v, nil
}

// checkLocalKnobs validates a study platform's knobs as `fbrun experiment`
// would its --local-* flags: parsed by the knob table, the resulting
// configuration validated.
func checkLocalKnobs(knobs map[string]string) error {
	cfg := localfaas.DefaultConfig()
	cfg.Functions = localfaas.DefaultFunctions([]string{"lab"})
	return cfg.SetKnobs(knobs)
}

// studyProgress is the one display of a whole study run: cells done of
// all, the cell running, failures and an ETA from each remaining cell's
// expected duration (its median duration in earlier study runs). Without
// a terminal it prints one line per finished attempt instead.
type studyProgress struct {
	w   io.Writer
	bar *mpb.Bar
	p   *mpb.Progress

	mu       sync.Mutex
	expected map[int]time.Duration // by cell seq, remaining cells only
	current  string
	started  time.Time
	failed   int
	total    int
	done     int
	took     []time.Duration // this process's finished cells
}

func newStudyProgress(w io.Writer, bar bool) *studyProgress {
	sp := &studyProgress{w: w, expected: map[int]time.Duration{}}
	if bar {
		sp.p = mpb.New(mpb.WithOutput(w), mpb.WithWidth(30))
	}
	return sp
}

// Begin implements study.Observer.
func (s *studyProgress) Begin(run results.StudyRun, cells []study.PlannedCell) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.total = len(cells)
	for _, c := range cells {
		switch c.State {
		case results.CellDone, results.CellFailed:
			s.done++
		default:
			s.expected[c.Cell.Seq] = c.Expected
		}
	}
	fmt.Fprintf(s.w, "study run %s: %d cells, %d to run\n", run.ID, s.total, s.total-s.done)
	if s.p == nil {
		return
	}
	s.bar = s.p.AddBar(int64(s.total),
		mpb.PrependDecorators(
			decor.Any(func(decor.Statistics) string { return "cells" }, decor.WCSyncSpaceR),
			decor.CountersNoUnit("%d/%d", decor.WCSyncSpace),
		),
		mpb.AppendDecorators(decor.Any(func(decor.Statistics) string { return " " + s.status(time.Now()) })),
	)
	s.bar.SetCurrent(int64(s.done))
}

// status is the text after the bar: the running cell, failures, ETA.
func (s *studyProgress) status(now time.Time) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	parts := []string{}
	if s.current != "" {
		parts = append(parts, s.current)
	}
	if s.failed > 0 {
		parts = append(parts, fmt.Sprintf("failed: %d", s.failed))
	}
	parts = append(parts, s.eta(now))
	return strings.Join(parts, " · ")
}

// eta sums the expected durations of the cells left, minus the time the
// running cell has already taken. Cells never run before are estimated
// by the median of this process's finished cells, or said to be unknown.
func (s *studyProgress) eta(now time.Time) string {
	var left time.Duration
	unknown := 0
	var fallback time.Duration
	if n := len(s.took); n > 0 {
		ds := slices.Clone(s.took)
		slices.Sort(ds)
		fallback = ds[n/2]
	}
	for _, d := range s.expected {
		switch {
		case d > 0:
			left += d
		case fallback > 0:
			left += fallback
		default:
			unknown++
		}
	}
	if !s.started.IsZero() {
		left -= min(now.Sub(s.started), left)
	}
	switch {
	case len(s.expected) == 0:
		return "finished"
	case unknown == len(s.expected):
		return "ETA unknown (first run of these cells)"
	case unknown > 0:
		return fmt.Sprintf("ETA > %s (%d cells without history)", left.Round(time.Second), unknown)
	}
	return "ETA ~" + left.Round(time.Second).String()
}

// CellStarted implements study.Observer.
func (s *studyProgress) CellStarted(c study.Cell, attempt int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.current = c.Label()
	if attempt > 1 {
		s.current += fmt.Sprintf(" (attempt %d)", attempt)
	}
	s.started = time.Now()
}

// CellEnded implements study.Observer.
func (s *studyProgress) CellEnded(c study.Cell, attempt int, state string, res study.Result, took time.Duration) {
	s.mu.Lock()
	s.current, s.started = "", time.Time{}
	finished := state == results.CellDone || state == results.CellFailed
	if finished {
		delete(s.expected, c.Seq)
		s.done++
	}
	if state == results.CellDone {
		s.took = append(s.took, took)
	}
	if state == results.CellFailed {
		s.failed++
	}
	done, total := s.done, s.total
	s.mu.Unlock()
	if s.bar != nil && finished {
		s.bar.Increment()
	}
	line := fmt.Sprintf("[%d/%d] %s: %s in %s", done, total, c.Label(), state, took.Round(100*time.Millisecond))
	if state == results.CellPending {
		line = fmt.Sprintf("[%d/%d] %s: attempt %d failed, will retry", done, total, c.Label(), attempt)
	}
	if res.RunID != "" {
		line += " (run " + res.RunID + ")"
	}
	if res.Err != "" {
		line += ": " + res.Err
	}
	if s.p != nil {
		fmt.Fprintln(s.p, line) // printed above the bar
		return
	}
	fmt.Fprintln(s.w, line)
}

// Close finishes the display.
func (s *studyProgress) Close() {
	if s.p == nil {
		return
	}
	if s.bar != nil {
		s.bar.Abort(false)
	}
	s.p.Wait()
}
