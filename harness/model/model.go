package model

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/tive-dev/tive/harness/field"
	"github.com/tive-dev/tive/harness/seeds"
)

// Config sizes the model. A spec's model section is a Config (its yaml
// keys), checked by Validate.
type Config struct {
	ImageSize    int `yaml:"image_size" json:"image_size"`       // input images are ImageSize² RGB
	PatchSize    int `yaml:"patch_size" json:"patch_size"`       // (ImageSize/PatchSize)² visual tokens
	Width        int `yaml:"width" json:"width"`                 // model width D of the decoder (and of the encoder unless VisionWidth)
	Heads        int `yaml:"heads" json:"heads"`                 // attention heads, D/Heads wide
	Layers       int `yaml:"layers" json:"layers"`               // decoder blocks
	VisionLayers int `yaml:"vision_layers" json:"vision_layers"` // encoder blocks (bidirectional attention)
	MLPRatio     int `yaml:"mlp_ratio" json:"mlp_ratio"`         // MLP hidden width / D
	MaxLen       int `yaml:"max_len" json:"max_len"`             // longest token sequence; longer records are truncated
	// Stem turns an image into tokens: "" or "patch" is the linear patch
	// embedding (ViT), "conv" the convolutional stem (ConvStem; PatchSize a
	// power of two).
	Stem string `yaml:"stem" json:"stem,omitempty"`
	// RoPE gives the decoder rotary positions (RoPE, as LLaMA and Vicuna)
	// instead of learned absolute ones (embed.pos): attention then sees how
	// far apart two tokens are, wherever the visual tokens and a prompt's
	// preamble put them. The head width D/Heads must be even.
	RoPE bool `yaml:"rope" json:"rope,omitempty"`
	// VisionWidth is the vision tower's width (CLIP's, where LLaVA's
	// projector maps 1024 to the language model's 4096); 0 means Width.
	VisionWidth int `yaml:"vision_width" json:"vision_width,omitempty"`
	// ProjectorWidth is the hidden width of the projector's MLP (LLaVA-1.5's
	// is the language model's width); 0 means Width.
	ProjectorWidth int `yaml:"projector_width" json:"projector_width,omitempty"`
	// WordTokens puts each visual token into the decoder as the word
	// embedding nearest to the projector's output (snapWords), and keeps the
	// projector out of Train: AlignWords alone trains it.
	WordTokens bool `yaml:"word_tokens" json:"word_tokens,omitempty"`
	// Init is the decoder blocks' initialisation of q, k, v and fc: "" or
	// "gpt2" draws them from N(0, 0.02²) (GPT-2), "fanin" from N(0, 1/D)
	// (LeCun), which starts attention with scores of order one rather
	// than near-uniform weights.
	Init string `yaml:"init" json:"init,omitempty"`
	// Sink gives every decoder attention head a learned sink logit
	// (Attention.Sink, zero at the start): a key that every query can fall
	// back on, of value zero, so that a head can find nothing.
	Sink bool `yaml:"sink" json:"sink,omitempty"`
}

// TowerWidth is the width of the vision tower's tokens: VisionWidth, or
// Width when it is 0.
func (c Config) TowerWidth() int {
	if c.VisionWidth > 0 {
		return c.VisionWidth
	}
	return c.Width
}

// projectorWidth is ProjectorWidth, or Width when it is 0.
func (c Config) projectorWidth() int {
	if c.ProjectorWidth > 0 {
		return c.ProjectorWidth
	}
	return c.Width
}

// DefaultConfig is sized for a training run on a ~10K-record mixture in
// under a minute on 2 cores: D = 64, 4 heads, 2 decoder blocks, 1 encoder
// block, MLP width 2·D, 16 visual tokens of 64×64 images (patches 16×16).
func DefaultConfig() Config {
	return Config{ImageSize: 64, PatchSize: 16, Width: 64, Heads: 4, Layers: 2, VisionLayers: 1, MLPRatio: 2, MaxLen: 160}
}

