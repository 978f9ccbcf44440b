package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"
)

// naive is C = alpha·op(A)·op(B) + beta·C in float64.
func naive(tA, tB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) []float64 {
	out := make([]float64, len(c))
	for i := range c {
		out[i] = float64(c[i])
	}
	for i := range m {
		for j := range n {
			var s float64
			for p := range k {
				ai, bi := i*lda+p, p*ldb+j
				if tA {
					ai = p*lda + i
				}
				if tB {
					bi = j*ldb + p
				}
				av, bv := a[ai], b[bi]
				s += float64(av) * float64(bv)
			}
			out[i*ldc+j] = float64(alpha)*s + float64(beta)*float64(c[i*ldc+j])
		}
	}
	return out
}

func randSlice(rng *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(rng.NormFloat64())
	}
	return s
}

type shape struct {
	tA, tB  bool
	m, n, k int
	pad     int // extra columns in every stride
}

// shapes cover both transposes, padded strides, k = 0, and products above
// splitFlops cut by rows (m ≥ 2·blockRows) and by columns.
var shapes = []shape{
	{false, false, 3, 5, 7, 0}, {true, false, 4, 6, 5, 2}, {false, true, 7, 3, 9, 1}, {true, true, 5, 5, 5, 3},
	{false, false, 4, 3, 0, 0},
	{false, false, 600, 64, 64, 0}, {true, false, 300, 70, 64, 5}, {false, true, 520, 33, 80, 0}, {true, true, 257, 40, 100, 1},
	{false, false, 60, 700, 64, 0}, {false, true, 100, 600, 50, 4}, {true, true, 90, 530, 40, 0},
}

func operands(rng *rand.Rand, s shape) (a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
	ra, ca := s.m, s.k
	if s.tA {
		ra, ca = s.k, s.m
	}
	rb, cb := s.k, s.n
	if s.tB {
		rb, cb = s.n, s.k
	}
	lda, ldb, ldc = max(1, ca+s.pad), max(1, cb+s.pad), s.n+s.pad
	return randSlice(rng, max(1, ra*lda)), lda, randSlice(rng, max(1, rb*ldb)), ldb, randSlice(rng, s.m*ldc), ldc
}

// TestSgemmMatchesFloat64 checks every back end of this binary against a
// float64 product, padding columns of C included (they must stay as they were).
func TestSgemmMatchesFloat64(t *testing.T) {
	for _, be := range Available() {
		t.Run(be, func(t *testing.T) {
			defer use(t, be)()
			rng := rand.New(rand.NewPCG(1, 2))
			for _, s := range shapes {
				a, lda, b, ldb, c, ldc := operands(rng, s)
				want := naive(s.tA, s.tB, s.m, s.n, s.k, 0.7, a, lda, b, ldb, -1.3, c, ldc)
				Sgemm(s.tA, s.tB, s.m, s.n, s.k, 0.7, a, lda, b, ldb, -1.3, c, ldc)
				tol := 1e-5 * math.Sqrt(float64(max(s.k, 1))) * 8
				for i := range c {
					if d := math.Abs(float64(c[i]) - want[i]); d > tol*(1+math.Abs(want[i])) {
						t.Fatalf("%+v: C[%d] = %g, float64 product %g", s, i, c[i], want[i])
					}
				}
			}
		})
	}
}

// TestSgemmSameBytesAnyCores: a product is the same bytes on 1 and 2 cores
// (the OpenBLAS back end's blocks depend on the shape only).
func TestSgemmSameBytesAnyCores(t *testing.T) {
	for _, be := range Available() {
		t.Run(be, func(t *testing.T) {
			defer use(t, be)()
			for _, s := range shapes {
				var outs [][]float32
				for _, procs := range []int{1, 2, 3} {
					old := runtime.GOMAXPROCS(procs)
					a, lda, b, ldb, c, ldc := operands(rand.New(rand.NewPCG(3, 4)), s)
					Sgemm(s.tA, s.tB, s.m, s.n, s.k, 1, a, lda, b, ldb, 0.5, c, ldc)
					runtime.GOMAXPROCS(old)
					outs = append(outs, c)
				}
				for _, o := range outs[1:] {
					if !slices.Equal(o, outs[0]) {
						t.Fatalf("%+v: results differ between GOMAXPROCS 1 and more", s)
					}
				}
			}
		})
	}
}

// TestSgemmRefusesShortStrides: a stride shorter than its row (lda < 4
// for op(A) 3×4, lda < 3 for A = 4×3 transposed, ldb < 5, ldc < 5) panics
// instead of reading the wrong elements.
func TestSgemmRefusesShortStrides(t *testing.T) {
	for _, c := range []struct {
		tA            bool
		lda, ldb, ldc int
	}{{false, 3, 5, 5}, {true, 2, 5, 5}, {false, 4, 4, 5}, {false, 4, 5, 4}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%+v: a 3×4·4×5 product with a short stride did not panic", c)
				}
			}()
			Sgemm(c.tA, false, 3, 5, 4, 1, make([]float32, 64), c.lda, make([]float32, 64), c.ldb, 0, make([]float32, 64), c.ldc)
		}()
	}
}

func TestUseRefusesUnknown(t *testing.T) {
	if err := Use("mkl"); err == nil {
		t.Fatal("Use(mkl) succeeded")
	}
	if len(Available()) == 1 {
		if err := Use("openblas"); err == nil {
			t.Fatal("Use(openblas) succeeded without OpenBLAS")
		}
	}
}

// use switches to back end be and returns the switch back (kernelstest.Use,
// which this package's tests cannot import).
func use(tb testing.TB, be string) func() {
	old := Kind()
	if err := Use(be); err != nil {
		tb.Fatal(err)
	}
	return func() { Use(old) }
}

// BenchmarkSgemm times both back ends at the built-in model's shapes.
func BenchmarkSgemm(b *testing.B) {
	for _, be := range Available() {
		for _, s := range [][3]int{{1920, 64, 64}, {1920, 256, 64}, {512, 64, 768}, {4096, 512, 128}, {64, 16, 64}} {
			m, n, k := s[0], s[1], s[2]
			b.Run(fmt.Sprintf("%s/%dx%dx%d", be, m, n, k), func(b *testing.B) {
				defer use(b, be)()
				rng := rand.New(rand.NewPCG(1, 1))
				x, y, c := randSlice(rng, m*k), randSlice(rng, k*n), make([]float32, m*n)
				b.ResetTimer()
				for range b.N {
					Sgemm(false, false, m, n, k, 1, x, k, y, n, 0, c, n)
				}
				b.ReportMetric(2*float64(m*n*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}
