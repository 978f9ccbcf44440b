package grad

import (
	"context"
	"math"
	"strings"
	"testing"

	"github.com/tive-dev/tive/harness/model"
)

// TestAdamFeaturesMatchExplicit: with the optimizer state of a real LoRA
// run (saved and loaded again), an Adam feature is the Rademacher projection
// of m'/√(v'+ε) computed in float64 from the example's explicit batch-of-one
// gradient, and the norm stays the plain gradient's.
func TestAdamFeaturesMatchExplicit(t *testing.T) {
	m, recs, imgs := testModel(t, model.LoRAAttn)
	res, err := model.Train(context.Background(), m, recs, imgs, model.TrainConfig{Epochs: 2, BatchSize: 3, LR: 1e-2, Beta2: 0.99, Seed: 5}, nil)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := model.SaveOptimizer(dir, m, res.Optimizer); err != nil {
		t.Fatal(err)
	}
	opt, err := model.LoadOptimizer(dir)
	if err != nil {
		t.Fatal(err)
	}
	if opt.Beta1 != 0.9 || opt.Beta2 != 0.99 || opt.Eps != 1e-8 || opt.T != 4 {
		t.Fatalf("loaded state β₁ %g β₂ %g ε %g after %d steps, want 0.9, 0.99, 1e-8, 4", opt.Beta1, opt.Beta2, opt.Eps, opt.T)
	}
	cfg := Config{Params: model.LoRAAttn, BatchSize: 4, Adam: opt, Projectors: []ProjectorSpec{{Kind: "rademacher", Seed: 9, Dim: 16}}}
	ps, err := Projectors(m, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if id := ps[0].ID(); id.Precondition != "adam" {
		t.Fatalf("projector identity %+v does not say adam", id)
	}
	shapes, _ := m.FactorShapes(model.LoRAAttn)
	var feats []Feature
	if err := Extract(context.Background(), m, recs, imgs, cfg, func(i int, f Feature) error {
		feats = append(feats, f)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for e, f := range feats {
		one, _ := flatOf(t, m, recs[e:e+1], imgs, model.LoRAAttn)
		g := one[0]
		gamma := make([]float64, len(g))
		var n2 float64
		at := 0
		for _, s := range shapes {
			mo, v := opt.M[s.Name], opt.V[s.Name]
			for i := range s.In * s.Out {
				x := float64(g[at+i])
				n2 += x * x
				m1 := 0.9*float64(mo[i]) + 0.1*x
				v1 := 0.99*float64(v[i]) + 0.01*x*x
				gamma[at+i] = m1 / math.Sqrt(v1+1e-8)
			}
			at += s.In * s.Out
		}
		if at != len(g) {
			t.Fatalf("factors cover %d of %d gradient entries", at, len(g))
		}
		if !close32(float64(f.Norm), math.Sqrt(n2), 1e-6, 1e-5) {
			t.Errorf("example %d: norm %g, want the plain gradient's %g", e, f.Norm, math.Sqrt(n2))
		}
		for j := 0; j < 16; j++ {
			var s float64
			for i, x := range gamma {
				s += x * float64(RademacherSign(9, i, j))
			}
			s /= 4 // √16
			if !close32(float64(f.Proj[0][j]), s, 1e-4, 1e-4) {
				t.Errorf("example %d: adam feature[%d] = %g, want %g", e, j, f.Proj[0][j], s)
			}
		}
	}
}

// TestAdamRefusals: Adam preconditioning needs a rademacher projector and
// moments for every factor.
func TestAdamRefusals(t *testing.T) {
	m, _, _ := testModel(t, model.LoRAAttn)
	shapes, _ := m.FactorShapes(model.LoRAAttn)
	opt := &model.AdamW{Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, M: map[string][]float32{}, V: map[string][]float32{}}
	for _, s := range shapes {
		opt.M[s.Name], opt.V[s.Name] = make([]float32, s.In*s.Out), make([]float32, s.In*s.Out)
	}
	_, err := Projectors(m, Config{Params: model.LoRAAttn, Adam: opt, Projectors: []ProjectorSpec{{Kind: "factored", Seed: 1, Side: 2}}})
	if err == nil || !strings.Contains(err.Error(), "rademacher") {
		t.Errorf("factored with Adam: %v, want a refusal naming rademacher", err)
	}
	delete(opt.V, shapes[3].Name)
	_, err = Projectors(m, Config{Params: model.LoRAAttn, Adam: opt, Projectors: []ProjectorSpec{{Kind: "rademacher", Seed: 1, Dim: 4}}})
	if err == nil || !strings.Contains(err.Error(), shapes[3].Name) {
		t.Errorf("missing moments: %v, want a refusal naming %s", err, shapes[3].Name)
	}
}