func (c Config) visualTokens() int {
	g := c.ImageSize / c.PatchSize
	return g * g
}

// Validate returns every setting of c that New rejects, one field.Error
// each, named by its key in a spec (model.<key>): sizes must be positive
// (vision_layers, vision_width and projector_width non-negative), heads
// must divide width and vision_width, patch_size image_size, rope needs an
// even head width, the conv stem a patch_size that is a power of two, init
// is "", gpt2 or fanin, stem "", patch or conv, and max_len leaves room for
// text after the visual tokens.
func (c Config) Validate() error {
	var l field.List
	for _, v := range []struct {
		key string
		n   int
	}{{"image_size", c.ImageSize}, {"patch_size", c.PatchSize}, {"width", c.Width}, {"heads", c.Heads}, {"layers", c.Layers}, {"mlp_ratio", c.MLPRatio}, {"max_len", c.MaxLen}} {
		if v.n <= 0 {
			l.Add(v.key, "%d (want a positive number)", v.n)
		}
	}
	for _, v := range []struct {
		key string
		n   int
	}{{"vision_layers", c.VisionLayers}, {"projector_width", c.ProjectorWidth}} {
		if v.n < 0 {
			l.Add(v.key, "%d is negative", v.n)
		}
	}
	sized := c.ImageSize > 0 && c.PatchSize > 0 && c.Width > 0 && c.Heads > 0
	if c.VisionWidth < 0 || c.Heads > 0 && c.VisionWidth%c.Heads != 0 {
		l.Add("vision_width", "%d must be 0 (the width) or a positive multiple of heads %d", c.VisionWidth, c.Heads)
	}
	if sized && c.Width%c.Heads != 0 {
		l.Add("heads", "%d does not divide width %d", c.Heads, c.Width)
	} else if sized && c.RoPE && (c.Width/c.Heads)%2 != 0 {
		l.Add("rope", "needs an even head width, and width %d / heads %d is odd", c.Width, c.Heads)
	}
	if sized && c.ImageSize%c.PatchSize != 0 {
		l.Add("patch_size", "%d does not divide image_size %d", c.PatchSize, c.ImageSize)
	} else if sized && c.MaxLen > 0 && c.MaxLen <= c.visualTokens()+8 {
		l.Add("max_len", "%d leaves no room for text after %d visual tokens (want more than %d)", c.MaxLen, c.visualTokens(), c.visualTokens()+8)
	}
	switch c.Init {
	case "", "gpt2", "fanin":
	default:
		l.Add("init", "%q (want gpt2 or fanin)", c.Init)
	}
	switch c.Stem {
	case "", "patch":
	case "conv":
		if c.PatchSize > 0 && (c.PatchSize < 2 || c.PatchSize&(c.PatchSize-1) != 0) {
			l.Add("patch_size", "%d is not a power of two, which the conv stem needs (one stride-2 convolution per halving)", c.PatchSize)
		}
	default:
		l.Add("stem", "%q (want patch or conv)", c.Stem)
	}
	return l.Err()
}

// Model is a LLaVA-shaped vision-language model:
//
//	vision: patches(image) → Patch (or Stem(image)) → + VPos → VBlocks → VLN → Proj2(GELU(Proj1 ·)) [→ nearest word, WordTokens]
//	decoder: Embedding(tokens; visual tokens at the <image> slots) → Blocks → LNF → Head
//
// Head logits are computed only at the rows that need them (response tokens
// in training, the last token in decoding). A Model holds its activation
// buffers, so it is not safe for concurrent use.
type Model struct {
	Cfg   Config
	Vocab *Vocab
	LoRA  *LoRAConfig // adapters attached to the decoder, nil when none

	Patch        *Linear   // nil with the conv stem
	Stem         *ConvStem // nil with the patch embedding
	VPos         *Param
	VBlocks      []*Block
	VLN          *LayerNorm
	Proj1, Proj2 *Linear
	projAct      GELU
	Emb          Embedding
	Blocks       []*Block
	LNF          *LayerNorm
	Head         *Linear
	CE           CrossEntropy

	params []*Param
	act    activations
	tokens *TowerTokens // UseTowerTokens; nil computes every image's tower output
}

