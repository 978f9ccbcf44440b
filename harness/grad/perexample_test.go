package grad

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"image"
	"image/color"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/tive-dev/tive/harness/data"
	"github.com/tive-dev/tive/harness/internal/kernels/kernelstest"
	"github.com/tive-dev/tive/harness/model"
)

// testModel is a tiny model with LoRA adapters whose weights are all drawn
// at random (B non-zero, so every gradient is non-trivial), and records with
// and without images, single- and multi-turn.
func testModel(t testing.TB, set model.ParamSet) (*model.Model, []data.Record, model.MapImages) {
	t.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	imgs := model.MapImages{}
	words := []string{"red", "green", "blue", "cat", "dog", "tree"}
	var recs []data.Record
	for i := 0; i < 6; i++ {
		img := image.NewRGBA(image.Rect(0, 0, 16, 16))
		for p := range img.Pix {
			img.Pix[p] = uint8(rng.IntN(256))
		}
		img.Set(0, 0, color.RGBA{255, 0, 0, 255})
		path := fmt.Sprintf("%d.png", i)
		imgs[path] = img
		r := data.Record{ID: fmt.Sprint(i), Image: path, Conversations: []data.Turn{
			{From: "human", Value: "<image>\nWhat is " + words[i%6] + "?"}, {From: "gpt", Value: words[(i+1)%6] + " " + words[(i+3)%6]}}}
		if i%3 == 1 {
			r.Conversations = append(r.Conversations, data.Turn{From: "human", Value: "And the " + words[(i+2)%6] + "?"}, data.Turn{From: "gpt", Value: words[(i+4)%6]})
		}
		if i == 4 {
			r.Image = ""
			r.Conversations[0].Value = "Say " + words[2] + "."
		}
		recs = append(recs, r)
	}
	cfg := model.Config{ImageSize: 16, PatchSize: 8, Width: 16, Heads: 2, Layers: 2, VisionLayers: 1, MLPRatio: 2, MaxLen: 48}
	m, err := model.New(cfg, model.BuildVocab(recs, 1), 3)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.AttachLoRA(model.LoRAConfig{Rank: 3, Alpha: 6, Dropout: 0.1, MLP: true}, 4); err != nil {
		t.Fatal(err)
	}
	for _, p := range m.Params() {
		for i := range p.W {
			p.W[i] = float32(rng.NormFloat64() * 0.3)
		}
	}
	return m, recs, imgs
}

func flatOf(t testing.TB, m *model.Model, recs []data.Record, imgs model.ImageSource, set model.ParamSet) ([][]float32, []float32) {
	t.Helper()
	out, err := m.PerExample(recs, imgs, set)
	if err != nil {
		t.Fatal(err)
	}
	g := &Batch{Off: out.Off, Factors: out.Factors}
	flat := g.Flat()
	cp := make([][]float32, len(flat))
	for e := range flat {
		cp[e] = append([]float32(nil), flat[e]...)
	}
	return cp, append([]float32(nil), out.Loss...)
}

func close32(a, b, abs, rel float64) bool { return math.Abs(a-b) <= abs+rel*math.Abs(b) }

// TestPerExampleMatchesBatchOne: the batched pass gives each example the
// gradient a batch of one gives it (float32; |Δ| ≤ 1e-5 + 1e-4·|g|).
func TestPerExampleMatchesBatchOne(t *testing.T) {
	kernelstest.EachBackend(t, checkPerExampleMatchesBatchOne)
}

func checkPerExampleMatchesBatchOne(t *testing.T) {
	for _, set := range []model.ParamSet{model.LoRAAttn, model.LoRAAll, model.AttnWeights} {
		m, recs, imgs := testModel(t, set)
		flat, loss := flatOf(t, m, recs, imgs, set)
		for e := range recs {
			one, l1 := flatOf(t, m, recs[e:e+1], imgs, set)
			if !close32(float64(loss[e]), float64(l1[0]), 1e-6, 1e-5) {
				t.Errorf("%s example %d: loss %g batched, %g alone", set, e, loss[e], l1[0])
			}
			bad := 0
			for i := range one[0] {
				if !close32(float64(flat[e][i]), float64(one[0][i]), 1e-5, 1e-4) {
					bad++
				}
			}
			if bad > 0 {
				t.Errorf("%s example %d: %d of %d gradient entries differ from batch-1", set, e, bad, len(one[0]))
			}
		}
	}
}

// TestPerExampleFiniteDifference checks per-example gradients against central
// differences of the example's own loss (float32, step 1e-2,
// |Δ| ≤ 2e-3 + 2e-2·|g|) at sampled entries of every factor.
func TestPerExampleFiniteDifference(t *testing.T) {
	kernelstest.EachBackend(t, checkPerExampleFiniteDifference)
}

