package grad

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"sync"

	"github.com/tive-dev/tive/harness/data"
	"github.com/tive-dev/tive/harness/internal/kernels"
	"github.com/tive-dev/tive/harness/model"
)

// Config configures Extract.
type Config struct {
	Params     model.ParamSet  // gradient w.r.t. these matrices ("" = model.LoRAAttn, as TIVE)
	Projectors []ProjectorSpec // features per projector, in this order
	BatchSize  int             // records per backward pass (32)
	// Adam, when set, preconditions the gradients every projector sees with
	// this optimizer state (LESS's Adam gradient features, adam.go); the
	// norms stay those of the plain gradients. Rademacher projectors only.
	Adam *model.AdamW
}

// Feature is one record's gradient summary. With g = ∂ℓ/∂θ over the chosen
// matrices and ℓ the mean cross-entropy over the record's response tokens
// (model in eval mode):
type Feature struct {
	Norm float32     // ‖g‖₂, unprojected
	Loss float32     // ℓ
	EL2N float32     // mean over response tokens of ‖softmax(z) − onehot(y)‖₂
	Proj [][]float32 // gᵀR (Γ(g)ᵀR with Config.Adam) for each projector of Config.Projectors
}

// Projectors builds cfg's projectors for m; their IDs go into the feature
// manifests.
func Projectors(m *model.Model, cfg Config) ([]Projector, error) {
	shapes, err := m.FactorShapes(params(cfg))
	if err != nil {
		return nil, err
	}
	if cfg.Adam != nil {
		if err := checkMoments(cfg.Adam, shapes); err != nil {
			return nil, err
		}
	}
	var ps []Projector
	for _, s := range cfg.Projectors {
		p, err := NewProjector(s, shapes)
		if err != nil {
			return nil, err
		}
		if cfg.Adam != nil {
			r, ok := p.(*Rademacher)
			if !ok {
				return nil, fmt.Errorf("grad: Adam preconditioning needs rademacher projectors; %s projects per-token factors and never forms the gradient Γ acts on", s.Kind)
			}
			p = &adamProjector{r, cfg.Adam}
		}
		ps = append(ps, p)
	}
	return ps, nil
}

func params(cfg Config) model.ParamSet {
	if cfg.Params == "" {
		return model.LoRAAttn
	}
	return cfg.Params
}

// Extract computes the features of recs, BatchSize records per forward and
// backward pass (model.PerExample), and calls emit(i, feature of recs[i]) in
// index order. It stops at the first error of emit or at ctx's end. A
// caller writing shards calls it once per shard with that shard's records.
func Extract(ctx context.Context, m *model.Model, recs []data.Record, images model.ImageSource, cfg Config, emit func(i int, f Feature) error) error {
	ps, err := Projectors(m, cfg)
	if err != nil {
		return err
	}
	return extract(ctx, m, recs, images, cfg, ps, emit)
}

func extract(ctx context.Context, m *model.Model, recs []data.Record, images model.ImageSource, cfg Config, ps []Projector, emit func(i int, f Feature) error) error {
	bs := cfg.BatchSize
	if bs <= 0 {
		bs = 32
	}
	for lo := 0; lo < len(recs); lo += bs {
		if err := ctx.Err(); err != nil {
			return err
		}
		hi := min(lo+bs, len(recs))
		out, err := m.PerExample(recs[lo:hi], images, params(cfg))
		if err != nil {
			return err
		}
		g := &Batch{Off: out.Off, Factors: out.Factors}
		feats := make([]Feature, hi-lo)
		for e := range feats {
			feats[e] = Feature{Loss: out.Loss[e], EL2N: out.EL2N[e], Proj: make([][]float32, len(ps))}
		}
		norms := g.Norms()
		for e := range feats {
			feats[e].Norm = norms[e]
		}
		for k, p := range ps {
			dst := make([][]float32, hi-lo)
			for e := range dst {
				dst[e] = make([]float32, p.ID().Dim)
				feats[e].Proj[k] = dst[e]
			}
			p.Project(dst, g)
		}
		for e := range feats {
			if err := emit(lo+e, feats[e]); err != nil {
				return err
			}
		}
	}
	return nil
}

// ShardOptions configures WriteShards.
type ShardOptions struct {
	Size int // records per shard
	// Start and End bound the rows to extract (End 0: all N). Shards are
	// [Start+j·Size, min(Start+(j+1)·Size, End)), so job-array tasks whose
	// Start is a multiple of Size together write the single-process layout.
	Start, End int
	Progress   func(done, total int) // records done of End-Start, after each shard
	Written    func(start, end int)  // after each shard written (not for shards found whole)
}