// activations are the buffers of one forward/backward pass, grown on demand
// and reused.
type activations struct {
	b                         *batch
	patches, vx, vln, p1, p1a []float32
	vtok                      []float32 // visualRows: the tower's rows of images TowerTokens lacks
	vis                       []float32
	vout                      [][]float32
	x0, lnf, sel, logits      []float32
	xs                        [][]float32
	loss, el2n, w             []float32
	dsel, dlnf, dA, dB        []float32
	dvis, dp1a, dp1, dvln     []float32
	dvA, dvB                  []float32
	wordDots, wordInv         []float32 // snapWords: ⟨o_p, E[w]⟩ [nv, V] and 1/‖E[w]‖ [V]
	visOff                    []int     // the encoder's sequences: k·P
}

// New builds a model with weights drawn from a PCG source seeded by seed:
// linear weights N(0, 0.02²) (residual output projections 0.02/√(2·Layers)),
// patch embedding N(0, 1/(3·P²)), embeddings N(0, 0.02²), layer norms g=1 b=0.
func New(cfg Config, vocab *Vocab, seed uint64) (*Model, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("model: %w", err)
	}
	d, vw := cfg.Width, cfg.TowerWidth()
	pd := 3 * cfg.PatchSize * cfg.PatchSize
	m := &Model{Cfg: cfg, Vocab: vocab}
	if cfg.Stem == "conv" {
		m.Stem = newConvStem(cfg)
	} else {
		m.Patch = newLinear("vision.patch", pd, vw, true)
	}
	m.VPos = newParam("vision.pos", cfg.visualTokens(), vw)
	for i := 0; i < cfg.VisionLayers; i++ {
		m.VBlocks = append(m.VBlocks, newBlock(fmt.Sprintf("vision.blocks.%d", i), vw, cfg.Heads, cfg.MLPRatio, false))
	}
	m.VLN = newLayerNorm("vision.ln", vw)
	m.Proj1 = newLinear("projector.0", vw, cfg.projectorWidth(), true)
	m.Proj2 = newLinear("projector.2", cfg.projectorWidth(), d, true)
	m.Emb = Embedding{Tok: newParam("embed.tok", vocab.Size(), d), D: d}
	var rope *RoPE
	if cfg.RoPE {
		rope = newRoPE(cfg.Heads, d, cfg.MaxLen)
	} else {
		m.Emb.Pos = newParam("embed.pos", cfg.MaxLen, d)
	}
	for i := 0; i < cfg.Layers; i++ {
		m.Blocks = append(m.Blocks, newBlock(fmt.Sprintf("blocks.%d", i), d, cfg.Heads, cfg.MLPRatio, true))
		m.Blocks[i].Rope = rope
		if cfg.Sink {
			m.Blocks[i].Attn.Sink = newParam(fmt.Sprintf("blocks.%d.attn.sink", i), cfg.Heads)
		}
	}
	m.LNF = newLayerNorm("ln_f", d)
	m.Head = newLinear("head", d, vocab.Size(), false)
	m.CE = CrossEntropy{V: vocab.Size()}

	rng := seeds.Rand(seed, seeds.Init)
	if m.Stem != nil {
		for _, c := range m.Stem.Convs {
			c.Lin.W.initNormal(rng, 1/math.Sqrt(float64(c.Lin.In)))
		}
	} else {
		m.Patch.W.initNormal(rng, 1/math.Sqrt(float64(pd)))
	}
	m.VPos.initNormal(rng, 0.02)
	resid := 0.02 / math.Sqrt(2*float64(max(cfg.Layers, cfg.VisionLayers)))
	for _, b := range m.VBlocks {
		b.init(rng, 0.02, resid)
	}
	m.Proj1.W.initNormal(rng, 0.02)
	m.Proj2.W.initNormal(rng, 0.02)
	m.Emb.Tok.initNormal(rng, 0.02)
	if m.Emb.Pos != nil {
		m.Emb.Pos.initNormal(rng, 0.02)
	}
	std := 0.02
	if cfg.Init == "fanin" {
		std = 1 / math.Sqrt(float64(d))
	}
	for _, b := range m.Blocks {
		b.init(rng, std, resid)
	}
	m.Head.W.initNormal(rng, 0.02)
	m.collect()
	return m, nil
}

