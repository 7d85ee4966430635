package workloads

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// ref is an independent splitmix64 (Vigna's reference algorithm), used to
// recompute inputs without calling the package's generator.
type ref struct{ s uint64 }

func (r *ref) next() uint64 {
	r.s += 0x9e3779b97f4a7c15
	z := r.s
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

func sum256(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

func run(t *testing.T, name string, args int, seed int64) (string, map[string]any) {
	t.Helper()
	sum, raw, err := New().Run(context.Background(), name, args, seed)
	if err != nil {
		t.Fatalf("%s(%d, %d): %v", name, args, seed, err)
	}
	var v map[string]any
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatalf("value %s: %v", raw, err)
	}
	return sum, v
}

func TestRNGKnownAnswer(t *testing.T) {
	// First output of splitmix64 seeded with 0 (published test vector).
	if got := newRNG(0).next(); got != 0xe220a8397b1dcdaf {
		t.Fatalf("splitmix64(0) = %#x", got)
	}
}

func TestKnownAnswers(t *testing.T) {
	tests := []struct {
		name  string
		args  int
		field string
		want  float64
	}{
		{"fib", 30, "fib", 832040},
		{"fib", 20, "fib", 6765},
		{"fib", 1, "fib", 1},
		{"fib", 0, "fib", 75025}, // args 0 = default 25
		{"primes", 100, "count", 25},
		{"primes", 1_000_000, "count", 78498},
		{"nqueens", 4, "solutions", 2},
		{"nqueens", 8, "solutions", 92},
		{"nqueens", 10, "solutions", 724},
		{"binary_trees", 10, "nodes", 2047},
	}
	for _, tt := range tests {
		t.Run(tt.name+"/"+strconv.Itoa(tt.args), func(t *testing.T) {
			_, v := run(t, tt.name, tt.args, 1)
			if got, _ := v[tt.field].(float64); got != tt.want {
				t.Fatalf("%s = %v, want %v (value %v)", tt.field, v[tt.field], tt.want, v)
			}
		})
	}
	if sum, _ := run(t, "fib", 30, 0); sum != sum256([]byte("832040")) {
		t.Fatalf("fib checksum = %s", sum)
	}
}

func TestMatrixMultIndependent(t *testing.T) {
	const n, seed = 17, 42
	r := &ref{s: seed}
	a, b := make([][]int64, n), make([][]int64, n)
	for _, m := range [][][]int64{a, b} {
		for i := range m {
			m[i] = make([]int64, n)
			for j := range m[i] {
				m[i][j] = int64(r.next() % 100)
			}
		}
	}
	buf := make([]byte, 0, 8*n*n)
	var trace int64
	for i := 0; i < n; i++ {
		for j := 0; j < n; j++ { // textbook i-j-k order, unlike the workload's i-k-j
			var c int64
			for k := 0; k < n; k++ {
				c += a[i][k] * b[k][j]
			}
			if i == j {
				trace += c
			}
			buf = binary.LittleEndian.AppendUint64(buf, uint64(c))
		}
	}
	sum, v := run(t, "matrix_mult", n, seed)
	if sum != sum256(buf) || v["trace"].(float64) != float64(trace) {
		t.Fatalf("matrix_mult = %s %v, want %s trace %d", sum, v, sum256(buf), trace)
	}
}

func TestSortIndependent(t *testing.T) {
	const n = 1000
	var seed int64 = -7
	r := &ref{s: uint64(seed)}
	v := make([]int64, n)
	for i := range v {
		v[i] = int64(r.next() >> 1)
	}
	sort.Slice(v, func(i, j int) bool { return v[i] < v[j] })
	buf := make([]byte, 0, 8*n)
	for _, x := range v {
		buf = binary.LittleEndian.AppendUint64(buf, uint64(x))
	}
	sum, got := run(t, "sort", n, seed)
	if sum != sum256(buf) || got["min"].(float64) != float64(v[0]) {
		t.Fatalf("sort = %s %v, want %s", sum, got, sum256(buf))
	}
}

func TestBinaryTreesIndependent(t *testing.T) {
	const depth, seed = 8, 3
	r := &ref{s: seed}
	var total int64
	for range 1<<(depth+1) - 1 { // pre-order assignment draws one value per node
		total += int64(r.next() % 1000)
	}
	_, v := run(t, "binary_trees", depth, seed)
	if v["sum"].(float64) != float64(total) {
		t.Fatalf("binary_trees sum = %v, want %d", v["sum"], total)
	}
}

func TestHashCompressIndependent(t *testing.T) {
	const kib, seed = 3, 11
	r := &ref{s: seed}
	var sb strings.Builder
	for sb.Len() < kib*1024 {
		sb.WriteString(words[r.next()%uint64(len(words))])
		sb.WriteByte(' ')
	}
	text := sb.String()[:kib*1024]
	sum, v := run(t, "hash_compress", kib, seed)
	if sum != sum256([]byte(text)) {
		t.Fatalf("hash_compress checksum = %s, want %s", sum, sum256([]byte(text)))
	}
	if c := v["compressed_bytes"].(float64); c <= 0 || c >= kib*1024 {
		t.Fatalf("compressed_bytes = %v", c)
	}
}

func TestMandelbrotIndependent(t *testing.T) {
	const n = 60
	inside := 0
	for y := 0; y < n; y++ {
		for x := 0; x < n; x++ {
			c := complex(-2+3*float64(x)/float64(n), -1.5+3*float64(y)/float64(n))
			z := complex(0, 0)
			i := 0
			for ; i < 200 && real(z)*real(z)+imag(z)*imag(z) <= 4; i++ {
				z = z*z + c
			}
			if i == 200 {
				inside++
			}
		}
	}
	_, v := run(t, "mandelbrot", n, 0)
	if v["inside"].(float64) != float64(inside) || inside == 0 {
		t.Fatalf("mandelbrot inside = %v, want %d", v["inside"], inside)
	}
}

func TestTextWorkloads(t *testing.T) {
	for _, name := range []string{"render_page", "json_roundtrip"} {
		t.Run(name, func(t *testing.T) {
			a, _ := run(t, name, 50, 1)
			b, _ := run(t, name, 50, 1)
			c, _ := run(t, name, 50, 2)
			if a != b || a == c {
				t.Fatalf("not deterministic by seed: %s %s %s", a, b, c)
			}
		})
	}
	recs := records(3, 5)
	enc, _ := json.Marshal(recs)
	if sum, _ := run(t, "json_roundtrip", 3, 5); sum != sum256(enc) {
		t.Fatalf("json_roundtrip checksum mismatch")
	}
	_, v := run(t, "render_page", 3, 5)
	if v["rows"].(float64) != 3 || v["bytes"].(float64) < 200 {
		t.Fatalf("render_page = %v", v)
	}
}

func TestValidate(t *testing.T) {
	s := New()
	tests := []struct {
		name    string
		args    int
		wantErr bool
	}{
		{"fib", 30, false},
		{"fib", 0, false},
		{"fib", 43, true},
		{"fib", -1, true},
		{"matrix_mult", 801, true},
		{"nope", 1, true},
	}
	for _, tt := range tests {
		if err := s.Validate(tt.name, tt.args); (err != nil) != tt.wantErr {
			t.Errorf("Validate(%s, %d) = %v", tt.name, tt.args, err)
		}
	}
	if err := s.Validate("nope", 1); !errors.Is(err, ErrUnknown) {
		t.Errorf("unknown workload error = %v", err)
	}
	if len(s.Names()) < 10 || s.Describe("fib") == "" {
		t.Errorf("names = %v", s.Names())
	}
}

func TestCancelledContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, name := range []string{"matrix_mult", "mandelbrot", "primes"} {
		if _, _, err := New().Run(ctx, name, 0, 1); !errors.Is(err, context.Canceled) {
			t.Errorf("%s with cancelled ctx: err = %v", name, err)
		}
	}
}

func BenchmarkWorkloads(b *testing.B) {
	s := New()
	for _, name := range s.Names() {
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				if _, _, err := s.Run(context.Background(), name, 0, 1); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
