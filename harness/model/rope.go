package model

import "math"

// RoPE is rotary position embedding (Su et al. 2021, as LLaMA and so Vicuna
// use it): the query and key rows of every head are rotated by angles that
// grow with the row's position p in its sequence, so that q_i·k_j depends on
// the two rows' contents and their offset i − j only. With d the head width
// and pairs (x_a, x_{a+d/2}) for a < d/2 (the "rotate half" layout),
//
//	θ_a = 10000^(−2a/d),  y_a = x_a cos pθ_a − x_{a+d/2} sin pθ_a,
//	                      y_{a+d/2} = x_{a+d/2} cos pθ_a + x_a sin pθ_a.
//
// Backward is the transposed rotation (the angle negated). The cos and sin
// tables are computed in float64 and rounded once, so they are the same
// bytes on every machine.
type RoPE struct {
	H, D     int       // heads and model width (head width D/H)
	cos, sin []float32 // [MaxLen, D/H/2]
}

func newRoPE(heads, d, maxLen int) *RoPE {
	half := d / heads / 2
	r := &RoPE{H: heads, D: d, cos: make([]float32, maxLen*half), sin: make([]float32, maxLen*half)}
	for p := range maxLen {
		for a := range half {
			ang := float64(p) * math.Pow(10000, -2*float64(a)/float64(2*half))
			r.cos[p*half+a], r.sin[p*half+a] = float32(math.Cos(ang)), float32(math.Sin(ang))
		}
	}
	return r
}

// rotate rotates one row x [D] at position p in place; inverse applies the
// transposed rotation (Backward's).
func (r *RoPE) rotate(x []float32, p int, inverse bool) {
	hd := r.D / r.H
	half := hd / 2
	cs, sn := r.cos[p*half:(p+1)*half], r.sin[p*half:(p+1)*half]
	for h := range r.H {
		lo, hi := x[h*hd:h*hd+half], x[h*hd+half:(h+1)*hd]
		for a := range half {
			c, s := cs[a], sn[a]
			if inverse {
				s = -s
			}
			x1, x2 := lo[a], hi[a]
			lo[a], hi[a] = x1*c-x2*s, x2*c+x1*s
		}
	}
}

// apply rotates every row of x [n, D] in place, the rows off[e]..off[e+1]
// of sequence e at positions 0, 1, ...
func (r *RoPE) apply(x []float32, off []int, inverse bool) {
	parallelFor(len(off)-1, 1, func(lo, hi int) {
		for e := lo; e < hi; e++ {
			for i := off[e]; i < off[e+1]; i++ {
				r.rotate(x[i*r.D:(i+1)*r.D], i-off[e], inverse)
			}
		}
	})
}