func (m *Model) collect() {
	var ps []*Param
	if m.Stem != nil {
		ps = append(ps, m.Stem.params()...)
	} else {
		ps = append(ps, m.Patch.params()...)
	}
	ps = append(ps, m.VPos)
	for _, b := range m.VBlocks {
		ps = append(ps, b.params()...)
	}
	ps = append(ps, m.VLN.params()...)
	ps = append(ps, m.Proj1.params()...)
	ps = append(ps, m.Proj2.params()...)
	ps = append(ps, m.Emb.Tok)
	if m.Emb.Pos != nil {
		ps = append(ps, m.Emb.Pos)
	}
	for _, b := range m.Blocks {
		ps = append(ps, b.params()...)
	}
	ps = append(ps, m.LNF.params()...)
	ps = append(ps, m.Head.params()...)
	m.params = ps
}

// Params lists every parameter tensor, LoRA adapters included, in a fixed order.
func (m *Model) Params() []*Param { return m.params }

// NumParams is the number of scalars in Params.
func (m *Model) NumParams() int {
	n := 0
	for _, p := range m.params {
		n += len(p.W)
	}
	return n
}

// LoRAConfig configures low-rank adapters on the decoder's linear layers.
type LoRAConfig struct {
	Rank    int     `yaml:"rank" json:"rank"`
	Alpha   float64 `yaml:"alpha" json:"alpha"`     // scale = Alpha/Rank
	Dropout float64 `yaml:"dropout" json:"dropout"` // on the adapter input, training only
	MLP     bool    `yaml:"mlp" json:"mlp"`         // also adapt mlp.fc and mlp.proj (attention q,k,v,o always)
}

// DefaultLoRA is the adapters of a spec that sets none: rank 8, alpha 16,
// dropout 0.05, attention only.
func DefaultLoRA() LoRAConfig { return LoRAConfig{Rank: 8, Alpha: 16, Dropout: 0.05} }

// Validate returns every setting of c that AttachLoRA rejects, one
// field.Error each: rank must be positive and dropout in [0, 1).
func (c LoRAConfig) Validate() error {
	var l field.List
	if c.Rank <= 0 {
		l.Add("rank", "%d (want a positive rank)", c.Rank)
	}
	if !(c.Dropout >= 0 && c.Dropout < 1) {
		l.Add("dropout", "%g is outside [0, 1)", c.Dropout)
	}
	return l.Err()
}

// AttachLoRA adds adapters to the decoder's attention projections q, k, v,
// o (and MLP layers when c.MLP): A ~ U(±1/√In) from a PCG source seeded by
// seed (PEFT's kaiming-uniform), B = 0, so the model's function is unchanged.
func (m *Model) AttachLoRA(c LoRAConfig, seed uint64) error {
	if m.LoRA != nil {
		return errors.New("model: LoRA already attached")
	}
	if err := c.Validate(); err != nil {
		return fmt.Errorf("model: LoRA %w", err)
	}
	rng := seeds.Rand(seed, seeds.LoRA)
	for _, l := range m.loraTargets(c.MLP) {
		a := &LoRA{R: c.Rank, Scale: float32(c.Alpha / float64(c.Rank)), Dropout: float32(c.Dropout),
			A: newParam(l.Name+".lora_A", l.In, c.Rank), B: newParam(l.Name+".lora_B", c.Rank, l.Out)}
		bound := 1 / math.Sqrt(float64(l.In))
		for i := range a.A.W {
			a.A.W[i] = float32((2*rng.Float64() - 1) * bound)
		}
		l.LoRA = a
	}
	cc := c
	m.LoRA = &cc
	m.collect()
	return nil
}

