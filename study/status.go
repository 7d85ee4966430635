package study

import (
	"fmt"
	"math"
	"time"

	"github.com/faas-benchmarker/faas-benchmarker/results"
)

// Status is what `fbrun study status NAME` shows (its --json form).
type Status struct {
	Study   string         `json:"study"`
	Runs    []RunStatus    `json:"study_runs"`
	Changes []ChangeStatus `json:"changes"`
	// Untested are the comparisons the change detector could not judge
	// (Untested), oldest first.
	Untested []UntestedStatus `json:"untested"`
}

// ComparisonStatus names one comparison of the change detector: an
// estimate of an experiment on a platform, from one study run to the next
// (its fields appear inline in ChangeStatus and UntestedStatus).
type ComparisonStatus struct {
	Platform   string    `json:"platform"`
	Experiment string    `json:"experiment"`
	Estimate   string    `json:"estimate"`
	FromRun    string    `json:"from_study_run"`
	ToRun      string    `json:"to_study_run"`
	Date       time.Time `json:"date"`
}

// UntestedStatus is one comparison the change detector could not judge.
type UntestedStatus struct {
	ComparisonStatus
	Reason string `json:"reason"`
}

// RunStatus is one study run with its cells.
type RunStatus struct {
	ID      string       `json:"id"`
	State   string       `json:"state"`
	Started time.Time    `json:"started"`
	Ended   *time.Time   `json:"ended,omitempty"`
	Done    int          `json:"done"`
	Failed  int          `json:"failed"`
	Left    int          `json:"left"`
	Cells   []CellStatus `json:"cells"`
}

// CellStatus is one cell of a study run.
type CellStatus struct {
	Seq        int     `json:"seq"`
	Platform   string  `json:"platform"`
	Experiment string  `json:"experiment"`
	Repetition int     `json:"repetition"`
	State      string  `json:"state"`
	Attempts   int     `json:"attempts"`
	RunID      string  `json:"run_id,omitempty"`
	Error      string  `json:"error,omitempty"`
	DurationS  float64 `json:"duration_s,omitempty"`
}

// ChangeStatus is one change detector flag.
type ChangeStatus struct {
	ComparisonStatus
	From EstimateJSON `json:"from"`
	To   EstimateJSON `json:"to"`
	Text string       `json:"text"`
}

// EstimateJSON is an Estimate for JSON: absent values and open bounds are
// null (JSON has no NaN or infinity).
type EstimateJSON struct {
	Value *float64 `json:"value"`
	Low   *float64 `json:"low"`
	High  *float64 `json:"high"`
	N     int      `json:"repetitions"`
}

func finite(v float64) *float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return &v
}

func estimateJSON(e Estimate) EstimateJSON {
	j := EstimateJSON{Value: finite(e.Value), N: e.N}
	if e.HasInterval {
		j.Low, j.High = finite(e.Low), finite(e.High)
	}
	return j
}

// RunState describes a study run's state for people: finished, running
// (with its process), or interrupted (its process is gone: `fbrun study
// run` continues it).
func RunState(sr results.StudyRun) string {
	switch {
	case sr.Status == results.StudyFinished:
		return "finished"
	case ownerAlive(sr.Owner):
		return fmt.Sprintf("running (pid %d)", sr.Owner.PID)
	}
	return "interrupted (fbrun study run continues it)"
}

// NewStatus summarises an analysis for `fbrun study status`.
func NewStatus(a *Analysis) Status {
	st := Status{Study: a.Study, Runs: []RunStatus{}, Changes: []ChangeStatus{}, Untested: []UntestedStatus{}}
	for _, rc := range a.Runs {
		rs := RunStatus{ID: rc.Run.ID, State: RunState(rc.Run), Started: rc.Run.StartedAt, Cells: []CellStatus{}}
		if !rc.Run.EndedAt.IsZero() {
			e := rc.Run.EndedAt
			rs.Ended = &e
		}
		for _, c := range rc.Cells {
			cs := CellStatus{Seq: c.Seq, Platform: c.Platform, Experiment: c.Experiment, Repetition: c.Repetition,
				State: c.State, Attempts: c.Attempts, RunID: c.RunID, Error: c.Error}
			if !c.StartedAt.IsZero() && !c.EndedAt.IsZero() {
				cs.DurationS = c.EndedAt.Sub(c.StartedAt).Seconds()
			}
			switch c.State {
			case results.CellDone:
				rs.Done++
			case results.CellFailed:
				rs.Failed++
			default:
				rs.Left++
			}
			rs.Cells = append(rs.Cells, cs)
		}
		st.Runs = append(st.Runs, rs)
	}
	for _, ch := range a.Changes {
		c := ComparisonStatus{Platform: ch.Platform, Experiment: ch.Experiment, Estimate: ch.Key, FromRun: ch.FromRun, ToRun: ch.ToRun, Date: ch.Date}
		st.Changes = append(st.Changes, ChangeStatus{ComparisonStatus: c, From: estimateJSON(ch.From), To: estimateJSON(ch.To), Text: ch.String()})
	}
	for _, u := range a.Untested {
		c := ComparisonStatus{Platform: u.Platform, Experiment: u.Experiment, Estimate: u.Key, FromRun: u.FromRun, ToRun: u.ToRun, Date: u.Date}
		st.Untested = append(st.Untested, UntestedStatus{ComparisonStatus: c, Reason: u.Reason})
	}
	return st
}
