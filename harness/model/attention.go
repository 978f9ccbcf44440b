package model

import (
	"math"
	"runtime"

	"github.com/tive-dev/tive/harness/internal/kernels"
)

// Attention is multi-head scaled dot-product attention over packed
// sequences: rows Off[e]..Off[e+1] of q, k, v [n, D] form sequence e, heads
// split D into H slices of width d = D/H. Per sequence and head, with
// Q, K, V the head's T×d slices,
//
//	S = QKᵀ/√d, P = softmax over each row's j ≤ i (Causal) or all j, O = PV.
//
// With Sink set (a learned logit s_h per head, an attention sink as in
// gpt-oss), each row's softmax also has a key of logit s_h and value zero:
// P_ij = exp(S_ij)/(exp(s_h) + Σ_k exp(S_ik)), so a row can attend to
// nothing, and "is the thing the query looks for here?" is the size of
// its output.
//
// Backward, with ∂O given:
//
//	∂P = ∂O·Vᵀ, ∂S_ij = P_ij(∂P_ij − Σ_k P_ik ∂P_ik),
//	∂Q = ∂S·K/√d, ∂K = ∂Sᵀ·Q/√d, ∂V = Pᵀ·∂O,
//	∂s_h = −Σ_i p0_i Σ_k P_ik ∂P_ik = −Σ_i p0_i (∂O_i·O_i), p0_i = 1 − Σ_k P_ik
//
// (the sink's own ∂P is zero, so ∂S keeps its form).
//
// Each sequence and head is one task of kernels.AttentionForward and
// AttentionBackward: fused C loops on the native back end (which skip the
// masked half of causal rows), GEMMs around a softmax on the gonum one.
type Attention struct {
	H, D   int
	Causal bool
	Sink   *Param // [H] sink logits, or nil

	q, k, v, o []float32 // inputs and output (not owned)
	off        []int
	att        []float32 // P, per sequence and head a T×T block
	attOff     []int
	scratch    [][]float32 // per worker (kernels.Attn.ScratchLen)
}

// Forward writes o[n, D]. q, k, v must stay unchanged until Backward.
func (at *Attention) Forward(o, q, k, v []float32, off []int) {
	at.q, at.k, at.v, at.o, at.off = q, k, v, o, off
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
	at.each(b, func(w, e, h int) {
		o0, t := off[e], off[e+1]-off[e]
		c := o0*D + h*hd
		p := at.att[at.attOff[e]+h*t*t : at.attOff[e]+(h+1)*t*t]
		a := kernels.Attn{T: t, HD: hd, LD: D, Scale: scale, Causal: at.Causal}
		if at.Sink != nil {
			a.Sinked, a.Sink = true, at.Sink.W[h]
		}
		at.scratch[w] = grow(at.scratch[w], a.ScratchLen())
		kernels.AttentionForward(a, o[c:], p, q[c:], k[c:], v[c:], at.scratch[w])
	})
}

// Backward writes ∂L/∂q, ∂L/∂k, ∂L/∂v (overwriting) from do = ∂L/∂o and,
// with a sink and grads, accumulates ∂L/∂s.
func (at *Attention) Backward(dq, dk, dv, do []float32, grads bool) {
	off := at.off
	b := len(off) - 1
	D, hd := at.D, at.D/at.H
	scale := float32(1 / math.Sqrt(float64(hd)))
	q, k, v := at.q, at.k, at.v
	if at.Sink != nil && grads && !at.Sink.Frozen {
		at.sinkGrad(do)
	}
	at.each(b, func(w, e, h int) {
		o0, t := off[e], off[e+1]-off[e]
		c := o0*D + h*hd
		p := at.att[at.attOff[e]+h*t*t : at.attOff[e]+(h+1)*t*t]
		a := kernels.Attn{T: t, HD: hd, LD: D, Scale: scale, Causal: at.Causal}
		at.scratch[w] = grow(at.scratch[w], a.ScratchLen())
		kernels.AttentionBackward(a, dq[c:], dk[c:], dv[c:], do[c:], p, q[c:], k[c:], v[c:], at.scratch[w])
	})
}

// sinkGrad accumulates ∂s_h = −Σ_i p0_i (∂O_i·O_i) over every row i of
// every sequence, per (sequence, head) in parallel, then summed over
// sequences in order.
func (at *Attention) sinkGrad(do []float32) {
	off := at.off
	b := len(off) - 1
	D, hd := at.D, at.D/at.H
	part := make([]float64, b*at.H)
	at.each(b, func(_, e, h int) {
		o0, t := off[e], off[e+1]-off[e]
		p := at.att[at.attOff[e]+h*t*t : at.attOff[e]+(h+1)*t*t]
		var g float64
		for i := range t {
			var rs float32
			for _, x := range p[i*t : (i+1)*t] {
				rs += x
			}
			r := (o0+i)*D + h*hd
			g -= float64((1 - rs) * dot(do[r:r+hd], at.o[r:r+hd]))
		}
		part[e*at.H+h] = g
	})
	for e := range b {
		for h := range at.H {
			at.Sink.G[h] += float32(part[e*at.H+h])
		}
	}
}

// each runs f(worker, e, h) for every sequence e < b and head h on
// kernels.For's workers; each call touches only its own rows and head
// columns.
func (at *Attention) each(b int, f func(w, e, h int)) {
	for len(at.scratch) < runtime.GOMAXPROCS(0) {
		at.scratch = append(at.scratch, nil)
	}
	kernels.For(b*at.H, func(w, i int) { f(w, i/at.H, i%at.H) })
}
