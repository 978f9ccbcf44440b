package model

import (
	"math"

	"github.com/tive-dev/tive/harness/internal/kernels"
)

// CrossEntropy is the per-row loss ℓ_r = log Σ_v exp(z_rv) − z_r,y_r over
// logits z [m, V], weighted by w_r in the total L = Σ_r w_r ℓ_r (w_r = 1/M
// for the token mean over a batch, 1/M_e for per-example means). It also
// gives the per-row EL2N ‖softmax(z_r) − onehot(y_r)‖₂.
//
// Backward: ∂L/∂z_r = w_r (softmax(z_r) − onehot(y_r)).
type CrossEntropy struct {
	V     int
	probs []float32 // softmax rows (the logits buffer, overwritten)
	y     []int32
	w     []float32
	sq    []float64 // Σ_v p_rv² of each row (kernels.SoftmaxRows)
}

// Forward turns logits into probabilities in place and returns per-row
// losses and EL2N values in loss and el2n (length m).
func (c *CrossEntropy) Forward(logits []float32, y []int32, w []float32, loss, el2n []float32) {
	V := c.V
	m := len(y)
	c.probs, c.y, c.w = logits[:m*V], y, w
	if cap(c.sq) < m {
		c.sq = make([]float64, m)
	}
	sq := c.sq[:m]
	parallelFor(m, 8, func(lo, hi int) {
		kernels.SoftmaxRows(logits[lo*V:hi*V], sq[lo:hi], V)
		for r := lo; r < hi; r++ {
			py := float64(logits[r*V+int(y[r])])
			loss[r] = float32(-math.Log(math.Max(py, 1e-30)))
			e2 := sq[r] + (1 - 2*py) // ‖p − e_y‖² = Σp² − 2p_y + 1
			el2n[r] = float32(math.Sqrt(math.Max(e2, 0)))
		}
	})
}

// Backward writes ∂L/∂z into dz [m, V] (may alias the logits buffer).
func (c *CrossEntropy) Backward(dz []float32) {
	V := c.V
	parallelFor(len(c.y), 8, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			p, d := c.probs[r*V:(r+1)*V], dz[r*V:(r+1)*V]
			w := c.w[r]
			for i, v := range p {
				d[i] = w * v
			}
			d[c.y[r]] -= w
		}
	})
}
