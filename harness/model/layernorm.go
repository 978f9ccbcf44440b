package model

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
	g, b := ln.G.W, ln.B.W
	parallelFor(n, 64, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			row := x[r*d : (r+1)*d]
			var m float32
			for _, v := range row {
				m += v
			}
			m /= float32(d)
			var s float32
			for _, v := range row {
				s += (v - m) * (v - m)
			}
			rs := 1 / sqrt32(s/float32(d)+1e-5)
			ln.mean[r], ln.rstd[r] = m, rs
			out := y[r*d : (r+1)*d]
			for i, v := range row {
				out[i] = (v-m)*rs*g[i] + b[i]
			}
		}
	})
}

// Backward adds ∂L/∂x to dx (when non-nil) and, when grads, accumulates
// ∂L/∂g and ∂L/∂b.
func (ln *LayerNorm) Backward(dx, dy []float32, grads bool) {
	d, n := ln.D, ln.n
	g := ln.G.W
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
			for r := ch * gradChunk; r < min((ch+1)*gradChunk, n); r++ {
				row := ln.x[r*d : (r+1)*d]
				dr := dy[r*d : (r+1)*d]
				m, rs := ln.mean[r], ln.rstd[r]
				var s1, s2 float32
				for i, v := range row {
					xh := (v - m) * rs
					dg := dr[i] * g[i]
					s1 += dg
					s2 += dg * xh
					if grads {
						pg[i] += dr[i] * xh
						pb[i] += dr[i]
					}
				}
				if dx == nil {
					continue
				}
				s1 /= float32(d)
				s2 /= float32(d)
				out := dx[r*d : (r+1)*d]
				for i, v := range row {
					xh := (v - m) * rs
					out[i] += rs * (dr[i]*g[i] - s1 - xh*s2)
				}
			}
		}
	})
	if grads {
		for ch := 0; ch < chunks; ch++ {
			axpy(ln.G.G, 1, ln.scratch[ch*2*d:ch*2*d+d])
			axpy(ln.B.G, 1, ln.scratch[ch*2*d+d:(ch+1)*2*d])
		}
	}
}
