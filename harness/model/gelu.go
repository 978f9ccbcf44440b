package model

import "github.com/tive-dev/tive/harness/internal/kernels"

// GELU is the tanh approximation y = ½x(1 + tanh(c(x + 0.044715x³))),
// c = √(2/π), as in GPT-2 and LLaVA's projector, in float32
// (kernels.GELUForward).
//
// Backward: ∂y/∂x = ½(1 + t) + ½x(1 − t²)·c(1 + 3·0.044715x²), t the tanh.
type GELU struct {
	x []float32 // input (not owned)
	t []float32 // tanh values
}

// Forward writes y from x (same length); x must stay unchanged until Backward.
func (a *GELU) Forward(y, x []float32) {
	a.x = x
	a.t = grow(a.t, len(x))
	parallelFor(len(x), 4096, func(lo, hi int) {
		kernels.GELUForward(y[lo:hi], a.t[lo:hi], x[lo:hi])
	})
}

// Backward writes ∂L/∂x into dx from dy.
func (a *GELU) Backward(dx, dy []float32) {
	parallelFor(len(a.x), 4096, func(lo, hi int) {
		kernels.GELUBackward(dx[lo:hi], dy[lo:hi], a.x[lo:hi], a.t[lo:hi])
	})
}
