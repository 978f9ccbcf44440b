package grad

import (
	"fmt"
	"math"

	"github.com/tive-dev/tive/harness/model"
)

// Adam gradient features (Xia et al. 2024, LESS, §3.2): a training
// example's gradient g is replaced by the update Adam would take from the
// reference run's final state (moments m, v of each parameter):
//
//	m' = β₁m + (1−β₁)g,  v' = β₂v + (1−β₂)g²,  Γ(g) = m' / √(v' + ε)
//
// elementwise, with ε inside the root and no bias correction, as LESS's
// released code (obtain_gradients_with_adam) computes it; β₁, β₂ and ε are
// the reference run's. Validation gradients stay plain (LESS pairs Adam
// training features with SGD validation ones).

// adamProjector projects Γ(g) instead of g.
type adamProjector struct {
	*Rademacher
	opt *model.AdamW
}

// ID is the Rademacher identity marked with the preconditioning, so stores
// of plain and preconditioned features never merge.
func (a *adamProjector) ID() ProjectorID {
	id := a.Rademacher.ID()
	id.Precondition = "adam"
	return id
}

// Project writes Γ(g_e)ᵀR into dst[e].
func (a *adamProjector) Project(dst [][]float32, g *Batch) {
	a.Rademacher.Project(dst, &Batch{Off: g.Off, flat: adamFlat(a.opt, g.Factors, g.Flat())})
}

// adamFlat returns Γ(g) of every example's flat gradient (factors in the order
// of the flat layout, each one's moments under its parameter name). The
// moments must match the factors (checkMoments).
func adamFlat(opt *model.AdamW, factors []model.GradFactor, flat [][]float32) [][]float32 {
	b1, b2, eps := opt.Beta1, opt.Beta2, opt.Eps
	out := make([][]float32, len(flat))
	for e := range out {
		out[e] = make([]float32, len(flat[e]))
	}
	splitRange(len(flat), func(lo, hi int) {
		for e := lo; e < hi; e++ {
			at := 0
			for _, f := range factors {
				m, v := opt.M[f.Name], opt.V[f.Name]
				for i := range f.In * f.Out {
					g := float64(flat[e][at+i])
					m1 := b1*float64(m[i]) + (1-b1)*g
					v1 := b2*float64(v[i]) + (1-b2)*g*g
					out[e][at+i] = float32(m1 / math.Sqrt(v1+eps))
				}
				at += f.In * f.Out
			}
		}
	})
	return out
}

// checkMoments refuses an optimizer state without moments of the right size
// for every factor.
func checkMoments(opt *model.AdamW, shapes []model.FactorShape) error {
	for _, s := range shapes {
		m, v := opt.M[s.Name], opt.V[s.Name]
		if len(m) != s.In*s.Out || len(v) != s.In*s.Out {
			return fmt.Errorf("grad: the optimizer state has %d and %d moments for %s, want %d×%d (was the reference trained on these parameters?)", len(m), len(v), s.Name, s.In, s.Out)
		}
	}
	return nil
}
