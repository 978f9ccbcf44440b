package model

import (
	"math/rand/v2"

	"github.com/tive-dev/tive/harness/internal/kernels"
)

// Linear is y = x·W + b for row vectors, W of shape [In, Out], with an
// optional LoRA adapter adding Scale·(drop(x)·A)·B, A [In, R], B [R, Out],
// Scale = alpha/R (Hu et al. 2021; PEFT's lora_A/lora_B are Aᵀ and Bᵀ).
//
// Backward, with δ = ∂L/∂y:
//
//	∂L/∂W = xᵀδ, ∂L/∂b = Σ_rows δ, ∂L/∂x = δWᵀ
//	h = drop(x)·A, ∂L/∂h = Scale·δBᵀ, ∂L/∂B = Scale·hᵀδ, ∂L/∂A = drop(x)ᵀ·∂L/∂h
//	∂L/∂x += mask ⊙ (∂L/∂h·Aᵀ)
type Linear struct {
	Name    string
	In, Out int
	W, B    *Param // B may be nil
	LoRA    *LoRA

	x       []float32 // input of the last Forward (not owned)
	n       int
	dy      []float32 // δ of the last Backward (not owned)
	scratch []float32
}

// LoRA is a low-rank adapter of a Linear.
type LoRA struct {
	R       int
	Scale   float32
	Dropout float32
	A, B    *Param

	xd   []float32 // drop(x), owned when dropout is active, else aliases x
	buf  []float32 // storage of drop(x)
	keep []float32 // per-element dropout multiplier: 0 or 1/(1-p)
	h    []float32 // xd·A, [n, R]
	dh   []float32 // ∂L/∂h, [n, R]
	tmp  []float32
}

func newLinear(name string, in, out int, bias bool) *Linear {
	l := &Linear{Name: name, In: in, Out: out, W: newParam(name+".weight", in, out)}
	if bias {
		l.B = newParam(name+".bias", out)
	}
	return l
}

func (l *Linear) params() []*Param {
	ps := []*Param{l.W}
	if l.B != nil {
		ps = append(ps, l.B)
	}
	if l.LoRA != nil {
		ps = append(ps, l.LoRA.A, l.LoRA.B)
	}
	return ps
}

// Forward writes y[n, Out] from x[n, In]. rng non-nil enables LoRA dropout
// (training mode); nil is eval mode. x must stay unchanged until Backward.
func (l *Linear) Forward(y, x []float32, n int, rng *rand.Rand) {
	l.x, l.n = x[:n*l.In], n
	y = y[:n*l.Out]
	if l.B == nil {
		kernels.Sgemm(false, false, n, l.Out, l.In, 1, x, l.In, l.W.W, l.Out, 0, y, l.Out)
	} else {
		// y = b + xW: the bias rows first, then the product added to them.
		for r := range n {
			copy(y[r*l.Out:(r+1)*l.Out], l.B.W)
		}
		kernels.Sgemm(false, false, n, l.Out, l.In, 1, x, l.In, l.W.W, l.Out, 1, y, l.Out)
	}
	if a := l.LoRA; a != nil {
		a.xd = l.x
		if rng != nil && a.Dropout > 0 {
			a.keep = grow(a.keep, n*l.In)
			a.buf = grow(a.buf, n*l.In)
			s := 1 / (1 - a.Dropout)
			for i, v := range l.x {
				if rng.Float32() < a.Dropout {
					a.keep[i], a.buf[i] = 0, 0
				} else {
					a.keep[i], a.buf[i] = s, v*s
				}
			}
			a.xd = a.buf[:n*l.In]
		} else {
			a.keep = a.keep[:0]
		}
		a.h = grow(a.h, n*a.R)
		kernels.Sgemm(false, false, n, a.R, l.In, 1, a.xd, l.In, a.A.W, a.R, 0, a.h, a.R)
		kernels.Sgemm(false, false, n, l.Out, a.R, a.Scale, a.h, a.R, a.B.W, l.Out, 1, y, l.Out)
	}
}

// Backward takes δ = dy[n, Out]. It accumulates parameter gradients into the
// G of unfrozen params when grads is true, and writes ∂L/∂x into dx (added to
// dx when accum, overwriting it otherwise) when dx is non-nil. The LoRA ∂L/∂h
// is always computed (per-example features read it).
func (l *Linear) Backward(dx, dy []float32, grads, accum bool) {
	n := l.n
	dy = dy[:n*l.Out]
	l.dy = dy
	if grads && !l.W.Frozen {
		gemmTN(l.In, l.Out, n, 1, l.x, dy, l.W.G, &l.scratch)
	}
	if grads && l.B != nil && !l.B.Frozen {
		sumRows(l.Out, n, dy, l.B.G, &l.scratch)
	}
	if dx != nil {
		beta := float32(0)
		if accum {
			beta = 1
		}
		kernels.Sgemm(false, true, n, l.In, l.Out, 1, dy, l.Out, l.W.W, l.Out, beta, dx, l.In)
	}
	a := l.LoRA
	if a == nil {
		return
	}
	a.dh = grow(a.dh, n*a.R)
	kernels.Sgemm(false, true, n, a.R, l.Out, a.Scale, dy, l.Out, a.B.W, l.Out, 0, a.dh, a.R)
	if grads && !a.B.Frozen {
		gemmTN(a.R, l.Out, n, a.Scale, a.h, dy, a.B.G, &l.scratch)
	}
	if grads && !a.A.Frozen {
		gemmTN(l.In, a.R, n, 1, a.xd, a.dh, a.A.G, &l.scratch)
	}
	if dx != nil {
		if len(a.keep) == 0 {
			kernels.Sgemm(false, true, n, l.In, a.R, 1, a.dh, a.R, a.A.W, a.R, 1, dx, l.In)
			return
		}
		a.tmp = grow(a.tmp, n*l.In)
		kernels.Sgemm(false, true, n, l.In, a.R, 1, a.dh, a.R, a.A.W, a.R, 0, a.tmp, l.In)
		for i, v := range a.tmp[:n*l.In] {
			dx[i] += v * a.keep[i]
		}
	}
}
