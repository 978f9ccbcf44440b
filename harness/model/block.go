package model

import (
	"math/rand/v2"

	"github.com/tive-dev/tive/harness/internal/kernels"
)

// Block is a pre-norm transformer block (GPT-2 / LLaMA layout):
//
//	u = x + O(Attn(R(Q(LN1 x)), R(K(LN1 x)), V(LN1 x)))
//	y = u + Proj(GELU(FC(LN2 u)))
//
// with R the rotary position embedding when Rope is set, the identity
// otherwise. Backward runs the same steps in reverse; the residual adds pass δ through
// unchanged.
type Block struct {
	LN1, LN2          *LayerNorm
	Q, K, V, O        *Linear
	FC, Proj          *Linear
	Attn              Attention
	Rope              *RoPE // rotary positions on q and k (decoder blocks of a RoPE model), or nil
	Act               GELU
	D, Hidden         int
	ln1, q, k, v, att []float32
	u, ln2, fc, act   []float32
	dln1, dq, dk, dv  []float32
	datt, du, dln2    []float32
	dfc, dact         []float32
}

func newBlock(prefix string, d, heads, mlpRatio int, causal bool) *Block {
	h := d * mlpRatio
	return &Block{
		LN1: newLayerNorm(prefix+".ln1", d), LN2: newLayerNorm(prefix+".ln2", d),
		Q: newLinear(prefix+".attn.q", d, d, true), K: newLinear(prefix+".attn.k", d, d, true),
		V: newLinear(prefix+".attn.v", d, d, true), O: newLinear(prefix+".attn.o", d, d, true),
		FC: newLinear(prefix+".mlp.fc", d, h, true), Proj: newLinear(prefix+".mlp.proj", h, d, true),
		Attn: Attention{H: heads, D: d, Causal: causal}, D: d, Hidden: h,
	}
}

func (b *Block) params() []*Param {
	var ps []*Param
	ps = append(ps, b.LN1.params()...)
	for _, l := range []*Linear{b.Q, b.K, b.V, b.O} {
		ps = append(ps, l.params()...)
	}
	if b.Attn.Sink != nil {
		ps = append(ps, b.Attn.Sink)
	}
	ps = append(ps, b.LN2.params()...)
	ps = append(ps, b.FC.params()...)
	ps = append(ps, b.Proj.params()...)
	return ps
}

func (b *Block) init(rng *rand.Rand, std, residStd float64) {
	for _, l := range []*Linear{b.Q, b.K, b.V, b.FC} {
		l.W.initNormal(rng, std)
	}
	b.O.W.initNormal(rng, residStd)
	b.Proj.W.initNormal(rng, residStd)
}

func (b *Block) alloc(n int) {
	d, h := b.D*n, b.Hidden*n
	for _, p := range []*[]float32{&b.ln1, &b.q, &b.k, &b.v, &b.att, &b.u, &b.ln2,
		&b.dln1, &b.dq, &b.dk, &b.dv, &b.datt, &b.du, &b.dln2} {
		*p = grow(*p, d)
	}
	for _, p := range []*[]float32{&b.fc, &b.act, &b.dfc, &b.dact} {
		*p = grow(*p, h)
	}
}

// Forward writes y[n, D] from x[n, D] over the sequences given by off;
// x must stay unchanged until Backward. rng non-nil is training mode.
func (b *Block) Forward(y, x []float32, off []int, rng *rand.Rand) {
	n := off[len(off)-1]
	b.alloc(n)
	b.LN1.Forward(b.ln1, x, n)
	b.Q.Forward(b.q, b.ln1, n, rng)
	b.K.Forward(b.k, b.ln1, n, rng)
	b.V.Forward(b.v, b.ln1, n, rng)
	if b.Rope != nil {
		b.Rope.apply(b.q[:n*b.D], off, false)
		b.Rope.apply(b.k[:n*b.D], off, false)
	}
	b.Attn.Forward(b.att, b.q, b.k, b.v, off)
	copy(b.u, x[:n*b.D])
	b.O.Forward(b.dln1, b.att, n, rng) // dln1 as scratch for O's output
	kernels.AddRows(b.u, b.dln1[:n*b.D], 1, n*b.D)
	b.LN2.Forward(b.ln2, b.u, n)
	b.FC.Forward(b.fc, b.ln2, n, rng)
	b.Act.Forward(b.act, b.fc)
	b.Proj.Forward(y, b.act, n, rng)
	kernels.AddRows(y[:n*b.D], b.u, 1, n*b.D)
}

// Backward takes dy = ∂L/∂y and writes ∂L/∂x into dx (overwriting) when dx
// is non-nil; grads accumulates parameter gradients.
func (b *Block) Backward(dx, dy []float32, grads bool) {
	n := b.LN1.n
	nd := n * b.D
	copy(b.du, dy[:nd])
	b.Proj.Backward(b.dact, dy, grads, false)
	b.Act.Backward(b.dfc, b.dact)
	b.FC.Backward(b.dln2, b.dfc, grads, false)
	b.LN2.Backward(b.du, b.dln2, grads)
	b.O.Backward(b.datt, b.du, grads, false)
	b.Attn.Backward(b.dq, b.dk, b.dv, b.datt, grads)
	if b.Rope != nil {
		b.Rope.apply(b.dq[:nd], b.Attn.off, true)
		b.Rope.apply(b.dk[:nd], b.Attn.off, true)
	}
	var dl []float32
	needDL := dx != nil || (grads && !b.LN1.G.Frozen)
	if needDL {
		dl = b.dln1
	}
	b.Q.Backward(dl, b.dq, grads, false)
	b.K.Backward(dl, b.dk, grads, true)
	b.V.Backward(dl, b.dv, grads, true)
	if needDL {
		if dx != nil {
			copy(dx[:nd], b.du)
		}
		b.LN1.Backward(dx, dl, grads)
	}
}
