package model

import (
	"math"
	"runtime"
	"sync"
	"sync/atomic"
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
// masked half too: the GEMM kernels outrun a triangular loop).
type Attention struct {
	H, D   int
	Causal bool

	q, k, v []float32 // inputs (not owned)
	off     []int
	att     []float32 // P, per sequence and head a T×T block
	attOff  []int
	scratch [][]float32 // per worker, ∂P
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
		gemm(false, true, t, t, hd, scale, q[c:], D, k[c:], D, 0, p, t)
		for i := 0; i < t; i++ {
			row := p[i*t : (i+1)*t]
			last := t
			if at.Causal {
				last = i + 1
			}
			mx := row[0]
			for _, s := range row[:last] {
				mx = max(mx, s)
			}
			var sum float32
			for j, s := range row[:last] {
				e := exp32(s - mx)
				row[j] = e
				sum += e
			}
			inv := 1 / sum
			for j := range row[:last] {
				row[j] *= inv
			}
			clear(row[last:])
		}
		gemm(false, false, t, hd, t, 1, p, t, v[c:], D, 0, o[c:], D)
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
		at.scratch[w] = grow(at.scratch[w], t*t)
		dp := at.scratch[w]
		gemm(false, true, t, t, hd, 1, do[c:], D, v[c:], D, 0, dp, t)
		for i := 0; i < t; i++ {
			pr, dr := p[i*t:(i+1)*t], dp[i*t:(i+1)*t]
			s := dot(pr, dr)
			for j, pv := range pr {
				dr[j] = pv * (dr[j] - s) * scale
			}
		}
		gemm(false, false, t, hd, t, 1, dp, t, k[c:], D, 0, dq[c:], D)
		gemm(true, false, t, hd, t, 1, dp, t, q[c:], D, 0, dk[c:], D)
		gemm(true, false, t, hd, t, 1, p, t, do[c:], D, 0, dv[c:], D)
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
