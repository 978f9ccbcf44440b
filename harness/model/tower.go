package model

import (
	"context"
	"errors"
	"fmt"
	"image"
	"math"
	"strings"

	"github.com/tive-dev/tive/harness/seeds"
)

// The vision tower (CLIP's role in LLaVA's recipe) is the model's image
// path up to the projector: patch embedding or stem, positions, encoder
// blocks and VLN. PretrainTower trains it alone, before any text, on
// labelled images: a linear head per label kind (the generator's concepts,
// colours, ...) reads every visual token, and each token's target is the
// label of the object that covers most of its patch (Labels), or the
// head's extra "nothing" class. The heads are dropped afterwards, as CLIP's
// text tower is; TrainConfig.FreezeVision keeps the tower fixed after.

// TowerImage is one labelled image: the image (ImageSize² pixels) and the
// objects in it.
type TowerImage struct {
	Image   image.Image
	Objects []TowerObject
}

// TowerObject is one object of a TowerImage: its box in pixels and its
// class under each head (0 ≤ Labels[h] < classes[h]).
type TowerObject struct {
	Box    image.Rectangle
	Labels []int
}

// TokenObjects gives, for each visual token of cfg's grid (row-major
// patches), the index of the object covering most of the token's patch, or
// −1 where no object covers at least a fifth of the patch or of its own box.
func (c Config) TokenObjects(objs []TowerObject) []int {
	g := c.ImageSize / c.PatchSize
	out := make([]int, g*g)
	for p := range out {
		cell := c.patchRect(p)
		out[p] = -1
		best := 0
		for k, o := range objs {
			in := area(o.Box.Intersect(cell))
			if in > best && 5*in >= min(area(cell), area(o.Box)) {
				out[p], best = k, in
			}
		}
	}
	return out
}

// patchRect is the pixels of visual token p's patch (row-major grid).
func (c Config) patchRect(p int) image.Rectangle {
	g, s := c.ImageSize/c.PatchSize, c.PatchSize
	return image.Rect(p%g*s, p/g*s, (p%g+1)*s, (p/g+1)*s)
}

func area(r image.Rectangle) int {
	if r.Empty() {
		return 0
	}
	return r.Dx() * r.Dy()
}

// TowerResult summarises a PretrainTower run.
type TowerResult struct {
	Steps  int
	Losses []float64 // summed over heads: each head's mean loss over the batch's tokens
}

// PretrainTower trains m's vision tower on imgs with one linear head per
// entry of classes (head h has classes[h]+1 outputs, the last meaning no
// object), minimising the sum over heads of the mean cross-entropy over
// every visual token of the batch. Schedule, order and optimizer are
// Train's (BatchSize images a step, Epochs passes, AdamW, cosine schedule,
// clipping, permutations from tc.Seed); only the tower's parameters and the
// heads train, and the heads start from N(0, 1/D) drawn from PCG(tc.Seed,
// "head").
func PretrainTower(ctx context.Context, m *Model, imgs []TowerImage, classes []int, tc TrainConfig, progress func(done, total int)) (*TowerResult, error) {
	tc = tc.withDefaults()
	if len(imgs) == 0 || len(classes) == 0 {
		return nil, errors.New("model: tower pretraining needs images and at least one head")
	}
	d, P := m.Cfg.TowerWidth(), m.Cfg.visualTokens()
	rng := seeds.Rand(tc.Seed, seeds.Head)
	heads := make([]*Linear, len(classes))
	ces := make([]CrossEntropy, len(classes))
	params := m.trainOnly("vision.")
	defer m.thaw()
	for h, c := range classes {
		heads[h] = newLinear(fmt.Sprintf("tower.head.%d", h), d, c+1, true)
		heads[h].W.initNormal(rng, 1/math.Sqrt(float64(d)))
		ces[h] = CrossEntropy{V: c + 1}
		params = append(params, heads[h].params()...)
	}
	targets := make([][]int32, len(imgs)) // [image][head·P + token]
	for i, im := range imgs {
		owner := m.Cfg.TokenObjects(im.Objects)
		targets[i] = make([]int32, len(classes)*P)
		for h, c := range classes {
			for p, k := range owner {
				t := c // no object: the background class
				if k >= 0 {
					if t = im.Objects[k].Labels[h]; t < 0 || t >= c {
						return nil, fmt.Errorf("model: image %d object %d: label %d of head %d outside [0, %d)", i, k, t, h, c)
					}
				}
				targets[i][h*P+p] = int32(t)
			}
		}
	}
	tb := &towerBatch{heads: heads, ces: ces}
	losses, err := stepLoop(ctx, len(imgs), tc, params, func(batch []int) float64 {
		tb.px, tb.y = tb.px[:0], tb.y[:0]
		for _, i := range batch {
			tb.px = append(tb.px, pixels(imgs[i].Image, m.Cfg.ImageSize))
			tb.y = append(tb.y, targets[i])
		}
		return m.towerStep(tb, true)
	}, progress)
	return &TowerResult{Steps: tc.Steps(len(imgs)), Losses: losses}, err
}

