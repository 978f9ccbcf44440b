package model

import (
	"context"
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"

	"github.com/tive-dev/tive/harness/internal/kernels"
	"github.com/tive-dev/tive/harness/internal/kernels/kernelstest"
)

// benchModel is the default model (with the given stem) on the synthetic
// task, with the first batch of 32 records.
func benchModel(b testing.TB, lora bool, stem string) (*Model, *batch) {
	recs, imgs := Synthetic(256, 1)
	cfg := DefaultConfig()
	cfg.Stem = stem
	m, err := New(cfg, BuildVocab(recs, 1), 1)
	if err != nil {
		b.Fatal(err)
	}
	if lora {
		if err := m.AttachLoRA(LoRAConfig{Rank: 8, Alpha: 16, Dropout: 0.05}, 1); err != nil {
			b.Fatal(err)
		}
	}
	m.setTrainable(false, false)
	exs := make([]encoded, 32)
	for i := range exs {
		exs[i], _ = m.encode(&recs[i])
	}
	bt, err := m.newBatch(exs, newImageCache(imgs, 64), true)
	if err != nil {
		b.Fatal(err)
	}
	return m, bt
}

// forwardFlops counts the multiply-adds ×2 of one forward pass over bt:
// every Linear 2·n·In·Out (a convolution's over its output pixels),
// attention 2·T²·D per sequence (scores and weighted sum; causal ones half).
func forwardFlops(m *Model, bt *batch) float64 {
	d, P := float64(m.Cfg.Width), m.Cfg.visualTokens()
	h := d * float64(m.Cfg.MLPRatio)
	nv := float64(bt.nImg * P)
	block := func(n float64) float64 { return 2 * n * (4*d*d + 2*d*h) }
	f := 2 * nv * float64(3*m.Cfg.PatchSize*m.Cfg.PatchSize) * d
	if m.Stem != nil {
		f = 0
		for _, c := range m.Stem.Convs {
			f += 2 * float64(bt.nImg*c.Out()*c.Out()*c.Lin.In*c.Lin.Out)
		}
	}
	f += float64(len(m.VBlocks)) * (block(nv) + float64(bt.nImg)*2*float64(P*P)*d)
	f += 2 * 2 * nv * d * d
	n := float64(len(bt.tokens))
	for range m.Blocks {
		f += block(n)
		for e := 0; e+1 < len(bt.off); e++ {
			t := float64(bt.off[e+1] - bt.off[e])
			f += t * (t + 1) * d
		}
	}
	return f + 2*float64(len(bt.rows))*d*float64(m.Vocab.Size())
}

// BenchmarkTrainStep is one optimizer step (forward, backward, clip, AdamW)
// on 32 synthetic records with the default model, on each matrix-product
// back end. Effective GFLOP/s counts 3× the forward FLOPs.
func BenchmarkTrainStep(b *testing.B) {
	for _, be := range kernels.Available() {
		b.Run("blas="+be, func(b *testing.B) {
			defer kernelstest.Use(b, be)()
			benchTrainStep(b)
		})
	}
}

func benchTrainStep(b *testing.B) {
	for _, c := range []struct {
		lora bool
		stem string
	}{{false, "patch"}, {true, "patch"}, {false, "conv"}} {
		b.Run(fmt.Sprintf("lora=%v/stem=%s", c.lora, c.stem), func(b *testing.B) {
			m, bt := benchModel(b, c.lora, c.stem)
			opt := newAdamW(0.9, 0.999, 1e-8, 0)
			rng := rand.New(rand.NewPCG(1, 1))
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				m.trainStep(bt, rng, opt, 1e-3, 1)
			}
			s := b.Elapsed().Seconds()
			b.ReportMetric(float64(len(bt.tokens)*b.N)/s, "tokens/s")
			b.ReportMetric(float64(len(bt.off)-1)*float64(b.N)/s, "records/s")
			b.ReportMetric(3*forwardFlops(m, bt)*float64(b.N)/s/1e9, "GFLOP/s")
			b.ReportMetric(heapMB(), "heap-MB")
			runtime.KeepAlive(m)
			runtime.KeepAlive(opt)
		})
	}
}

// heapMB is the live heap after a collection: parameters, optimizer state
// and the reused activation buffers.
func heapMB() float64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return float64(ms.HeapAlloc) / (1 << 20)
}

