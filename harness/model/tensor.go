package model

import (
	"math"
	"math/rand/v2"
	"runtime"
	"sync"

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
const gradChunk = 512

// gemmTN accumulates C += alpha·Aᵀ·B, A n×m, B n×k, C m×k, splitting the
// reduction over the n rows into fixed chunks of gradChunk rows computed in
// parallel and summed in chunk order. kernels.Sgemm splits a product only by
// rows or columns of C, so a small C (weight gradients of a narrow model)
// would run on one core, hence this helper.
func gemmTN(m, k, n int, alpha float32, a, b, c []float32, scratch *[]float32) {
	if n == 0 {
		return
	}
	chunks := (n + gradChunk - 1) / gradChunk
	if chunks == 1 {
		kernels.Sgemm(true, false, m, k, n, alpha, a, m, b, k, 1, c, k)
		return
	}
	*scratch = grow(*scratch, chunks*m*k)
	part := *scratch
	parallelFor(chunks, 1, func(lo, hi int) {
		for ch := lo; ch < hi; ch++ {
			r0, r1 := ch*gradChunk, min((ch+1)*gradChunk, n)
			kernels.Sgemm(true, false, m, k, r1-r0, alpha, a[r0*m:], m, b[r0*k:], k, 0, part[ch*m*k:(ch+1)*m*k], k)
		}
	})
	for ch := 0; ch < chunks; ch++ {
		p := part[ch*m*k : (ch+1)*m*k]
		for i, v := range p {
			c[i] += v
		}
	}
}

// parallelFor splits [0, n) into contiguous ranges run on up to GOMAXPROCS
// goroutines; ranges hold at least grain items. Work must not depend on the
// split for results to be reproducible.
func parallelFor(n, grain int, f func(lo, hi int)) {
	w := runtime.GOMAXPROCS(0)
	if grain < 1 {
		grain = 1
	}
	if w > n/grain {
		w = n / grain
	}
	if w <= 1 {
		f(0, n)
		return
	}
	var wg sync.WaitGroup
	for i := 0; i < w; i++ {
		lo, hi := i*n/w, (i+1)*n/w
		wg.Add(1)
		go func() {
			defer wg.Done()
			f(lo, hi)
		}()
	}
	wg.Wait()
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

func sqrt32(x float32) float32 { return float32(math.Sqrt(float64(x))) }