func (m *Model) loraTargets(mlp bool) []*Linear {
	var ls []*Linear
	for _, b := range m.Blocks {
		ls = append(ls, b.Q, b.K, b.V, b.O)
		if mlp {
			ls = append(ls, b.FC, b.Proj)
		}
	}
	return ls
}

// batch is a set of encoded examples packed into one token matrix: example
// e holds rows off[e]..off[e+1]; visual slots carry −(v+1), v the row of
// the visual-token matrix; rows lists the packed positions whose logits are
// needed, with targets y and relative loss weights rw (1 for a response
// token, TrainConfig.PromptWeight for a prompt token under AllTokens).
type batch struct {
	off    []int
	tokens []int32
	pos    []int32
	nImg   int
	images [][]uint8
	toks   [][]float32 // image k's tower output from TowerTokens, or nil
	rows   []int
	rowEx  []int
	y      []int32
	rw     []float32
	nResp  []int // response tokens per example
}

func (m *Model) newBatch(exs []encoded, cache *imageCache, withTargets bool) (*batch, error) {
	P := m.Cfg.visualTokens()
	b := &batch{off: []int{0}, nResp: make([]int, len(exs))}
	for e, ex := range exs {
		base := len(b.tokens)
		slot := 0
		img := -1
		for t, tok := range ex.tokens {
			if tok == ImageTok {
				if img < 0 {
					px, vt, err := cache.get(ex.image)
					if err != nil {
						return nil, err
					}
					img = b.nImg
					b.nImg++
					b.images = append(b.images, px)
					b.toks = append(b.toks, vt)
				}
				tok = int32(-(img*P + slot) - 1)
				slot++
			}
			b.tokens = append(b.tokens, tok)
			b.pos = append(b.pos, int32(t))
			if withTargets && ex.targets[t] >= 0 {
				b.rows = append(b.rows, base+t)
				b.rowEx = append(b.rowEx, e)
				b.y = append(b.y, ex.targets[t])
				w := float32(1)
				if ex.weights != nil {
					w = ex.weights[t]
				}
				b.rw = append(b.rw, w)
				b.nResp[e]++
			}
		}
		if !withTargets {
			b.rows = append(b.rows, base+len(ex.tokens)-1)
			b.rowEx = append(b.rowEx, e)
		}
		b.off = append(b.off, len(b.tokens))
	}
	return b, nil
}

// pixelValue maps a pixel byte v to the model's input v/127.5 − 1 in
// [−1, 1] (a table: a division per pixel cost half a millisecond a step).
var pixelValue = func() (t [256]float32) {
	for v := range t {
		t[v] = float32(v)/127.5 - 1
	}
	return t
}()

// towerForward runs the vision tower (patch embedding or stem, positions,
// encoder blocks, VLN) over images (channel-major pixels; image k is the
// encoder's sequence of rows k·P..(k+1)·P) and leaves the visual features
// in m.act.vln [len(images)·P, TowerWidth].
func (m *Model) towerForward(images [][]uint8) {
	a := &m.act
	a.visOff = a.visOff[:0]
	for k := range len(images) + 1 {
		a.visOff = append(a.visOff, k*m.Cfg.visualTokens())
	}
	d, P, S, ps := m.Cfg.TowerWidth(), m.Cfg.visualTokens(), m.Cfg.ImageSize, m.Cfg.PatchSize
	pd := 3 * ps * ps
	nImg := len(images)
	nv := nImg * P
	a.vx = grow(a.vx, nv*d)
	if m.Stem != nil {
		// HWC images for the stem: pixel (y, x) channel c at (y·S+x)·3+c.
		a.patches = grow(a.patches, nImg*S*S*3)
		for k, px := range images {
			dst := a.patches[k*S*S*3 : (k+1)*S*S*3]
			for c := 0; c < 3; c++ {
				for i, v := range px[c*S*S : (c+1)*S*S] {
					dst[i*3+c] = pixelValue[v]
				}
			}
		}
		m.Stem.Forward(a.vx, a.patches, nImg)
	} else {
		a.patches = grow(a.patches, nv*pd)
		img := make([]float32, 3*S*S)
		for k, px := range images {
			for i, v := range px {
				img[i] = pixelValue[v]
			}
			patchify(a.patches[k*P*pd:(k+1)*P*pd], img, S, ps)
		}
		m.Patch.Forward(a.vx, a.patches, nv, nil)
	}
	for r := 0; r < nv; r++ {
		axpy(a.vx[r*d:(r+1)*d], 1, m.VPos.W[(r%P)*d:(r%P+1)*d])
	}
	x := a.vx
	for len(a.vout) < len(m.VBlocks) {
		a.vout = append(a.vout, nil)
	}
	for i, blk := range m.VBlocks {
		a.vout[i] = grow(a.vout[i], nv*d)
		blk.Forward(a.vout[i], x, a.visOff, nil)
		x = a.vout[i]
	}
	a.vln = grow(a.vln, nv*d)
	m.VLN.Forward(a.vln, x, nv)
}

