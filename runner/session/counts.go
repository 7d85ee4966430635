package session

import (
	"context"

	"github.com/faas-benchmarker/faas-benchmarker/results"
)

// Counts summarises a run's client invocations (Depth 0); nested calls are
// counted separately.
type Counts struct {
	Invocations   int64            `json:"invocations"`
	OK            int64            `json:"ok"`
	FunctionError int64            `json:"function_error"`
	Errors        int64            `json:"errors"`
	Cold          int64            `json:"cold"`
	Warm          int64            `json:"warm"`
	Nested        int64            `json:"nested"`
	ErrorsByKind  map[string]int64 `json:"-"`
}

// CountRun reads a run back and counts its invocations by outcome.
func CountRun(ctx context.Context, db *results.DB, runID string) (Counts, error) {
	c := Counts{ErrorsByKind: map[string]int64{}}
	err := db.EachInvocation(ctx, runID, results.InvocationOptions{}, func(v *results.Invocation) error {
		if v.Depth > 0 {
			c.Nested++
			return nil
		}
		c.Invocations++
		switch v.Status {
		case results.InvOK:
			c.OK++
		case results.InvFunctionError:
			c.FunctionError++
			c.ErrorsByKind["function:"+v.ErrorKind]++
		default:
			c.Errors++
			c.ErrorsByKind[v.ErrorKind]++
		}
		if v.Cold != nil {
			if *v.Cold {
				c.Cold++
			} else {
				c.Warm++
			}
		}
		return nil
	})
	return c, err
}
