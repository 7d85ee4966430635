package runner

import (
	"context"
	"fmt"

	"github.com/faas-benchmarker/faas-benchmarker/results/blobstore"
)

// Puller fetches shipped results files; blobstore.Store implements it.
type Puller interface {
	Pull(ctx context.Context, prefix, dir string) ([]blobstore.Pulled, error)
}

// Importer merges a standalone results file into the local results
// database idempotently and returns the ids of the runs that were new;
// results.DB implements it.
type Importer interface {
	Import(ctx context.Context, path string) ([]string, error)
}

// PullReport tells what PullResults did.
type PullReport struct {
	// Objects is the number of results files found remotely.
	Objects int
	// Downloaded is how many of them were downloaded (the others were
	// already present locally with the same SHA-256).
	Downloaded int
	// NewRuns are the run ids that the merge added to the local database.
	NewRuns []string
}

// PullResults implements `fbrun results pull`: it downloads the results
// files under prefix into dir (verifying their SHA-256) and merges every
// one of them into db. Merging is idempotent, so pulling twice adds nothing
// the second time.
func PullResults(ctx context.Context, p Puller, prefix, dir string, db Importer) (PullReport, error) {
	var rep PullReport
	pulled, err := p.Pull(ctx, prefix, dir)
	if err != nil {
		return rep, fmt.Errorf("runner: pull results: %w", err)
	}
	for _, f := range pulled {
		rep.Objects++
		if f.Downloaded {
			rep.Downloaded++
		}
		added, err := db.Import(ctx, f.Path)
		if err != nil {
			return rep, fmt.Errorf("runner: merge %s: %w", f.Path, err)
		}
		rep.NewRuns = append(rep.NewRuns, added...)
	}
	return rep, nil
}
