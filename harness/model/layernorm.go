package model

import "github.com/tive-dev/tive/harness/internal/kernels"

// LayerNorm is y = (x − μ)·r·g + b per row, μ the row mean, r = 1/√(σ² + ε),
// σ² the biased row variance, ε = 1e-5.
//
// Backward, with x̂ = (x − μ)·r and δ = ∂L/∂y:
//
//	∂L/∂g = Σ_rows δ⊙x̂, ∂L/∂b = Σ_rows δ
//	∂L/∂x = r·(δ⊙g − mean(δ⊙g) − x̂·mean(δ⊙g⊙x̂))
type LayerNorm struct {
	Name string
	D    int
	G, B *Param

	x       []float32 // input (not owned)
	n       int
	mean    []float32
	rstd    []float32
	scratch []float32
}

func newLayerNorm(name string, d int) *LayerNorm {
	ln := &LayerNorm{Name: name, D: d, G: newParam(name+".weight", d), B: newParam(name+".bias", d)}
	ln.G.fill(1)
	return ln
}

func (ln *LayerNorm) params() []*Param { return []*Param{ln.G, ln.B} }

// Forward writes y[n, D] from x[n, D]; x must stay unchanged until Backward.
func (ln *LayerNorm) Forward(y, x []float32, n int) {
	d := ln.D
	ln.x, ln.n = x[:n*d], n
	ln.mean = grow(ln.mean, n)
	ln.rstd = grow(ln.rstd, n)
	parallelFor(n, 64, func(lo, hi int) {
		kernels.LayerNormForward(y[lo*d:hi*d], ln.mean[lo:hi], ln.rstd[lo:hi], x[lo*d:hi*d], ln.G.W, ln.B.W, hi-lo, d)
	})
}

// Backward adds ∂L/∂x to dx (when non-nil) and, when grads, accumulates
// ∂L/∂g and ∂L/∂b: per fixed chunk of gradChunk rows in parallel, then the
// chunks' sums in chunk order.
func (ln *LayerNorm) Backward(dx, dy []float32, grads bool) {
	d, n := ln.D, ln.n
	chunks := (n + gradChunk - 1) / gradChunk
	grads = grads && !ln.G.Frozen
	if grads {
		ln.scratch = grow(ln.scratch, chunks*2*d)
		zero(ln.scratch)
	}
	parallelFor(chunks, 1, func(c0, c1 int) {
		for ch := c0; ch < c1; ch++ {
			var pg, pb []float32
			if grads {
				pg = ln.scratch[ch*2*d : ch*2*d+d]
				pb = ln.scratch[ch*2*d+d : (ch+1)*2*d]
			}
			r0, r1 := ch*gradChunk, min((ch+1)*gradChunk, n)
			var dxc []float32
			if dx != nil {
				dxc = dx[r0*d : r1*d]
			}
			kernels.LayerNormBackward(dxc, pg, pb, ln.x[r0*d:r1*d], dy[r0*d:r1*d], ln.G.W, ln.mean[r0:r1], ln.rstd[r0:r1], r1-r0, d)
		}
	})
	if grads {
		for ch := 0; ch < chunks; ch++ {
			axpy(ln.G.G, 1, ln.scratch[ch*2*d:ch*2*d+d])
			axpy(ln.B.G, 1, ln.scratch[ch*2*d+d:(ch+1)*2*d])
		}
	}
}
