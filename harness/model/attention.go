package model

import (
	"math"
	"runtime"
	"sync"
	"sync/atomic"
)

// Attention is multi-head scaled dot-product attention over packed
// sequences: rows Off[e]..Off[e+1] of q, k, v [n, D] form sequence e, heads
// split D into H slices of width d = D/H. Per head,
//
//	s_ij = q_i·k_j/√d, a_ij = softmax_j(s_ij) over j ≤ i (Causal) or all j,
//	o_i = Σ_j a_ij v_j.
//
// Backward, with δ_i = ∂L/∂o_i:
//
//	∂a_ij = δ_i·v_j, ∂s_ij = a_ij(∂a_ij − Σ_k a_ik ∂a_ik),
//	∂q_i = Σ_j ∂s_ij k_j/√d, ∂k_j = Σ_i ∂s_ij q_i/√d, ∂v_j = Σ_i a_ij δ_i.
type Attention struct {
	H, D   int
	Causal bool

	q, k, v []float32 // inputs (not owned)
	off     []int
	att     []float32 // probabilities, per sequence and head a T×T block
	attOff  []int
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
	at.each(b, func(e, h int) {
		o0, t := off[e], off[e+1]-off[e]
		att := at.att[at.attOff[e]+h*t*t : at.attOff[e]+(h+1)*t*t]
		for i := 0; i < t; i++ {
			qi := q[(o0+i)*D+h*hd : (o0+i)*D+(h+1)*hd]
			row := att[i*t : (i+1)*t]
			last := t
			if at.Causal {
				last = i + 1
			}
			mx := float32(math.Inf(-1))
			for j := 0; j < last; j++ {
				s := dot(qi, k[(o0+j)*D+h*hd:]) * scale
				row[j] = s
				mx = max(mx, s)
			}
			var sum float32
			for j := 0; j < last; j++ {
				p := float32(math.Exp(float64(row[j] - mx)))
				row[j] = p
				sum += p
			}
			inv := 1 / sum
			oi := o[(o0+i)*D+h*hd : (o0+i)*D+(h+1)*hd]
			clear(oi)
			for j := 0; j < last; j++ {
				row[j] *= inv
				axpy(oi, row[j], v[(o0+j)*D+h*hd:(o0+j)*D+(h+1)*hd])
			}
			clear(row[last:])
		}
	})
}

// Backward writes ∂L/∂q, ∂L/∂k, ∂L/∂v (overwriting) from do = ∂L/∂o.
func (at *Attention) Backward(dq, dk, dv, do []float32) {
	off := at.off
	b := len(off) - 1
	D, hd := at.D, at.D/at.H
	scale := float32(1 / math.Sqrt(float64(hd)))
	q, k, v := at.q, at.k, at.v
	at.each(b, func(e, h int) {
		o0, t := off[e], off[e+1]-off[e]
		att := at.att[at.attOff[e]+h*t*t : at.attOff[e]+(h+1)*t*t]
		for i := 0; i < t; i++ {
			clear(dq[(o0+i)*D+h*hd : (o0+i)*D+(h+1)*hd])
			clear(dk[(o0+i)*D+h*hd : (o0+i)*D+(h+1)*hd])
			clear(dv[(o0+i)*D+h*hd : (o0+i)*D+(h+1)*hd])
		}
		da := make([]float32, t)
		for i := 0; i < t; i++ {
			last := t
			if at.Causal {
				last = i + 1
			}
			row := att[i*t : (i+1)*t]
			doi := do[(o0+i)*D+h*hd : (o0+i)*D+(h+1)*hd]
			var s float32
			for j := 0; j < last; j++ {
				da[j] = dot(doi, v[(o0+j)*D+h*hd:])
				s += row[j] * da[j]
				axpy(dv[(o0+j)*D+h*hd:(o0+j)*D+(h+1)*hd], row[j], doi)
			}
			qi := q[(o0+i)*D+h*hd : (o0+i)*D+(h+1)*hd]
			dqi := dq[(o0+i)*D+h*hd : (o0+i)*D+(h+1)*hd]
			for j := 0; j < last; j++ {
				ds := row[j] * (da[j] - s) * scale
				axpy(dqi, ds, k[(o0+j)*D+h*hd:(o0+j)*D+(h+1)*hd])
				axpy(dk[(o0+j)*D+h*hd:(o0+j)*D+(h+1)*hd], ds, qi)
			}
		}
	})
}

// each runs f(e, h) for every sequence e < b and head h on GOMAXPROCS
// workers; each call touches only its own rows and head columns.
func (at *Attention) each(b int, f func(e, h int)) {
	tasks := b * at.H
	w := min(runtime.GOMAXPROCS(0), tasks)
	if w <= 1 {
		for i := 0; i < tasks; i++ {
			f(i/at.H, i%at.H)
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range w {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= tasks {
					return
				}
				f(i/at.H, i%at.H)
			}
		}()
	}
	wg.Wait()
}