// visualRows leaves the tower's output for b's images in act.vln [nv,
// TowerWidth]: the rows TowerTokens holds, the tower run (in one batch)
// over the others.
func (m *Model) visualRows(b *batch) {
	var todo [][]uint8
	for k, t := range b.toks {
		if t == nil {
			todo = append(todo, b.images[k])
		}
	}
	if len(todo) == len(b.images) {
		m.towerForward(b.images)
		return
	}
	a := &m.act
	n := m.Cfg.visualTokens() * m.Cfg.TowerWidth()
	if len(todo) > 0 {
		m.towerForward(todo)
	}
	a.vtok = grow(a.vtok, len(todo)*n)
	copy(a.vtok, a.vln[:len(todo)*n])
	a.vln = grow(a.vln, len(b.images)*n)
	j := 0
	for k, t := range b.toks {
		if t == nil {
			t = a.vtok[j*n : (j+1)*n]
			j++
		}
		copy(a.vln[k*n:(k+1)*n], t)
	}
}

// project runs the projector on the tower's nv output rows (act.vln) into
// act.vis [nv, D].
func (m *Model) project(nv int) {
	a, h := &m.act, m.Cfg.projectorWidth()
	a.p1, a.p1a, a.vis = grow(a.p1, nv*h), grow(a.p1a, nv*h), grow(a.vis, nv*m.Cfg.Width)
	m.Proj1.Forward(a.p1, a.vln, nv, nil)
	m.projAct.Forward(a.p1a, a.p1)
	m.Proj2.Forward(a.vis, a.p1a, nv, nil)
}

// forward runs the model on b and leaves logits at b.rows in m.act.logits.
// rng non-nil is training mode (LoRA dropout).
func (m *Model) forward(b *batch, rng *rand.Rand) {
	a := &m.act
	a.b = b
	d, P := m.Cfg.Width, m.Cfg.visualTokens()
	nv := b.nImg * P
	if nv > 0 {
		m.visualRows(b)
		m.project(nv)
		if m.Cfg.WordTokens {
			m.snapWords(a.vis, nv)
		}
	}
	n := len(b.tokens)
	a.x0 = grow(a.x0, n*d)
	m.Emb.Forward(a.x0, b.tokens, b.pos, a.vis)
	x := a.x0
	for len(a.xs) < len(m.Blocks) {
		a.xs = append(a.xs, nil)
	}
	for i, blk := range m.Blocks {
		a.xs[i] = grow(a.xs[i], n*d)
		blk.Forward(a.xs[i], x, b.off, rng)
		x = a.xs[i]
	}
	a.lnf = grow(a.lnf, n*d)
	m.LNF.Forward(a.lnf, x, n)
	mr := len(b.rows)
	a.sel = grow(a.sel, mr*d)
	for i, r := range b.rows {
		copy(a.sel[i*d:(i+1)*d], a.lnf[r*d:(r+1)*d])
	}
	a.logits = grow(a.logits, mr*m.Vocab.Size())
	m.Head.Forward(a.logits, a.sel, mr, rng)
}

