package study

import (
	"encoding/json"
	"fmt"
)

// Cell is one unit of a study run: an experiment on one platform column,
// one repetition. It carries everything needed to run it, so that a study
// run resumed later runs what it began with even if the file changed.
type Cell struct {
	// Seq is the position in the plan, from 1.
	Seq        int               `json:"seq"`
	Platform   Platform          `json:"platform"`
	Experiment string            `json:"experiment"`
	Params     map[string]string `json:"params,omitempty"`
	Repetition int               `json:"repetition"`
}

// Label names the cell for people: "cold-start on local-fast #2".
func (c Cell) Label() string {
	return fmt.Sprintf("%s on %s #%d", c.Experiment, c.Platform.Name, c.Repetition)
}

// Plan returns the cells of one study run, interleaved so that time-of-day
// effects do not masquerade as platform differences: repetition by
// repetition, experiment by experiment, every platform in turn — and the
// platform order rotates by one from one (repetition, experiment) round to
// the next, so that no platform always runs first or last. With P
// platforms, each experiment's cells of one repetition run back to back.
func Plan(s *Spec) []Cell {
	var cells []Cell
	n := len(s.Platforms)
	round := 0
	for rep := 1; rep <= s.Repetitions; rep++ {
		for _, e := range s.Experiments {
			for i := range n {
				pl := s.Platforms[(i+round)%n]
				cells = append(cells, Cell{Seq: len(cells) + 1, Platform: pl, Experiment: e.Name, Params: e.ParamsOn(pl.Name), Repetition: rep})
			}
			round++
		}
	}
	return cells
}

func (c Cell) specJSON() (string, error) {
	b, err := json.Marshal(c)
	if err != nil {
		return "", fmt.Errorf("study: encode cell %d: %w", c.Seq, err)
	}
	return string(b), nil
}

func decodeCell(spec string) (Cell, error) {
	var c Cell
	if err := json.Unmarshal([]byte(spec), &c); err != nil {
		return c, fmt.Errorf("study: decode cell: %w", err)
	}
	return c, nil
}
