package model

import (
	"math/rand/v2"
	"runtime"

	"github.com/tive-dev/tive/harness/internal/kernels"
)

// Param is one named parameter tensor: values W and gradient accumulator G,
// both row-major with the given shape.
type Param struct {
	Name   string
	Shape  []int
	W      []float32
	G      []float32
	Frozen bool // excluded from gradient accumulation and the optimizer
}

func newParam(name string, shape ...int) *Param {
	n := 1
	for _, s := range shape {
		n *= s
	}
	return &Param{Name: name, Shape: shape, W: make([]float32, n), G: make([]float32, n)}
}

// initNormal fills p.W with N(0, std²) draws from rng.
func (p *Param) initNormal(rng *rand.Rand, std float64) {
	for i := range p.W {
		p.W[i] = float32(rng.NormFloat64() * std)
	}
}

func (p *Param) fill(v float32) {
	for i := range p.W {
		p.W[i] = v
	}
}

// gradChunk is the number of rows per partial sum in reductions over tokens.
// It is fixed, not tied to the core count, so results are the same bytes on
// every machine.
const gradChunk = 256

// gemmTN accumulates C += alpha·Aᵀ·B, A n×m, B n×k, C m×k, splitting the
// reduction over the n rows into fixed chunks of gradChunk rows computed in
// parallel and summed in chunk order. kernels.Sgemm splits a product only by
// rows or columns of C, so a small C (weight gradients of a narrow model)
// would run on one core, hence this helper.
func gemmTN(m, k, n int, alpha float32, a, b, c []float32, scratch *[]float32) {
	chunked(c[:m*k], n, scratch, func(dst []float32, r0, r1 int) {
		kernels.Sgemm(true, false, m, k, r1-r0, alpha, a[r0*m:], m, b[r0*k:], k, 1, dst, k)
	})
}

// sumRows accumulates c += Σ_r b_r over the n rows of b [n, k] (a bias
// gradient), in gemmTN's chunks.
func sumRows(k, n int, b, c []float32, scratch *[]float32) {
	chunked(c[:k], n, scratch, func(dst []float32, r0, r1 int) {
		kernels.AddRows(dst, b[r0*k:], r1-r0, k)
	})
}

// chunked adds a sum over n rows to c: add(dst, r0, r1) adds the sum over
// rows r0 ≤ r < r1 to dst. One chunk adds into c directly; more are
// computed in parallel into zeroed partial sums (in scratch) that are added
// to c in chunk order.
func chunked(c []float32, n int, scratch *[]float32, add func(dst []float32, r0, r1 int)) {
	if n == 0 {
		return
	}
	chunks := (n + gradChunk - 1) / gradChunk
	if chunks == 1 {
		add(c, 0, n)
		return
	}
	l := len(c)
	*scratch = grow(*scratch, chunks*l)
	part := *scratch
	kernels.For(chunks, func(_, ch int) {
		p := part[ch*l : (ch+1)*l]
		clear(p)
		add(p, ch*gradChunk, min((ch+1)*gradChunk, n))
	})
	kernels.AddRows(c, part, chunks, l)
}

// parallelFor splits [0, n) into up to GOMAXPROCS contiguous ranges of at
// least grain items and runs them on kernels.For's workers. Work must not
// depend on the split for results to be reproducible.
func parallelFor(n, grain int, f func(lo, hi int)) {
	w := min(runtime.GOMAXPROCS(0), n/max(grain, 1))
	if w <= 1 {
		f(0, n)
		return
	}
	kernels.For(w, func(_, r int) { f(r*n/w, (r+1)*n/w) })
}

// grow returns s resliced to length n, reallocating when its capacity is
// short. Contents are not cleared.
func grow(s []float32, n int) []float32 {
	if cap(s) < n {
		return make([]float32, n, n+n/4)
	}
	return s[:n]
}

func zero(s []float32) {
	clear(s)
}

func axpy(dst []float32, a float32, x []float32) {
	for i, v := range x {
		dst[i] += a * v
	}
}

// dot is Σ a_i b_i.
func dot(a, b []float32) float32 {
	var s float32
	b = b[:len(a)]
	for i, v := range a {
		s += v * b[i]
	}
	return s
}
