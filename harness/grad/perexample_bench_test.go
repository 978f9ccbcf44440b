package grad

import (
	"context"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"

	"github.com/tive-dev/tive/harness/data"
	"github.com/tive-dev/tive/harness/internal/kernels"
	"github.com/tive-dev/tive/harness/internal/kernels/kernelstest"
	"github.com/tive-dev/tive/harness/model"
)

// benchReference is the default model with LoRA r=8, alpha=16 on the
// attention projections (B drawn N(0, 0.02²), as after reference training)
// and 32 synthetic records.
func benchReference(b *testing.B) (*model.Model, []model.FactorShape) {
	m, err := model.New(model.DefaultConfig(), model.BuildVocab(benchRecs(), 1), 1)
	if err != nil {
		b.Fatal(err)
	}
	if err := m.AttachLoRA(model.LoRAConfig{Rank: 8, Alpha: 16, Dropout: 0.05}, 1); err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 1))
	for _, p := range m.Params() {
		if len(p.Name) > 7 && p.Name[len(p.Name)-7:] == ".lora_B" {
			for i := range p.W {
				p.W[i] = float32(rng.NormFloat64() * 0.02)
			}
		}
	}
	shapes, _ := m.FactorShapes(model.LoRAAttn)
	return m, shapes
}

func benchRecs() []data.Record {
	recs, _ := model.Synthetic(32, 1)
	return recs
}

func benchImages() model.MapImages {
	_, imgs := model.Synthetic(32, 1)
	return imgs
}

// BenchmarkExtract is Extract over 32 records in one batch with the default
// reference model: norms, loss and EL2N only, then with each projector, and
// with LESS's Adam preconditioning before a Rademacher projection.
func BenchmarkExtract(b *testing.B) {
	for _, c := range []struct {
		name string
		spec []ProjectorSpec
		adam bool
	}{
		{"none", nil, false},
		{"rademacher-8192", []ProjectorSpec{{Kind: "rademacher", Dim: 8192}}, false},
		{"rademacher-1024", []ProjectorSpec{{Kind: "rademacher", Dim: 1024}}, false},
		{"rademacher-1024-adam", []ProjectorSpec{{Kind: "rademacher", Dim: 1024}}, true},
		{"factored-16", []ProjectorSpec{{Kind: "factored", Side: 16}}, false},
	} {
		b.Run(c.name, func(b *testing.B) {
			m, shapes := benchReference(b)
			recs, imgs := benchRecs(), benchImages()
			cfg := Config{BatchSize: 32, Projectors: c.spec}
			if c.adam {
				cfg.Adam = &model.AdamW{Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, M: map[string][]float32{}, V: map[string][]float32{}}
				for _, s := range shapes {
					cfg.Adam.M[s.Name], cfg.Adam.V[s.Name] = make([]float32, s.In*s.Out), make([]float32, s.In*s.Out)
					for i := range cfg.Adam.V[s.Name] {
						cfg.Adam.V[s.Name][i] = 1e-6
					}
				}
			}
			ps, err := Projectors(m, cfg)
			if err != nil {
				b.Fatal(err)
			}
			emit := func(int, Feature) error { return nil }
			extract(context.Background(), m, recs, imgs, cfg, ps, emit) // matrices built outside the timing
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				if err := extract(context.Background(), m, recs, imgs, cfg, ps, emit); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(recs)*b.N)/b.Elapsed().Seconds(), "examples/s")
		})
	}
}

// BenchmarkFeatureCost times, on the same 32 records, one LoRA training
// step (model.Train on exactly one batch), the per-example pass with norms
// (model.PerExample + Batch.Norms), and each projector's Project, and
// reports feature cost / training-step cost and each projector's share of
// the feature cost (base + that projector). Projectors: factored with side
// 16 (dim 4096) and side 8 (dim 1024, as the projector ablation), and
// rademacher-8192.
func BenchmarkFeatureCost(b *testing.B) {
	for _, be := range kernels.Available() {
		b.Run("blas="+be, func(b *testing.B) {
			defer kernelstest.Use(b, be)()
			benchFeatureCost(b)
		})
	}
}

func benchFeatureCost(b *testing.B) {
	m, shapes := benchReference(b)
	recs, imgs := benchRecs(), benchImages()
	rad, _ := NewProjector(ProjectorSpec{Kind: "rademacher", Dim: 8192}, shapes)
	fac, _ := NewProjector(ProjectorSpec{Kind: "factored", Side: 16}, shapes)
	fac8, _ := NewProjector(ProjectorSpec{Kind: "factored", Side: 8}, shapes)
	dst := func(d int) [][]float32 {
		out := make([][]float32, len(recs))
		for i := range out {
			out[i] = make([]float32, d)
		}
		return out
	}
	dr, df, df8 := dst(rad.ID().Dim), dst(fac.ID().Dim), dst(fac8.ID().Dim)
	var tTrain, tBase, tRad, tFac, tFac8 time.Duration
	for i := -1; i < b.N; i++ { // i = −1 warms buffers and builds the matrices
		t0 := time.Now()
		if _, err := model.Train(context.Background(), m, recs, imgs, model.TrainConfig{BatchSize: 32, Seed: 1}, nil); err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		out, err := m.PerExample(recs, imgs, model.LoRAAttn)
		if err != nil {
			b.Fatal(err)
		}
		g := &Batch{Off: out.Off, Factors: out.Factors}
		g.Norms()
		t2 := time.Now()
		fac.Project(df, g)
		t3 := time.Now()
		rad.Project(dr, g)
		t4 := time.Now()
		fac8.Project(df8, g)
		t5 := time.Now()
		if i >= 0 {
			tTrain += t1.Sub(t0)
			tBase += t2.Sub(t1)
			tFac += t3.Sub(t2)
			tRad += t4.Sub(t3)
			tFac8 += t5.Sub(t4)
		}
	}
	b.ReportMetric(float64(tBase+tFac)/float64(tTrain), "factored/train")
	b.ReportMetric(float64(tBase+tRad)/float64(tTrain), "rademacher/train")
	b.ReportMetric(float64(tFac)/float64(tBase+tFac), "factored-share")
	b.ReportMetric(float64(tFac8)/float64(tBase+tFac8), "factored8-share")
	b.ReportMetric(float64(tRad)/float64(tBase+tRad), "rademacher-share")
	b.ReportMetric(float64(len(recs)*b.N)/(tBase+tFac).Seconds(), "factored-examples/s")
	b.ReportMetric(float64(len(recs)*b.N)/tTrain.Seconds(), "train-examples/s")
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	b.ReportMetric(float64(ms.HeapAlloc)/(1<<20), "heap-MB")
	runtime.KeepAlive(m)
	runtime.KeepAlive(rad)
	runtime.KeepAlive(fac)
	runtime.KeepAlive(fac8)
}
