package workloads

import (
	"context"
	"encoding/binary"
	"slices"
	"strconv"
)

// matrixMult multiplies two n×n matrices with entries in [0, 100) drawn
// from the seed (A row-major first, then B). The checksum covers C's
// entries as little-endian int64 in row-major order.
func matrixMult(ctx context.Context, n int, seed int64) (string, any, error) {
	r := newRNG(seed)
	a := make([]int64, n*n)
	b := make([]int64, n*n)
	for i := range a {
		a[i] = int64(r.intn(100))
	}
	for i := range b {
		b[i] = int64(r.intn(100))
	}
	c := make([]int64, n*n)
	for i := 0; i < n; i++ {
		if err := ctx.Err(); err != nil {
			return "", nil, err
		}
		ci := c[i*n : (i+1)*n]
		for k := 0; k < n; k++ {
			aik := a[i*n+k]
			bk := b[k*n : (k+1)*n]
			for j := range ci {
				ci[j] += aik * bk[j]
			}
		}
	}
	buf := make([]byte, 8*len(c))
	var sum, trace int64
	for i, v := range c {
		binary.LittleEndian.PutUint64(buf[8*i:], uint64(v))
		sum += v
	}
	for i := 0; i < n; i++ {
		trace += c[i*n+i]
	}
	return hexSum(buf), map[string]int64{"n": int64(n), "sum": sum, "trace": trace}, nil
}

// fib computes fibonacci(n) by naive recursion (fib(0)=0, fib(1)=1), a
// classic function-call-heavy CPU load.
func fib(_ context.Context, n int, _ int64) (string, any, error) {
	v := fibRec(n)
	return hexSum([]byte(strconv.FormatInt(v, 10))), map[string]int64{"n": int64(n), "fib": v}, nil
}

func fibRec(n int) int64 {
	if n < 2 {
		return int64(n)
	}
	return fibRec(n-1) + fibRec(n-2)
}

// sortInts sorts n seeded int64s; the checksum covers the sorted values as
// little-endian int64.
func sortInts(_ context.Context, n int, seed int64) (string, any, error) {
	r := newRNG(seed)
	v := make([]int64, n)
	for i := range v {
		v[i] = int64(r.next() >> 1)
	}
	slices.Sort(v)
	buf := make([]byte, 8*n)
	for i, x := range v {
		binary.LittleEndian.PutUint64(buf[8*i:], uint64(x))
	}
	return hexSum(buf), map[string]int64{"n": int64(n), "min": v[0], "median": v[n/2], "max": v[n-1]}, nil
}

// primes counts the primes below n with a sieve of Eratosthenes.
func primes(ctx context.Context, n int, _ int64) (string, any, error) {
	composite := make([]bool, n)
	count := 0
	for i := 2; i < n; i++ {
		if i&0xffff == 2 && ctx.Err() != nil {
			return "", nil, ctx.Err()
		}
		if composite[i] {
			continue
		}
		count++
		for j := i * i; j < n; j += i {
			composite[j] = true
		}
	}
	return hexSum([]byte(strconv.Itoa(count))), map[string]int{"n": n, "count": count}, nil
}

// nQueens counts the solutions of the n-queens puzzle by backtracking
// over bitmasks.
func nQueens(_ context.Context, n int, _ int64) (string, any, error) {
	all := uint32(1)<<n - 1
	var solve func(cols, d1, d2 uint32) int
	solve = func(cols, d1, d2 uint32) int {
		if cols == all {
			return 1
		}
		total := 0
		free := all &^ (cols | d1 | d2)
		for free != 0 {
			bit := free & -free
			free ^= bit
			total += solve(cols|bit, (d1|bit)<<1&all, (d2|bit)>>1)
		}
		return total
	}
	s := solve(0, 0, 0)
	return hexSum([]byte(strconv.Itoa(s))), map[string]int{"n": n, "solutions": s}, nil
}

type treeNode struct {
	left, right *treeNode
	value       int64
}

// binaryTrees builds a complete binary tree of the given depth whose node
// values come from the seed (assigned in pre-order), then walks it. An
// allocation- and pointer-heavy load.
func binaryTrees(_ context.Context, depth int, seed int64) (string, any, error) {
	r := newRNG(seed)
	var build func(d int) *treeNode
	build = func(d int) *treeNode {
		n := &treeNode{value: int64(r.intn(1000))}
		if d > 0 {
			n.left = build(d - 1)
			n.right = build(d - 1)
		}
		return n
	}
	root := build(depth)
	var nodes, sum int64
	var walk func(n *treeNode)
	walk = func(n *treeNode) {
		if n == nil {
			return
		}
		nodes++
		sum += n.value
		walk(n.left)
		walk(n.right)
	}
	walk(root)
	return hexSum([]byte(strconv.FormatInt(nodes, 10) + ":" + strconv.FormatInt(sum, 10))),
		map[string]int64{"depth": int64(depth), "nodes": nodes, "sum": sum}, nil
}

// mandelbrot counts the points of an n×n grid over [-2, 1]×[-1.5, 1.5]
// (shifted right by (seed mod 100)/1000) that stay bounded for 200
// iterations.
func mandelbrot(ctx context.Context, n int, seed int64) (string, any, error) {
	const maxIter = 200
	shift := float64(((seed%100)+100)%100) / 1000
	inside := 0
	for y := 0; y < n; y++ {
		if ctx.Err() != nil {
			return "", nil, ctx.Err()
		}
		ci := -1.5 + 3*float64(y)/float64(n)
		for x := 0; x < n; x++ {
			cr := -2 + shift + 3*float64(x)/float64(n)
			zr, zi := 0.0, 0.0
			i := 0
			for ; i < maxIter && zr*zr+zi*zi <= 4; i++ {
				zr, zi = zr*zr-zi*zi+cr, 2*zr*zi+ci
			}
			if i == maxIter {
				inside++
			}
		}
	}
	return hexSum([]byte(strconv.Itoa(inside))), map[string]int{"n": n, "inside": inside}, nil
}