func checkPerExampleFiniteDifference(t *testing.T) {
	for _, set := range []model.ParamSet{model.LoRAAll, model.AttnWeights} {
		m, recs, imgs := testModel(t, set)
		shapes, err := m.FactorShapes(set)
		if err != nil {
			t.Fatal(err)
		}
		byName := map[string]*model.Param{}
		for _, p := range m.Params() {
			byName[p.Name] = p
		}
		flat, _ := flatOf(t, m, recs, imgs, set)
		rng := rand.New(rand.NewPCG(9, 9))
		for _, e := range []int{1, 4} {
			at := 0
			for _, sh := range shapes {
				p := byName[sh.Name]
				for range 4 {
					i := rng.IntN(len(p.W))
					old := p.W[i]
					p.W[i] = old + 1e-2
					_, lp := flatOf(t, m, recs[e:e+1], imgs, set)
					p.W[i] = old - 1e-2
					_, lm := flatOf(t, m, recs[e:e+1], imgs, set)
					p.W[i] = old
					num := (float64(lp[0]) - float64(lm[0])) / 2e-2
					if got := float64(flat[e][at+i]); !close32(num, got, 2e-3, 2e-2) {
						t.Errorf("%s example %d %s[%d]: numeric %.6g, per-example %.6g", set, e, sh.Name, i, num, got)
					}
				}
				at += sh.In * sh.Out
			}
		}
	}
}

// TestProjectionsMatchExplicit: each projector's feature equals the
// projection of the explicit flat gradient by the matrix written out entry
// by entry from RademacherSign; the norm is the flat gradient's norm.
func TestProjectionsMatchExplicit(t *testing.T) {
	kernelstest.EachBackend(t, checkProjectionsMatchExplicit)
}

