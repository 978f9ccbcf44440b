package model

import (
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/tive-dev/tive/harness/internal/kernels"
)

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
	h := kernels.AdamStep{
		Beta1: float32(o.Beta1), Beta2: float32(o.Beta2),
		Decay: float32(1 - lr*o.WeightDecay), LR: float32(lr / c1),
		S2: float32(1 / math.Sqrt(c2)), Eps: float32(o.Eps),
	}
	// Element-wise, so the split into chunks does not change the bytes.
	type chunk struct {
		p      *Param
		lo, hi int
	}
	var chunks []chunk
	for _, p := range ps {
		if p.Frozen {
			continue
		}
		if o.M[p.Name] == nil {
			o.M[p.Name], o.V[p.Name] = make([]float32, len(p.W)), make([]float32, len(p.W))
		}
		for lo := 0; lo < len(p.W); lo += adamChunk {
			chunks = append(chunks, chunk{p, lo, min(lo+adamChunk, len(p.W))})
		}
	}
	kernels.For(len(chunks), func(_, i int) {
		c := chunks[i]
		m, v := o.M[c.p.Name], o.V[c.p.Name]
		kernels.AdamW(c.p.W[c.lo:c.hi], c.p.G[c.lo:c.hi], m[c.lo:c.hi], v[c.lo:c.hi], h)
	})
}

// adamChunk is the number of parameters per parallel AdamW task.
const adamChunk = 1 << 14

// OptimizerFormat names the layout written by SaveOptimizer.
const OptimizerFormat = "tive-adamw/1"

// optimizerManifest is optimizer.json.
type optimizerManifest struct {
	Format      string  `json:"format"`
	Beta1       float64 `json:"beta1"`
	Beta2       float64 `json:"beta2"`
	Eps         float64 `json:"eps"`
	WeightDecay float64 `json:"weight_decay"`
	Steps       int     `json:"steps"`
	Tensors     string  `json:"tensors"`
	SHA256      string  `json:"sha256"` // of the tensors file
}

// SaveOptimizer writes opt's state for m's parameters beside a saved model
// in dir: optimizer.safetensors (the moments m and v of each parameter as
// torch names them, exp_avg.<param> and exp_avg_sq.<param>, in m's
// parameter order), then optimizer.json (betas, ε, weight decay, steps,
// checksum), each atomically. Training checkpoints and LESS's Adam
// gradient features read it (LoadOptimizer).
func SaveOptimizer(dir string, m *Model, opt *AdamW) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	var ts []Tensor
	for _, p := range m.params {
		if mo, ok := opt.M[p.Name]; ok {
			ts = append(ts, Tensor{Name: "exp_avg." + p.Name, Shape: p.Shape, Data: mo},
				Tensor{Name: "exp_avg_sq." + p.Name, Shape: p.Shape, Data: opt.V[p.Name]})
		}
	}
	sum, err := writeTensors(filepath.Join(dir, "optimizer.safetensors"), ts)
	if err != nil {
		return err
	}
	return writeManifest(filepath.Join(dir, "optimizer.json"), optimizerManifest{Format: OptimizerFormat, Beta1: opt.Beta1, Beta2: opt.Beta2,
		Eps: opt.Eps, WeightDecay: opt.WeightDecay, Steps: opt.T, Tensors: "optimizer.safetensors", SHA256: sum})
}

// LoadOptimizer reads the state SaveOptimizer wrote to dir.
func LoadOptimizer(dir string) (*AdamW, error) {
	var man optimizerManifest
	if err := readManifest(filepath.Join(dir, "optimizer.json"), &man, &man.Format, OptimizerFormat); err != nil {
		return nil, err
	}
	ts, err := readTensors(filepath.Join(dir, man.Tensors), man.SHA256)
	if err != nil {
		return nil, err
	}
	opt := newAdamW(man.Beta1, man.Beta2, man.Eps, man.WeightDecay)
	opt.T = man.Steps
	for name, t := range ts {
		if p, ok := strings.CutPrefix(name, "exp_avg."); ok {
			opt.M[p], opt.V[p] = t.Data, ts["exp_avg_sq."+p].Data
		}
	}
	return opt, nil
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
