package model

import (
	"fmt"

	"github.com/tive-dev/tive/harness/data"
)

// ParamSet names the weight matrices whose per-example gradients PerExample
// exposes.
type ParamSet string

const (
	// LoRAAttn is the LoRA A and B matrices of the decoder's attention
	// projections q, k, v, o (TIVE's choice).
	LoRAAttn ParamSet = "lora-attn"
	// LoRAAll is every LoRA adapter, MLP ones included.
	LoRAAll ParamSet = "lora"
	// AttnWeights is the full weight matrices of q, k, v, o (biases excluded).
	AttnWeights ParamSet = "attn"
)

// FactorShape names one In×Out weight matrix of a ParamSet.
type FactorShape struct {
	Name    string
	In, Out int
}

// GradFactor holds what the per-example gradient of one In×Out weight
// matrix is made of: for example e with rows Off[e]..Off[e+1],
//
//	∂ℓ_e/∂W = Scale · Σ_{t ∈ e} X[t]ᵀ DY[t]   (X [n, In], DY [n, Out])
//
// For a LoRA A that is X = adapter input, DY = ∂ℓ/∂h, Scale 1; for a LoRA B,
// X = h = x·A, DY = ∂ℓ/∂y, Scale = alpha/rank; for a plain weight, the
// layer's input and output delta.
type GradFactor struct {
	FactorShape
	Scale float32
	X, DY []float32
}

// PerExampleOut is the result of PerExample. Its slices alias the model's
// buffers and are valid until the model's next pass.
type PerExampleOut struct {
	Off     []int     // token rows of example e: Off[e]..Off[e+1]
	Loss    []float32 // mean cross-entropy over the example's response tokens
	EL2N    []float32 // mean over response tokens of ‖softmax(z) − onehot(y)‖₂
	NResp   []int     // response tokens per example (0: loss and gradient are 0)
	Factors []GradFactor
}

// FactorShapes lists the matrices of set in the order PerExample returns
// them: per decoder block, per layer q, k, v, o (fc, proj), A before B.
func (m *Model) FactorShapes(set ParamSet) ([]FactorShape, error) {
	ls, err := m.setLinears(set)
	if err != nil {
		return nil, err
	}
	var out []FactorShape
	for _, l := range ls {
		if set == AttnWeights {
			out = append(out, FactorShape{l.W.Name, l.In, l.Out})
			continue
		}
		out = append(out, FactorShape{l.LoRA.A.Name, l.In, l.LoRA.R}, FactorShape{l.LoRA.B.Name, l.LoRA.R, l.Out})
	}
	return out, nil
}

func (m *Model) setLinears(set ParamSet) ([]*Linear, error) {
	switch set {
	case AttnWeights:
		return m.loraTargets(false), nil
	case LoRAAttn, LoRAAll:
		if m.LoRA == nil {
			return nil, fmt.Errorf("model: parameter set %q needs LoRA adapters", set)
		}
		ls := m.loraTargets(set == LoRAAll && m.LoRA.MLP)
		return ls, nil
	}
	return nil, fmt.Errorf("model: unknown parameter set %q (want %q, %q or %q)", set, LoRAAttn, LoRAAll, AttnWeights)
}

// PerExample runs recs as one batch in eval mode (no dropout) with the
// objective Σ_e ℓ_e, ℓ_e the mean response-token cross-entropy of example
// e, and one backward pass that stops at the lowest decoder block and
// accumulates no parameter gradient. Examples do not interact (attention is
// per sequence, normalisation per token), so rows of e carry ∂ℓ_e only, and
// the factors give every example's own gradient.
func (m *Model) PerExample(recs []data.Record, images ImageSource, set ParamSet) (*PerExampleOut, error) {
	ls, err := m.setLinears(set)
	if err != nil {
		return nil, err
	}
	exs := make([]encoded, len(recs))
	for i := range recs {
		if exs[i], err = m.encode(&recs[i]); err != nil {
			return nil, err
		}
	}
	b, err := m.newBatch(exs, m.imageCache(images, false), true)
	if err != nil {
		return nil, err
	}
	out := &PerExampleOut{Off: b.off, NResp: b.nResp, Loss: make([]float32, len(recs)), EL2N: make([]float32, len(recs))}
	m.forward(b, nil)
	m.loss(func(r int) float32 { return 1 / float32(b.nResp[b.rowEx[r]]) })
	for r, e := range b.rowEx {
		w := m.act.w[r]
		out.Loss[e] += w * m.act.loss[r]
		out.EL2N[e] += w * m.act.el2n[r]
	}
	if len(b.rows) > 0 {
		m.backward(false, 0)
	}
	n := len(b.tokens)
	for _, l := range ls {
		if set == AttnWeights {
			dy := l.dy
			if len(b.rows) == 0 {
				dy = make([]float32, n*l.Out)
			}
			out.Factors = append(out.Factors, GradFactor{FactorShape{l.W.Name, l.In, l.Out}, 1, l.x, dy})
			continue
		}
		a := l.LoRA
		dh, dy := a.dh, l.dy
		if len(b.rows) == 0 {
			dh, dy = make([]float32, n*a.R), make([]float32, n*l.Out)
		}
		out.Factors = append(out.Factors,
			GradFactor{FactorShape{a.A.Name, l.In, a.R}, 1, a.xd, dh},
			GradFactor{FactorShape{a.B.Name, a.R, l.Out}, a.Scale, a.h, dy})
	}
	return out, nil
}
