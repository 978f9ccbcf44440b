package model

import (
	"math"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/tive-dev/tive/harness/internal/kernels"
)

// Attention is multi-head scaled dot-product attention over packed
// sequences: rows Off[e]..Off[e+1] of q, k, v [n, D] form sequence e, heads
// split D into H slices of width d = D/H. Per sequence and head, with
// Q, K, V the head's T×d slices,
//
//	S = QKᵀ/√d, P = softmax over each row's j ≤ i (Causal) or all j, O = PV.
//
// Backward, with ∂O given:
//
//	∂P = ∂O·Vᵀ, ∂S_ij = P_ij(∂P_ij − Σ_k P_ik ∂P_ik),
//	∂Q = ∂S·K/√d, ∂K = ∂Sᵀ·Q/√d, ∂V = Pᵀ·∂O.
//
// Each product is one GEMM per sequence and head (causal ones compute the
// masked half too: the GEMM kernels outrun a triangular loop), around the
// softmax kernels of package kernels.
type Attention struct {
	H, D   int
	Causal bool

	q, k, v []float32 // inputs (not owned)
	off     []int
	att     []float32 // P, per sequence and head a T×T block
	attOff  []int
	scratch [][]float32 // per worker (kernels.Attn.ScratchLen)
}

// Forward writes o[n, D]. q, k, v must stay unchanged until Backward.
func (at *Attention) Forward(o, q, k, v []float32, off []int) {
	at.q, at.k, at.v, at.off = q, k, v, off
	b := len(off) - 1
	at.attOff = at.attOff[:0]
	total := 0
	for e := 0; e < b; e++ {
		at.attOff = append(at.attOff, total)
		t := off[e+1] - off[e]
		total += at.H * t * t
	}
	at.att = grow(at.att, total)
	D, hd := at.D, at.D/at.H
	scale := float32(1 / math.Sqrt(float64(hd)))
	at.each(b, func(_, e, h int) {
		o0, t := off[e], off[e+1]-off[e]
		c := o0*D + h*hd
		p := at.att[at.attOff[e]+h*t*t : at.attOff[e]+(h+1)*t*t]
		a := kernels.Attn{T: t, HD: hd, LD: D, Scale: scale, Causal: at.Causal}
		kernels.AttentionForward(a, o[c:], p, q[c:], k[c:], v[c:])
	})
}

// Backward writes ∂L/∂q, ∂L/∂k, ∂L/∂v (overwriting) from do = ∂L/∂o.
func (at *Attention) Backward(dq, dk, dv, do []float32) {
	off := at.off
	b := len(off) - 1
	D, hd := at.D, at.D/at.H
	scale := float32(1 / math.Sqrt(float64(hd)))
	q, k, v := at.q, at.k, at.v
	at.each(b, func(w, e, h int) {
		o0, t := off[e], off[e+1]-off[e]
		c := o0*D + h*hd
		p := at.att[at.attOff[e]+h*t*t : at.attOff[e]+(h+1)*t*t]
		a := kernels.Attn{T: t, HD: hd, LD: D, Scale: scale, Causal: at.Causal}
		at.scratch[w] = grow(at.scratch[w], a.ScratchLen())
		kernels.AttentionBackward(a, dq[c:], dk[c:], dv[c:], do[c:], p, q[c:], k[c:], v[c:], at.scratch[w])
	})
}

// each runs f(worker, e, h) for every sequence e < b and head h on up to
// GOMAXPROCS workers; each call touches only its own rows and head columns.
func (at *Attention) each(b int, f func(w, e, h int)) {
	tasks := b * at.H
	w := max(1, min(runtime.GOMAXPROCS(0), tasks))
	for len(at.scratch) < w {
		at.scratch = append(at.scratch, nil)
	}
	if w == 1 {
		for i := 0; i < tasks; i++ {
			f(0, i/at.H, i%at.H)
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for id := range w {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= tasks {
					return
				}
				f(id, i/at.H, i%at.H)
			}
		}()
	}
	wg.Wait()
}