func checkProjectionsMatchExplicit(t *testing.T) {
	m, recs, imgs := testModel(t, model.LoRAAttn)
	cfg := Config{Params: model.LoRAAttn, BatchSize: 4, Projectors: []ProjectorSpec{
		{Kind: "rademacher", Seed: 17, Dim: 24}, {Kind: "factored", Seed: 17, Side: 2}}}
	shapes, _ := m.FactorShapes(cfg.Params)
	flat, _ := flatOf(t, m, recs, imgs, cfg.Params)
	var feats []Feature
	if err := Extract(context.Background(), m, recs, imgs, cfg, func(i int, f Feature) error {
		if i != len(feats) {
			t.Fatalf("emitted %d, want %d", i, len(feats))
		}
		feats = append(feats, f)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for e, f := range feats {
		var n2 float64
		for _, v := range flat[e] {
			n2 += float64(v) * float64(v)
		}
		if !close32(float64(f.Norm), math.Sqrt(n2), 1e-6, 1e-5) {
			t.Errorf("example %d: norm %g, want %g", e, f.Norm, math.Sqrt(n2))
		}
		// Rademacher: p_j = Σ_i g_i·sign(17, i, j)/√24.
		for j := 0; j < 24; j++ {
			var s float64
			for i, v := range flat[e] {
				s += float64(v) * float64(RademacherSign(17, i, j))
			}
			s /= math.Sqrt(24)
			if !close32(float64(f.Proj[0][j]), s, 1e-5, 1e-4) {
				t.Errorf("example %d rademacher[%d] = %g, want %g", e, j, f.Proj[0][j], s)
			}
		}
		// Factored: block f = P_inᵀ G_f P_out.
		at, out := 0, 0
		for k, sh := range shapes {
			sin, sout := mix64(17^uint64(2*k)), mix64(17^uint64(2*k+1))
			for a := 0; a < 2; a++ {
				for b := 0; b < 2; b++ {
					var s float64
					for i := 0; i < sh.In; i++ {
						for o := 0; o < sh.Out; o++ {
							s += float64(RademacherSign(sin, i, a)) * float64(flat[e][at+i*sh.Out+o]) * float64(RademacherSign(sout, o, b))
						}
					}
					s /= 2 // (1/√2)·(1/√2)
					if got := float64(f.Proj[1][out]); !close32(got, s, 1e-5, 1e-4) {
						t.Errorf("example %d factored %s[%d,%d] = %g, want %g", e, sh.Name, a, b, got, s)
					}
					out++
				}
			}
			at += sh.In * sh.Out
		}
	}
}

func featureBytes(t testing.TB, cfg Config) []byte {
	m, recs, imgs := testModel(t, cfg.Params)
	var buf bytes.Buffer
	err := Extract(context.Background(), m, recs, imgs, cfg, func(i int, f Feature) error {
		binary.Write(&buf, binary.LittleEndian, []float32{f.Norm, f.Loss, f.EL2N})
		for _, p := range f.Proj {
			binary.Write(&buf, binary.LittleEndian, p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestExtractDeterministic: the same model, records and seeds give the same
// bytes, including the streamed (uncached) Rademacher path.
func TestExtractDeterministic(t *testing.T) {
	cfg := Config{BatchSize: 4, Projectors: []ProjectorSpec{{Kind: "rademacher", Seed: 3, Dim: 64}, {Kind: "factored", Seed: 3, Side: 4}}}
	a, b := featureBytes(t, cfg), featureBytes(t, cfg)
	if !bytes.Equal(a, b) {
		t.Fatal("two extractions differ")
	}
	// A matrix over the cache limit is regenerated in row blocks: same values.
	m, recs, imgs := testModel(t, model.LoRAAttn)
	shapes, _ := m.FactorShapes(model.LoRAAttn)
	out, _ := m.PerExample(recs, imgs, model.LoRAAttn)
	g := &Batch{Off: out.Off, Factors: out.Factors}
	p, _ := NewProjector(ProjectorSpec{Kind: "rademacher", Seed: 3, Dim: 64}, shapes)
	r := p.(*Rademacher)
	cached := make([][]float32, len(recs))
	for e := range cached {
		cached[e] = make([]float32, 64)
	}
	r.Project(cached, g)
	big := &Rademacher{Seed: 3, Dim: 64, In: r.In, Dtype: Float32, streamRows: 5}
	streamed := make([][]float32, len(recs))
	for e := range streamed {
		streamed[e] = make([]float32, 64)
	}
	big.Project(streamed, g)
	for e := range cached {
		for j := range cached[e] {
			if !close32(float64(streamed[e][j]), float64(cached[e][j]), 1e-6, 1e-5) {
				t.Fatalf("streamed projection [%d][%d] = %g, cached %g", e, j, streamed[e][j], cached[e][j])
			}
		}
	}
}

// TestRademacherSignGolden pins entries of the seeded matrix so that other
// implementations (the Python worker) can check theirs.
func TestRademacherSignGolden(t *testing.T) {
	var got []float32
	for _, c := range [][3]int{{0, 0, 0}, {0, 1, 0}, {0, 0, 1}, {42, 7, 3}, {42, 8191, 8191}, {1 << 40, 123456, 77}} {
		got = append(got, RademacherSign(uint64(c[0]), c[1], c[2]))
	}
	want := []float32{-1, 1, 1, 1, -1, -1} // from the Python snippet in RademacherSign's doc
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("signs %v, want %v", got, want)
	}
	if mix64(0) != 0xe220a8397b1dcdaf {
		t.Errorf("mix64(0) = %#x, want splitmix64's first output for state 0, 0xe220a8397b1dcdaf", mix64(0))
	}
}

// countingImages records which images were read.
type countingImages struct {
	model.ImageSource
	seen map[string]bool
}

func (c *countingImages) Image(p string) (image.Image, error) {
	c.seen[p] = true
	return c.ImageSource.Image(p)
}

// TestWriteShardsResume: an extraction killed after its first shard resumes
// at the second (the first shard's images are not read again) and ends with
// the same store bytes as an uninterrupted run.
func TestWriteShardsResume(t *testing.T) {
	m, recs, imgs := testModel(t, model.LoRAAttn)
	cfg := Config{BatchSize: 2, Projectors: []ProjectorSpec{{Kind: "rademacher", Seed: 1, Dim: 16}, {Kind: "factored", Seed: 1, Side: 2}}}
	whole := []string{t.TempDir(), t.TempDir()}
	if _, err := WriteShards(context.Background(), m, recs, imgs, cfg, whole, ShardOptions{Size: 2}); err != nil {
		t.Fatal(err)
	}
	dirs := []string{t.TempDir(), t.TempDir()}
	ctx, cancel := context.WithCancel(context.Background())
	_, err := WriteShards(ctx, m, recs, imgs, cfg, dirs, ShardOptions{Size: 2, Progress: func(done, _ int) {
		if done == 2 {
			cancel()
		}
	}})
	if err == nil {
		t.Fatal("cancelled extraction returned no error")
	}
	ci := &countingImages{imgs, map[string]bool{}}
	reused, err := WriteShards(context.Background(), m, recs, ci, cfg, dirs, ShardOptions{Size: 2})
	if err != nil {
		t.Fatal(err)
	}
	if reused != 1 {
		t.Errorf("resumed run reused %d shards, want 1", reused)
	}
	if ci.seen[recs[0].Image] || ci.seen[recs[1].Image] || !ci.seen[recs[2].Image] {
		t.Errorf("resumed run read images %v; want none of shard 0, all of shard 1", ci.seen)
	}
	for k := range dirs {
		for _, d := range []string{whole[k], dirs[k]} {
			st, err := OpenStore(d, true)
			if err != nil {
				t.Fatal(err)
			}
			if err := st.Merge(d, "merged."); err != nil {
				t.Fatal(err)
			}
		}
		for _, f := range []string{"merged.features.npy", "merged.norms.npy", "merged.loss.npy", "merged.el2n.npy"} {
			a, err1 := os.ReadFile(filepath.Join(whole[k], f))
			b, err2 := os.ReadFile(filepath.Join(dirs[k], f))
			if err1 != nil || err2 != nil || !bytes.Equal(a, b) {
				t.Errorf("projector %d %s: resumed store differs (%v, %v)", k, f, err1, err2)
			}
		}
	}
}
