// Package workloads holds the monolith's real workloads: matrix
// multiplication, recursive fibonacci, sorting, an HTML template page
// render, a JSON round trip, hashing with compression, a prime sieve,
// N-queens, binary trees and a Mandelbrot set. Each is chosen by name,
// sized by args (0 selects its default) and deterministic for a given
// seed, so results can be checked against known answers.
//
// Only the monolith links this package; function1/2/3 do not, so their
// binaries stay small.
package workloads

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
)

// ErrUnknown is returned (wrapped) for a workload name that does not exist.
var ErrUnknown = errors.New("unknown workload")

// workload is one named computation.
type workload struct {
	// def is the args value used when args is 0; max is the largest
	// accepted (bounded so one request cannot run for hours).
	def, max int
	doc      string
	run      func(ctx context.Context, n int, seed int64) (checksum string, value any, err error)
}

// Set is the collection of workloads. It implements lab.Workloads and is
// safe for concurrent use.
type Set struct {
	byName map[string]workload
}

// New returns the set of all workloads.
func New() *Set {
	return &Set{byName: map[string]workload{
		"matrix_mult":    {def: 100, max: 800, doc: "multiply two seeded n×n int64 matrices", run: matrixMult},
		"fib":            {def: 25, max: 42, doc: "naive recursive fibonacci of n (seed unused)", run: fib},
		"sort":           {def: 100_000, max: 5_000_000, doc: "sort n seeded int64s", run: sortInts},
		"render_page":    {def: 200, max: 100_000, doc: "render an HTML page of n seeded rows with html/template", run: renderPage},
		"json_roundtrip": {def: 1000, max: 200_000, doc: "encode and decode n seeded records as JSON", run: jsonRoundTrip},
		"hash_compress":  {def: 256, max: 65_536, doc: "generate n KiB of seeded text, SHA-256 it, gzip it and gunzip it", run: hashCompress},
		"primes":         {def: 1_000_000, max: 200_000_000, doc: "count primes below n with a sieve (seed unused)", run: primes},
		"nqueens":        {def: 8, max: 13, doc: "count N-queens solutions for an n×n board (seed unused)", run: nQueens},
		"binary_trees":   {def: 16, max: 22, doc: "build a complete binary tree of depth n with seeded values and walk it", run: binaryTrees},
		"mandelbrot":     {def: 200, max: 4000, doc: "count points of an n×n grid in the Mandelbrot set (seed shifts the window)", run: mandelbrot},
	}}
}

// Names returns the workload names, sorted.
func (s *Set) Names() []string {
	names := make([]string, 0, len(s.byName))
	for n := range s.byName {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// Describe returns a one-line description of a workload and its args
// range, or "" for an unknown name.
func (s *Set) Describe(name string) string {
	w, ok := s.byName[name]
	if !ok {
		return ""
	}
	return fmt.Sprintf("%s (args 1..%d, default %d)", w.doc, w.max, w.def)
}

// Validate reports whether name exists and args is in its range.
func (s *Set) Validate(name string, args int) error {
	w, ok := s.byName[name]
	if !ok {
		return fmt.Errorf("%w %q (known: %v)", ErrUnknown, name, s.Names())
	}
	if args < 0 || args > w.max {
		return fmt.Errorf("workload %s: args must be between 0 (default %d) and %d, got %d", name, w.def, w.max, args)
	}
	return nil
}

// Run runs a workload and returns the hex SHA-256 checksum of its result
// and a JSON summary of it.
func (s *Set) Run(ctx context.Context, name string, args int, seed int64) (string, json.RawMessage, error) {
	if err := s.Validate(name, args); err != nil {
		return "", nil, err
	}
	w := s.byName[name]
	if args == 0 {
		args = w.def
	}
	sum, v, err := w.run(ctx, args, seed)
	if err != nil {
		return "", nil, err
	}
	b, err := json.Marshal(v)
	if err != nil {
		return "", nil, fmt.Errorf("workload %s: encoding result: %w", name, err)
	}
	return sum, b, nil
}

// rng is splitmix64: tiny, fast and fully specified, so tests can
// reproduce every generated input independently.
type rng struct{ s uint64 }

func newRNG(seed int64) *rng { return &rng{s: uint64(seed)} }

func (r *rng) next() uint64 {
	r.s += 0x9e3779b97f4a7c15
	z := r.s
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// intn returns a value in [0, n).
func (r *rng) intn(n uint64) uint64 { return r.next() % n }

func hexSum(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}
