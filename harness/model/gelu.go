package model

// GELU is the tanh approximation y = ½x(1 + tanh(c(x + 0.044715x³))),
// c = √(2/π), as in GPT-2 and LLaVA's projector, in float32 (tanh32).
//
// Backward: ∂y/∂x = ½(1 + t) + ½x(1 − t²)·c(1 + 3·0.044715x²), t the tanh.
type GELU struct {
	x []float32 // input (not owned)
	t []float32 // tanh values
}

const geluC = 0.7978845608028654 // √(2/π)

// Forward writes y from x (same length); x must stay unchanged until Backward.
func (a *GELU) Forward(y, x []float32) {
	a.x = x
	a.t = grow(a.t, len(x))
	parallelFor(len(x), 4096, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			v := x[i]
			t := tanh32(geluC * (v + 0.044715*v*v*v))
			a.t[i] = t
			y[i] = 0.5 * v * (1 + t)
		}
	})
}

// Backward writes ∂L/∂x into dx from dy.
func (a *GELU) Backward(dx, dy []float32) {
	parallelFor(len(a.x), 4096, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			v, t := a.x[i], a.t[i]
			d := 0.5*(1+t) + 0.5*v*(1-t*t)*geluC*(1+3*0.044715*v*v)
			dx[i] = dy[i] * d
		}
	})
}