// WriteShards extracts features of recs into one sharded store per
// projector (dirs[k] for cfg.Projectors[k]). Each shard's store files carry
// the projected features and the per-example vectors "norms", "loss" and
// "el2n". Shards already whole in every store are skipped (and counted in
// reused), so a killed extraction resumes at the first missing shard.
func WriteShards(ctx context.Context, m *model.Model, recs []data.Record, images model.ImageSource, cfg Config, dirs []string, opt ShardOptions) (reused int, err error) {
	ps, err := Projectors(m, cfg)
	if err != nil {
		return 0, err
	}
	if len(dirs) != len(ps) {
		return 0, fmt.Errorf("grad: %d store folders for %d projectors", len(dirs), len(ps))
	}
	start, end := opt.Start, opt.End
	if end == 0 {
		end = len(recs)
	}
	switch {
	case opt.Size <= 0:
		return 0, fmt.Errorf("grad: shard size %d must be positive", opt.Size)
	case start < 0 || start >= end || end > len(recs):
		return 0, fmt.Errorf("grad: rows [%d, %d) of %d records", start, end, len(recs))
	}
	sws := make([]*ShardWriter, len(ps))
	for k, p := range ps {
		sws[k] = &ShardWriter{Dir: dirs[k], Projector: p.ID(), Records: len(recs)}
	}
	for lo := start; lo < end; lo += opt.Size {
		hi := min(lo+opt.Size, end)
		done := true
		for _, sw := range sws {
			done = done && sw.Done(lo, hi)
		}
		if done {
			reused++
		} else {
			n := hi - lo
			feats := make([][]float32, len(ps))
			for k, p := range ps {
				feats[k] = make([]float32, n*p.ID().Dim)
			}
			vec := map[string][]float64{"norms": make([]float64, n), "loss": make([]float64, n), "el2n": make([]float64, n)}
			err := extract(ctx, m, recs[lo:hi], images, cfg, ps, func(i int, f Feature) error {
				vec["norms"][i], vec["loss"][i], vec["el2n"][i] = float64(f.Norm), float64(f.Loss), float64(f.EL2N)
				for k, p := range f.Proj {
					copy(feats[k][i*len(p):], p)
				}
				return nil
			})
			if err != nil {
				return reused, err
			}
			for k, sw := range sws {
				if err := sw.Write(lo, hi, feats[k], vec); err != nil {
					return reused, err
				}
			}
			if opt.Written != nil {
				opt.Written(lo, hi)
			}
		}
		if opt.Progress != nil {
			opt.Progress(hi-start, end-start)
		}
	}
	return reused, nil
}

// Flat returns every example's flat gradient, computing it on first use:
// factor f contributes Scale_f·X_{f,e}ᵀ·DY_{f,e} [In, Out], row-major, and
// the factors are concatenated in order.
func (g *Batch) Flat() [][]float32 {
	if g.flat != nil {
		return g.flat
	}
	p := 0
	for _, f := range g.Factors {
		p += f.In * f.Out
	}
	b := len(g.Off) - 1
	g.flat = make([][]float32, b)
	buf := make([]float32, b*p)
	for e := range g.flat {
		g.flat[e] = buf[e*p : (e+1)*p]
	}
	splitRange(b, func(lo, hi int) {
		for e := lo; e < hi; e++ {
			o0, o1 := g.Off[e], g.Off[e+1]
			at := 0
			for _, f := range g.Factors {
				kernels.Sgemm(true, false, f.In, f.Out, o1-o0, f.Scale, f.X[o0*f.In:], f.In, f.DY[o0*f.Out:], f.Out, 0, g.flat[e][at:at+f.In*f.Out], f.Out)
				at += f.In * f.Out
			}
		}
	})
	return g.flat
}

// Norms returns ‖g_e‖₂ of every example's flat gradient (summed in float64).
func (g *Batch) Norms() []float32 {
	flat := g.Flat()
	out := make([]float32, len(flat))
	for e, v := range flat {
		var s float64
		for _, x := range v {
			s += float64(x) * float64(x)
		}
		out[e] = float32(math.Sqrt(s))
	}
	return out
}

// splitRange runs f over [0, n) split into up to GOMAXPROCS contiguous
// ranges in parallel; f must write disjoint outputs per index.
func splitRange(n int, f func(lo, hi int)) {
	w := min(runtime.GOMAXPROCS(0), n)
	if w <= 1 {
		f(0, n)
		return
	}
	var wg sync.WaitGroup
	for i := 0; i < w; i++ {
		wg.Add(1)
		go func(lo, hi int) {
			defer wg.Done()
			f(lo, hi)
		}(i*n/w, (i+1)*n/w)
	}
	wg.Wait()
}