// BenchmarkTrainRun is a whole Train call (1 epoch, batch 32) over 2048
// synthetic records with the default model.
func BenchmarkTrainRun(b *testing.B) {
	recs, imgs := Synthetic(2048, 2)
	for range b.N {
		m, _ := New(DefaultConfig(), BuildVocab(recs, 1), 1)
		t0 := time.Now()
		res, err := Train(context.Background(), m, recs, imgs, TrainConfig{Seed: 1}, nil)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(res.Tokens)/time.Since(t0).Seconds(), "tokens/s")
		b.ReportMetric(float64(res.Tokens)/float64(len(recs)), "tokens/record")
	}
}

// BenchmarkGenerate decodes 64 synthetic prompts, at most 8 new tokens.
func BenchmarkGenerate(b *testing.B) {
	recs, imgs := Synthetic(64, 3)
	m, _ := New(DefaultConfig(), BuildVocab(recs, 1), 1)
	prompts := make([]Prompt, len(recs))
	for i, r := range recs {
		prompts[i] = Prompt{Image: r.Image, Text: r.Conversations[0].Value}
	}
	b.ResetTimer()
	for range b.N {
		if _, err := Generate(context.Background(), m, prompts, imgs, 8); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(prompts)*b.N)/b.Elapsed().Seconds(), "prompts/s")
}

// BenchmarkSgemm is plain gonum Sgemm (C = A·B, row-major float32) at the
// default model's shapes for a batch of 32 records (~1,900 token rows):
// the projections (n×64·64×64), the MLP (n×64·64×256), the patch embedding
// (512×768·768×64), the weight gradient (64×n·n×64) and the 768×64×256
// product quoted in the issue.
func BenchmarkSgemm(b *testing.B) {
	shapes := [][3]int{{1920, 64, 64}, {1920, 64, 256}, {512, 768, 64}, {768, 64, 256}}
	for _, s := range shapes {
		m, k, n := s[0], s[1], s[2]
		b.Run(fmt.Sprintf("%dx%dx%d", m, k, n), func(b *testing.B) {
			rng := rand.New(rand.NewPCG(1, 1))
			a, bb, c := make([]float32, m*k), make([]float32, k*n), make([]float32, m*n)
			for i := range a {
				a[i] = rng.Float32()
			}
			for i := range bb {
				bb[i] = rng.Float32()
			}
			b.ResetTimer()
			for range b.N {
				kernels.Sgemm(false, false, m, n, k, 1, a, k, bb, n, 0, c, n)
			}
			b.ReportMetric(2*float64(m*n*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
	b.Run("gradTN64x1920x64", func(b *testing.B) {
		rng := rand.New(rand.NewPCG(1, 1))
		a, bb, c := make([]float32, 1920*64), make([]float32, 1920*64), make([]float32, 64*64)
		for i := range a {
			a[i], bb[i] = rng.Float32(), rng.Float32()
		}
		var scratch []float32
		for range b.N {
			gemmTN(64, 64, 1920, 1, a, bb, c, &scratch)
		}
		b.ReportMetric(2*64*64*1920*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
	})
}

// BenchmarkTrainSchedule times one epoch over 2048 synthetic records at
// batch 16 and 32, and two batch-32 runs one after the other vs at once
// (what `tive reproduce --jobs 2` does with a sweep's trainings), each
// reaching for every core or sharing them (kernels.Share, as the local
// executor runs them).
func BenchmarkTrainSchedule(b *testing.B) {
	recs, imgs := Synthetic(2048, 2)
	vocab := BuildVocab(recs, 1)
	run := func(bs int, seed uint64) {
		m, _ := New(DefaultConfig(), vocab, seed)
		if _, err := Train(context.Background(), m, recs, imgs, TrainConfig{BatchSize: bs, Seed: seed}, nil); err != nil {
			b.Error(err)
		}
	}
	for _, bs := range []int{16, 32} {
		b.Run(fmt.Sprintf("batch%d", bs), func(b *testing.B) {
			for range b.N {
				run(bs, 1)
			}
		})
	}
	b.Run("two-one-after-the-other", func(b *testing.B) {
		for range b.N {
			run(32, 1)
			run(32, 2)
		}
	})
	for _, share := range []bool{false, true} {
		name := "two-at-once"
		if share {
			name += "-sharing" // as the local executor runs stages side by side (kernels.Share)
		}
		b.Run(name, func(b *testing.B) {
			for range b.N {
				done := make(chan bool)
				for seed := range uint64(2) {
					go func() {
						if share {
							defer kernels.Share()()
						}
						run(32, seed+1)
						done <- true
					}()
				}
				<-done
				<-done
			}
		})
	}
}