// loss turns the logits into probabilities and per-row losses; row r is
// weighted by w(r) in the objective that backward differentiates.
func (m *Model) loss(w func(r int) float32) {
	a := &m.act
	b := a.b
	mr := len(b.rows)
	a.loss = grow(a.loss, mr)
	a.el2n = grow(a.el2n, mr)
	a.w = grow(a.w, mr)
	for i := range b.rows {
		a.w[i] = w(i)
	}
	m.CE.Forward(a.logits, b.y, a.w, a.loss, a.el2n)
}

// backward differentiates Σ_r w_r ℓ_r. grads accumulates parameter
// gradients; stop is the lowest decoder block to run backward through (its
// input delta and everything below it are skipped when stop > 0 or
// !grads). The vision path runs only when grads.
func (m *Model) backward(grads bool, stop int) {
	a := &m.act
	b := a.b
	d, P := m.Cfg.Width, m.Cfg.visualTokens()
	n, mr := len(b.tokens), len(b.rows)
	m.CE.Backward(a.logits)
	a.dsel = grow(a.dsel, mr*d)
	m.Head.Backward(a.dsel, a.logits, grads, false)
	a.dlnf = grow(a.dlnf, n*d)
	zero(a.dlnf)
	for i, r := range b.rows {
		axpy(a.dlnf[r*d:(r+1)*d], 1, a.dsel[i*d:(i+1)*d])
	}
	a.dA = grow(a.dA, n*d)
	a.dB = grow(a.dB, n*d)
	zero(a.dA)
	m.LNF.Backward(a.dA, a.dlnf, grads)
	dy, dx := a.dA, a.dB
	full := grads && stop == 0
	for i := len(m.Blocks) - 1; i >= stop; i-- {
		var out []float32
		if i > stop || full {
			out = dx
		}
		m.Blocks[i].Backward(out, dy, grads)
		dy, dx = dx, dy
	}
	if !full {
		return
	}
	nv := b.nImg * P
	a.dvis = grow(a.dvis, nv*d)
	m.Emb.Backward(dy, b.tokens, b.pos, a.dvis, grads)
	if nv == 0 || m.Proj1.W.Frozen && m.Proj2.W.Frozen && m.VLN.G.Frozen {
		return
	}
	a.dp1a = grow(a.dp1a, nv*m.Cfg.projectorWidth())
	a.dp1 = grow(a.dp1, nv*m.Cfg.projectorWidth())
	a.dvln = grow(a.dvln, nv*m.Cfg.TowerWidth())
	m.Proj2.Backward(a.dp1a, a.dvis, true, false)
	m.projAct.Backward(a.dp1, a.dp1a)
	m.Proj1.Backward(a.dvln, a.dp1, true, false)
	if m.VLN.G.Frozen && m.VPos.Frozen {
		return
	}
	m.towerBackward(a.dvln, nv)
}

// towerBackward runs the vision tower backward from dvln = ∂L/∂(its output)
// [nv, D], accumulating its parameter gradients.
func (m *Model) towerBackward(dvln []float32, nv int) {
	a := &m.act
	d, P := m.Cfg.TowerWidth(), m.Cfg.visualTokens()
	a.dvA = grow(a.dvA, nv*d)
	a.dvB = grow(a.dvB, nv*d)
	zero(a.dvA)
	m.VLN.Backward(a.dvA, dvln, true)
	vy, vx := a.dvA, a.dvB
	for i := len(m.VBlocks) - 1; i >= 0; i-- {
		m.VBlocks[i].Backward(vx, vy, true)
		vy, vx = vx, vy
	}
	if !m.VPos.Frozen {
		for r := 0; r < nv; r++ {
			axpy(m.VPos.G[(r%P)*d:(r%P+1)*d], 1, vy[r*d:(r+1)*d])
		}
	}
	if m.Stem != nil {
		m.Stem.Backward(vy)
		return
	}
	m.Patch.Backward(nil, vy, true, false)
}
