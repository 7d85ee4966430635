package results

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// Summary is a run's machine-readable outcome, stored in runs.summary when
// the run ends (Run.Summary). It is the one description of it: package
// session writes it, `fbrun experiment --json` prints it (with the run's
// counts), the report and studies read it back with ParseSummary.
type Summary struct {
	RunID      string            `json:"run_id"`
	Experiment string            `json:"experiment"`
	Platform   string            `json:"platform"`
	Status     string            `json:"status"`
	Params     map[string]string `json:"params"`
	// Estimates are the experiment's answers by name. The 95 % interval of
	// estimate K is stored beside it as K_low and K_high
	// (stats.IntervalKeys); one of them alone is a one-sided bound.
	Estimates map[string]float64 `json:"estimates"`
	// Error is the run's error message ("" when it succeeded).
	Error string `json:"error,omitempty"`
}

// ParseSummary decodes a stored summary. An empty one (a run still
// running, or one that never finished) is a Summary without estimates;
// anything that is not a summary, or an estimate that is not a number, is
// an error.
func ParseSummary(raw json.RawMessage) (Summary, error) {
	var s Summary
	if len(bytes.TrimSpace(raw)) == 0 {
		s.Estimates = map[string]float64{}
		return s, nil
	}
	if err := json.Unmarshal(raw, &s); err != nil {
		return Summary{}, fmt.Errorf("results: run summary: %w", err)
	}
	if s.Estimates == nil {
		s.Estimates = map[string]float64{}
	}
	return s, nil
}