// trainOnly freezes every parameter whose name lacks prefix and returns
// the others, the ones to train; thaw undoes it.
func (m *Model) trainOnly(prefix string) []*Param {
	var ps []*Param
	for _, p := range m.params {
		p.Frozen = !strings.HasPrefix(p.Name, prefix)
		if !p.Frozen {
			ps = append(ps, p)
		}
	}
	return ps
}

// thaw unfreezes every parameter.
func (m *Model) thaw() {
	for _, p := range m.params {
		p.Frozen = false
	}
}

// stepLoop runs Train's schedule over n items: tc.Steps(n) AdamW steps of
// tc.BatchSize items each, in an order drawn per epoch from PCG(tc.Seed,
// epoch), the learning rate on a cosine with linear warm-up, gradients
// clipped to tc.MaxGradNorm. step gets a batch's item indices, accumulates
// the gradients of params (zeroed before it) and returns the batch's loss;
// stepLoop returns every step's loss (those run before ctx ended).
func stepLoop(ctx context.Context, n int, tc TrainConfig, params []*Param, step func(batch []int) float64, progress func(done, total int)) ([]float64, error) {
	opt := newAdamW(tc.Beta1, tc.Beta2, tc.Eps, tc.WeightDecay)
	bs := tc.BatchSize
	spe := (n + bs - 1) / bs
	total := tc.Steps(n)
	warm := int(math.Ceil(float64(total) * tc.WarmupRatio))
	var losses []float64
	var perm []int
	for s := range total {
		if err := ctx.Err(); err != nil {
			return losses, err
		}
		ep, k := s/spe, s%spe
		if k == 0 {
			perm = seeds.Rand(tc.Seed, seeds.Epoch, seeds.I(ep)).Perm(n)
		}
		for _, p := range params {
			zero(p.G)
		}
		losses = append(losses, step(perm[k*bs:min((k+1)*bs, n)]))
		clipGrads(params, tc.MaxGradNorm)
		opt.Step(params, cosineLR(tc.LR, s, total, warm))
		if progress != nil {
			progress(s+1, total)
		}
	}
	return losses, nil
}

// TowerFeatures runs the tower over imgs, 64 at a time, and returns each
// image's visual features (VLN's output, before the projector) as [P·D].
func TowerFeatures(m *Model, imgs []image.Image) [][]float32 {
	d, P := m.Cfg.TowerWidth(), m.Cfg.visualTokens()
	out := make([][]float32, len(imgs))
	for lo := 0; lo < len(imgs); lo += 64 {
		hi := min(lo+64, len(imgs))
		var px [][]uint8
		for _, im := range imgs[lo:hi] {
			px = append(px, pixels(im, m.Cfg.ImageSize))
		}
		m.towerForward(px)
		for i := lo; i < hi; i++ {
			out[i] = append([]float32(nil), m.act.vln[(i-lo)*P*d:(i-lo+1)*P*d]...)
		}
	}
	return out
}

// ObjectFeatures is each object's feature in an image's tower features
// feats [P·D]: the mean of the tokens that TokenObjects gives it, or, when
// it owns none, of the tokens whose patch its box touches.
func (c Config) ObjectFeatures(feats []float32, objs []TowerObject) [][]float32 {
	d := c.TowerWidth()
	owner := c.TokenObjects(objs)
	out := make([][]float32, len(objs))
	for k, o := range objs {
		var toks []int
		for p, ok := range owner {
			if ok == k {
				toks = append(toks, p)
			}
		}
		if len(toks) == 0 {
			for p := range owner {
				if !o.Box.Intersect(c.patchRect(p)).Empty() {
					toks = append(toks, p)
				}
			}
		}
		out[k] = make([]float32, d)
		for _, p := range toks {
			axpy(out[k], 1/float32(len(toks)), feats[p*d:(p+1)*d])
		}
	}
	return out
}

// LinearProbe is a softmax regression z = xW + b on frozen features.
type LinearProbe struct{ lin *Linear }

