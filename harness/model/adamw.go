package model

import "math"

// AdamW is Adam with decoupled weight decay (Loshchilov & Hutter), as
// torch.optim.AdamW: at step t with gradient g,
//
//	m ← β₁m + (1−β₁)g, v ← β₂v + (1−β₂)g²
//	w ← w − lr·(m/(1−β₁ᵗ)) / (√(v/(1−β₂ᵗ)) + ε) − lr·λ·w
type AdamW struct {
	Beta1, Beta2, Eps, WeightDecay float64
	T                              int // steps taken
	M, V                           map[string][]float32
}

func newAdamW(b1, b2, eps, wd float64) *AdamW {
	return &AdamW{Beta1: b1, Beta2: b2, Eps: eps, WeightDecay: wd, M: map[string][]float32{}, V: map[string][]float32{}}
}

// Step updates every unfrozen parameter from its gradient at learning rate lr.
func (o *AdamW) Step(ps []*Param, lr float64) {
	o.T++
	c1 := 1 - math.Pow(o.Beta1, float64(o.T))
	c2 := 1 - math.Pow(o.Beta2, float64(o.T))
	b1, b2 := float32(o.Beta1), float32(o.Beta2)
	for _, p := range ps {
		if p.Frozen {
			continue
		}
		m, v := o.M[p.Name], o.V[p.Name]
		if m == nil {
			m, v = make([]float32, len(p.W)), make([]float32, len(p.W))
			o.M[p.Name], o.V[p.Name] = m, v
		}
		decay := float32(1 - lr*o.WeightDecay)
		a := float32(lr / c1)
		s2 := float32(1 / math.Sqrt(c2))
		eps := float32(o.Eps)
		for i, g := range p.G {
			m[i] = b1*m[i] + (1-b1)*g
			v[i] = b2*v[i] + (1-b2)*g*g
			p.W[i] = p.W[i]*decay - a*m[i]/(sqrt32(v[i])*s2+eps)
		}
	}
}

// cosineLR is the learning rate at optimizer step s (0-based) of total
// steps with w warm-up steps, as transformers' cosine schedule:
// base·s/w during warm-up, then base·½(1 + cos(π·(s−w)/(total−w))).
func cosineLR(base float64, s, total, w int) float64 {
	if s < w {
		return base * float64(s) / float64(max(1, w))
	}
	p := float64(s-w) / float64(max(1, total-w))
	return base * 0.5 * (1 + math.Cos(math.Pi*p))
}

// clipGrads scales the unfrozen gradients so their global L2 norm is at most
// maxNorm (torch clip_grad_norm_: factor maxNorm/(norm+1e-6) when below 1)
// and returns the norm before clipping.
func clipGrads(ps []*Param, maxNorm float64) float64 {
	var s float64
	for _, p := range ps {
		if p.Frozen {
			continue
		}
		for _, g := range p.G {
			s += float64(g) * float64(g)
		}
	}
	norm := math.Sqrt(s)
	if maxNorm > 0 && norm > maxNorm {
		f := float32(maxNorm / (norm + 1e-6))
		for _, p := range ps {
			if !p.Frozen {
				for i := range p.G {
					p.G[i] *= f
				}
			}
		}
	}
	return norm
}
