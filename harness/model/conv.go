package model

import (
	"fmt"
	"math/bits"
)

// Conv is a 2-D convolution over square images in HWC layout, written as
// an unfolding and a Linear: the input x [n, S, S, Cin] unfolds into
// col [n·S'·S', K·K·Cin], where row (oy, ox) holds x[Stride·oy+ky−Pad,
// Stride·ox+kx−Pad, :] for ky, kx in [0, K) (zero outside the image), and
// y = col·W + b, W [K·K·Cin, Cout], y [n, S', S', Cout] with
// S' = (S + 2·Pad − K)/Stride + 1.
//
// Backward: ∂W = colᵀδ, ∂b = Σ_rows δ, ∂col = δWᵀ, and ∂x folds ∂col back
// (the adjoint of the unfolding: each col entry adds into the pixel it came
// from).
type Conv struct {
	Cin, Cout, K, Stride, Pad, S int
	Lin                          *Linear

	col, dcol []float32
	n         int
}

func newConv(name string, s, cin, cout, k, stride, pad int) *Conv {
	return &Conv{Cin: cin, Cout: cout, K: k, Stride: stride, Pad: pad, S: s, Lin: newLinear(name, k*k*cin, cout, true)}
}

// Out is the output side S'.
func (c *Conv) Out() int { return (c.S+2*c.Pad-c.K)/c.Stride + 1 }

// Forward writes y [n, S', S', Cout] from x [n, S, S, Cin].
func (c *Conv) Forward(y, x []float32, n int) {
	o := c.Out()
	rows, w := n*o*o, c.K*c.K*c.Cin
	c.n = n
	c.col = grow(c.col, rows*w)
	parallelFor(rows, 64, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			c.unfoldRow(c.col[r*w:(r+1)*w], x, r)
		}
	})
	c.Lin.Forward(y, c.col[:rows*w], rows, nil)
}

// unfoldRow copies the K×K×Cin window of output row r (image e, pixel
// (oy, ox)) into dst.
func (c *Conv) unfoldRow(dst, x []float32, r int) {
	o, s, ci := c.Out(), c.S, c.Cin
	e, p := r/(o*o), r%(o*o)
	oy, ox := p/o, p%o
	img := x[e*s*s*ci : (e+1)*s*s*ci]
	for ky := 0; ky < c.K; ky++ {
		iy := c.Stride*oy + ky - c.Pad
		for kx := 0; kx < c.K; kx++ {
			ix := c.Stride*ox + kx - c.Pad
			seg := dst[(ky*c.K+kx)*ci : (ky*c.K+kx+1)*ci]
			if iy < 0 || iy >= s || ix < 0 || ix >= s {
				clear(seg)
				continue
			}
			copy(seg, img[(iy*s+ix)*ci:(iy*s+ix+1)*ci])
		}
	}
}

// Backward accumulates ∂W, ∂b (when grads) and writes ∂x [n, S, S, Cin]
// into dx when dx is non-nil.
func (c *Conv) Backward(dx, dy []float32, grads bool) {
	o, w := c.Out(), c.K*c.K*c.Cin
	rows := c.n * o * o
	if dx == nil {
		c.Lin.Backward(nil, dy, grads, false)
		return
	}
	c.dcol = grow(c.dcol, rows*w)
	c.Lin.Backward(c.dcol, dy, grads, false)
	s, ci := c.S, c.Cin
	// Images are independent, so each worker folds whole images.
	parallelFor(c.n, 1, func(lo, hi int) {
		for e := lo; e < hi; e++ {
			img := dx[e*s*s*ci : (e+1)*s*s*ci]
			clear(img)
			for p := 0; p < o*o; p++ {
				oy, ox := p/o, p%o
				src := c.dcol[(e*o*o+p)*w : (e*o*o+p+1)*w]
				for ky := 0; ky < c.K; ky++ {
					iy := c.Stride*oy + ky - c.Pad
					if iy < 0 || iy >= s {
						continue
					}
					for kx := 0; kx < c.K; kx++ {
						ix := c.Stride*ox + kx - c.Pad
						if ix < 0 || ix >= s {
							continue
						}
						axpy(img[(iy*s+ix)*ci:(iy*s+ix+1)*ci], 1, src[(ky*c.K+kx)*ci:(ky*c.K+kx+1)*ci])
					}
				}
			}
		}
	})
}

// ConvStem is the convolutional alternative to the patch embedding (Xiao
// et al. 2021, "Early convolutions help transformers see better"): L =
// log₂(PatchSize) convolutions 3×3, stride 2, padding 1, each but the last
// followed by GELU, halve the image L times, so an S×S image becomes the same
// (S/PatchSize)² grid of D-wide tokens, row-major, as the patch embedding.
// Channels: 3 → c₁ → … → c_L = W with c_l = max(16, W/2^(L−l)), W the
// tower's width (Config.TowerWidth).
type ConvStem struct {
	Convs []*Conv
	acts  []GELU      // after each convolution but the last
	bufs  [][]float32 // per convolution but the last: its output, then its activation
	dbuf  [2][]float32
}

func newConvStem(cfg Config) *ConvStem {
	L := bits.Len(uint(cfg.PatchSize)) - 1
	st := &ConvStem{acts: make([]GELU, L-1)}
	s, cin := cfg.ImageSize, 3
	for l := 1; l <= L; l++ {
		cout := max(16, cfg.TowerWidth()>>(L-l))
		if l == L {
			cout = cfg.TowerWidth()
		}
		c := newConv(fmt.Sprintf("vision.stem.%d", l-1), s, cin, cout, 3, 2, 1)
		st.Convs = append(st.Convs, c)
		s, cin = c.Out(), cout
	}
	return st
}

func (st *ConvStem) params() []*Param {
	var ps []*Param
	for _, c := range st.Convs {
		ps = append(ps, c.Lin.params()...)
	}
	return ps
}

// Forward writes the tokens y [n·P, D] of n images x [n, S, S, 3].
func (st *ConvStem) Forward(y, x []float32, n int) {
	for len(st.bufs) < 2*len(st.acts) {
		st.bufs = append(st.bufs, nil)
	}
	in := x
	for l, c := range st.Convs {
		o := c.Out()
		if l == len(st.Convs)-1 {
			c.Forward(y, in, n)
			return
		}
		st.bufs[2*l] = grow(st.bufs[2*l], n*o*o*c.Cout)
		st.bufs[2*l+1] = grow(st.bufs[2*l+1], n*o*o*c.Cout)
		c.Forward(st.bufs[2*l], in, n)
		st.acts[l].Forward(st.bufs[2*l+1], st.bufs[2*l])
		in = st.bufs[2*l+1]
	}
}

// Backward accumulates the stem's parameter gradients from ∂L/∂y.
func (st *ConvStem) Backward(dy []float32) {
	for l := len(st.Convs) - 1; l >= 0; l-- {
		c := st.Convs[l]
		if l == 0 {
			c.Backward(nil, dy, true)
			return
		}
		prev := st.Convs[l-1]
		size := prev.n * prev.Out() * prev.Out() * prev.Cout
		k := l % 2
		st.dbuf[k] = grow(st.dbuf[k], size)
		c.Backward(st.dbuf[k], dy, true)
		st.acts[l-1].Backward(st.dbuf[k], st.dbuf[k])
		dy = st.dbuf[k]
	}
}