// FitLinearProbe fits a LinearProbe with classes outputs to (x, y) by
// AdamW (lr 1e-2, batches of 256, epochs passes, order from PCG(seed)),
// minimising the mean cross-entropy; W starts at zero.
func FitLinearProbe(x [][]float32, y []int, classes, epochs int, seed uint64) *LinearProbe {
	d := len(x[0])
	lp := &LinearProbe{lin: newLinear("probe", d, classes, true)}
	ps := lp.lin.params()
	opt := newAdamW(0.9, 0.999, 1e-8, 0)
	ce := CrossEntropy{V: classes}
	const bs = 256
	var xb, logits, w, loss, el2n []float32
	var yb []int32
	spe := (len(x) + bs - 1) / bs // steps per epoch
	steps := epochs * spe
	for s := range steps {
		k := s % spe
		if k == 0 {
			perm := seeds.Rand(seed, seeds.Epoch, seeds.I(s/spe)).Perm(len(x))
			x2, y2 := make([][]float32, len(x)), make([]int, len(y))
			for i, j := range perm {
				x2[i], y2[i] = x[j], y[j]
			}
			x, y = x2, y2
		}
		lo, hi := k*bs, min((k+1)*bs, len(x))
		n := hi - lo
		xb, yb = xb[:0], yb[:0]
		for i := lo; i < hi; i++ {
			xb = append(xb, x[i]...)
			yb = append(yb, int32(y[i]))
		}
		logits, w, loss, el2n = grow(logits, n*classes), grow(w, n), grow(loss, n), grow(el2n, n)
		for i := range w {
			w[i] = 1 / float32(n)
		}
		for _, p := range ps {
			zero(p.G)
		}
		lp.lin.Forward(logits, xb, n, nil)
		ce.Forward(logits, yb, w, loss, el2n)
		ce.Backward(logits)
		lp.lin.Backward(nil, logits, true, false)
		opt.Step(ps, cosineLR(1e-2, s, steps, 0))
	}
	return lp
}

// Predict returns the probe's top-1 class of each row of x.
func (lp *LinearProbe) Predict(x [][]float32) []int {
	V := lp.lin.Out
	out := make([]int, len(x))
	z := make([]float32, V)
	for i, r := range x {
		lp.lin.Forward(z, r, 1, nil)
		best := 0
		for c, v := range z {
			if v > z[best] {
				best = c
			}
		}
		out[i] = best
	}
	return out
}

// towerBatch is one step of tower pretraining: images (channel-major
// pixels), their token targets [head·P + token], the heads and buffers.
type towerBatch struct {
	px    [][]uint8
	y     [][]int32
	heads []*Linear
	ces   []CrossEntropy

	yh                          []int32
	logits, w, loss, el2n, dvln []float32
	dsel                        []float32
}

// towerStep returns L = Σ_h mean over the batch's tokens of head h's
// cross-entropy and, when backward, accumulates ∂L into the gradients of
// the heads and the tower.
func (m *Model) towerStep(tb *towerBatch, backward bool) float64 {
	d, P := m.Cfg.TowerWidth(), m.Cfg.visualTokens()
	nv := len(tb.px) * P
	m.towerForward(tb.px)
	tb.dvln, tb.dsel = grow(tb.dvln, nv*d), grow(tb.dsel, nv*d)
	zero(tb.dvln)
	tb.w, tb.loss, tb.el2n = grow(tb.w, nv), grow(tb.loss, nv), grow(tb.el2n, nv)
	for r := range tb.w {
		tb.w[r] = 1 / float32(nv)
	}
	var sum float64
	for h, head := range tb.heads {
		V := head.Out
		tb.yh = tb.yh[:0]
		for _, y := range tb.y {
			tb.yh = append(tb.yh, y[h*P:(h+1)*P]...)
		}
		tb.logits = grow(tb.logits, nv*V)
		head.Forward(tb.logits, m.act.vln[:nv*d], nv, nil)
		tb.ces[h].Forward(tb.logits, tb.yh, tb.w, tb.loss, tb.el2n)
		for _, l := range tb.loss {
			sum += float64(l) / float64(nv)
		}
		if backward {
			tb.ces[h].Backward(tb.logits)
			head.Backward(tb.dsel, tb.logits, true, false)
			axpy(tb.dvln, 1, tb.dsel)
		}
	}
	if backward {
		m.towerBackward(tb.dvln, nv)
	}
	return sum
}

// CopyTower sets m's vision tower (every vision.* parameter) to src's; the
// two models must have the same tower shape.
func (m *Model) CopyTower(src *Model) error {
	return m.copyFrom(src, "tower", func(name string) bool { return strings.HasPrefix(name, "vision.") })
}

// copyFrom sets every parameter of m whose name in selects to src's
// parameter of that name; part names the parameters in errors.
func (m *Model) copyFrom(src *Model, part string, in func(name string) bool) error {
	from := map[string]*Param{}
	for _, p := range src.params {
		from[p.Name] = p
	}
	for _, p := range m.params {
		if !in(p.Name) {
			continue
		}
		q, ok := from[p.Name]
		if !ok || len(q.W) != len(p.W) {
			return fmt.Errorf("model: the %s's %s is missing or of another shape in the source model", part, p.Name)
		}
		copy(p.W, q.W)
	}
	return nil
}
