package model

import (
	"fmt"
	"image"
	"image/color"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/tive-dev/tive/harness/data"
	"github.com/tive-dev/tive/harness/internal/kernels"
	"github.com/tive-dev/tive/harness/internal/kernels/kernelstest"
)

// Finite-difference checks run in float32 with central differences, step
// h = 1e-2, and pass when |numeric − analytic| ≤ 2e-3 + 2e-2·|analytic|.
const (
	fdStep = 1e-2
	fdAbs  = 2e-3
	fdRel  = 2e-2
)

func randVec(rng *rand.Rand, n int, std float64) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(rng.NormFloat64() * std)
	}
	return v
}

func dot64(a, b []float32) float64 {
	var s float64
	for i := range a {
		s += float64(a[i]) * float64(b[i])
	}
	return s
}

// checkFD compares analytic gradient g of f with respect to x at up to 40
// coordinates.
func checkFD(t *testing.T, name string, x, g []float32, f func() float64) {
	t.Helper()
	rng := rand.New(rand.NewPCG(7, uint64(len(x))))
	idx := rng.Perm(len(x))
	if len(idx) > 40 {
		idx = idx[:40]
	}
	bad := 0
	for _, i := range idx {
		old := x[i]
		x[i] = old + fdStep
		fp := f()
		x[i] = old - fdStep
		fm := f()
		x[i] = old
		num := (fp - fm) / (2 * fdStep)
		if math.Abs(num-float64(g[i])) > fdAbs+fdRel*math.Abs(float64(g[i])) {
			if bad < 5 {
				t.Errorf("%s[%d]: numeric %.6g analytic %.6g", name, i, num, g[i])
			}
			bad++
		}
	}
}

func TestLinearGrad(t *testing.T) { kernelstest.EachBackend(t, checkLinearGrad) }

func checkLinearGrad(t *testing.T) {
	for _, lora := range []bool{false, true} {
		t.Run(fmt.Sprintf("lora=%v", lora), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(1, 2))
			n, in, out := 7, 5, 6
			l := newLinear("l", in, out, true)
			l.W.initNormal(rng, 0.5)
			l.B.initNormal(rng, 0.5)
			if lora {
				l.LoRA = &LoRA{R: 3, Scale: 2, A: newParam("a", in, 3), B: newParam("b", 3, out)}
				l.LoRA.A.initNormal(rng, 0.5)
				l.LoRA.B.initNormal(rng, 0.5)
			}
			x := randVec(rng, n*in, 1)
			c := randVec(rng, n*out, 1)
			y := make([]float32, n*out)
			f := func() float64 { l.Forward(y, x, n, nil); return dot64(y, c) }
			f()
			dx := make([]float32, n*in)
			l.Backward(dx, c, true, false)
			checkFD(t, "x", x, dx, f)
			for _, p := range l.params() {
				checkFD(t, p.Name, p.W, p.G, f)
			}
		})
	}
}

// TestConvGrad checks a strided, padded convolution (input and weights) and
// the whole stem (GELUs between convolutions) against finite differences.
func TestConvGrad(t *testing.T) { kernelstest.EachBackend(t, checkConvGrad) }

func checkConvGrad(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 9))
	n, side, cin, cout := 2, 7, 3, 4
	c := newConv("c", side, cin, cout, 3, 2, 1)
	c.Lin.W.initNormal(rng, 0.5)
	c.Lin.B.initNormal(rng, 0.5)
	o := c.Out()
	if o != 4 {
		t.Fatalf("output side %d, want 4", o)
	}
	x := randVec(rng, n*side*side*cin, 1)
	w := randVec(rng, n*o*o*cout, 1)
	y := make([]float32, n*o*o*cout)
	f := func() float64 { c.Forward(y, x, n); return dot64(y, w) }
	f()
	dx := make([]float32, len(x))
	c.Backward(dx, w, true)
	checkFD(t, "x", x, dx, f)
	checkFD(t, "w", c.Lin.W.W, c.Lin.W.G, f)
	checkFD(t, "b", c.Lin.B.W, c.Lin.B.G, f)

	st := newConvStem(Config{ImageSize: 16, PatchSize: 4, Width: 8})
	if len(st.Convs) != 2 || st.Convs[1].Out() != 4 || st.Convs[1].Cout != 8 {
		t.Fatalf("stem of %d convolutions, last %d×%d×%d", len(st.Convs), st.Convs[1].Out(), st.Convs[1].Out(), st.Convs[1].Cout)
	}
	for _, p := range st.params() {
		p.initNormal(rng, 0.3)
	}
	img := randVec(rng, n*16*16*3, 1)
	tok := make([]float32, n*16*8)
	wt := randVec(rng, len(tok), 1)
	g := func() float64 { st.Forward(tok, img, n); return dot64(tok, wt) }
	g()
	st.Backward(wt)
	for _, p := range st.params() {
		checkFD(t, p.Name, p.W, p.G, g)
	}
}

func TestLayerNormGrad(t *testing.T) { kernelstest.EachBackend(t, checkLayerNormGrad) }

func checkLayerNormGrad(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 3))
	n, d := 5, 8
	ln := newLayerNorm("ln", d)
	ln.G.initNormal(rng, 1)
	ln.B.initNormal(rng, 1)
	x := randVec(rng, n*d, 1)
	c := randVec(rng, n*d, 1)
	y := make([]float32, n*d)
	f := func() float64 { ln.Forward(y, x, n); return dot64(y, c) }
	f()
	dx := make([]float32, n*d)
	ln.Backward(dx, c, true)
	checkFD(t, "x", x, dx, f)
	checkFD(t, "g", ln.G.W, ln.G.G, f)
	checkFD(t, "b", ln.B.W, ln.B.G, f)
}

func TestGELUGrad(t *testing.T) { kernelstest.EachBackend(t, checkGELUGrad) }

func checkGELUGrad(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 4))
	var a GELU
	x := randVec(rng, 50, 2)
	c := randVec(rng, 50, 1)
	y := make([]float32, 50)
	f := func() float64 { a.Forward(y, x); return dot64(y, c) }
	f()
	dx := make([]float32, 50)
	a.Backward(dx, c)
	checkFD(t, "x", x, dx, f)
}

func TestAttentionGrad(t *testing.T) { kernelstest.EachBackend(t, checkAttentionGrad) }

func checkAttentionGrad(t *testing.T) {
	for _, v := range []string{"causal", "bidirectional", "causal+sink"} {
		t.Run(v, func(t *testing.T) {
			causal := strings.HasPrefix(v, "causal")
			rng := rand.New(rand.NewPCG(1, 5))
			d := 8
			off := []int{0, 4, 9}
			n := off[2]
			at := Attention{H: 2, D: d, Causal: causal}
			if strings.HasSuffix(v, "+sink") {
				at.Sink = newParam("sink", 2)
				at.Sink.W[0], at.Sink.W[1] = 0.7, -0.4
			}
			q, k, v := randVec(rng, n*d, 1), randVec(rng, n*d, 1), randVec(rng, n*d, 1)
			c := randVec(rng, n*d, 1)
			o := make([]float32, n*d)
			f := func() float64 { at.Forward(o, q, k, v, off); return dot64(o, c) }
			f()
			dq, dk, dv := make([]float32, n*d), make([]float32, n*d), make([]float32, n*d)
			at.Backward(dq, dk, dv, c, true)
			checkFD(t, "q", q, dq, f)
			checkFD(t, "k", k, dk, f)
			checkFD(t, "v", v, dv, f)
			if at.Sink != nil {
				checkFD(t, "sink", at.Sink.W, at.Sink.G, f)
			}
		})
	}
}

func TestBlockGrad(t *testing.T) { kernelstest.EachBackend(t, checkBlockGrad) }

func checkBlockGrad(t *testing.T) {
	for _, rope := range []bool{false, true} {
		t.Run(fmt.Sprintf("rope=%v", rope), func(t *testing.T) { blockGrad(t, rope) })
	}
}

func blockGrad(t *testing.T, rope bool) {
	rng := rand.New(rand.NewPCG(1, 6))
	d := 8
	b := newBlock("b", d, 2, 2, true)
	if rope {
		b.Rope = newRoPE(2, d, 8)
	}
	b.init(rng, 0.3, 0.3)
	for _, l := range []*Linear{b.Q, b.K, b.V, b.O, b.FC, b.Proj} {
		l.B.initNormal(rng, 0.1)
	}
	off := []int{0, 3, 7}
	n := off[2]
	x := randVec(rng, n*d, 1)
	c := randVec(rng, n*d, 1)
	y := make([]float32, n*d)
	f := func() float64 { b.Forward(y, x, off, nil); return dot64(y, c) }
	f()
	dx := make([]float32, n*d)
	b.Backward(dx, c, true)
	checkFD(t, "x", x, dx, f)
	for _, p := range b.params() {
		checkFD(t, p.Name, p.W, p.G, f)
	}
}

func TestEmbeddingGrad(t *testing.T) { kernelstest.EachBackend(t, checkEmbeddingGrad) }

func checkEmbeddingGrad(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 8))
	d := 4
	e := Embedding{Tok: newParam("tok", 5, d), Pos: newParam("pos", 6, d), D: d}
	e.Tok.initNormal(rng, 1)
	e.Pos.initNormal(rng, 1)
	tokens := []int32{2, -1, -2, 2, 4}
	pos := []int32{0, 1, 2, 3, 0}
	vis := randVec(rng, 2*d, 1)
	c := randVec(rng, len(tokens)*d, 1)
	x := make([]float32, len(tokens)*d)
	f := func() float64 { e.Forward(x, tokens, pos, vis); return dot64(x, c) }
	f()
	dvis := make([]float32, 2*d)
	e.Backward(c, tokens, pos, dvis, true)
	checkFD(t, "tok", e.Tok.W, e.Tok.G, f)
	checkFD(t, "pos", e.Pos.W, e.Pos.G, f)
	checkFD(t, "vis", vis, dvis, f)
}

func TestCrossEntropyGrad(t *testing.T) { kernelstest.EachBackend(t, checkCrossEntropyGrad) }

func checkCrossEntropyGrad(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 9))
	V, m := 7, 4
	ce := CrossEntropy{V: V}
	z := randVec(rng, m*V, 2)
	y := []int32{1, 6, 0, 3}
	w := []float32{0.5, 0.25, 1, 2}
	buf := make([]float32, m*V)
	loss, el2n := make([]float32, m), make([]float32, m)
	f := func() float64 {
		copy(buf, z)
		ce.Forward(buf, y, w, loss, el2n)
		var s float64
		for r := range loss {
			s += float64(w[r]) * float64(loss[r])
		}
		return s
	}
	f()
	ce.Backward(buf)
	checkFD(t, "z", z, append([]float32(nil), buf...), f)
	// EL2N is ‖p − e_y‖₂ of the probabilities.
	copy(buf, z)
	ce.Forward(buf, y, w, loss, el2n)
	for r := 0; r < m; r++ {
		var s float64
		for v := 0; v < V; v++ {
			p := float64(buf[r*V+v])
			if int32(v) == y[r] {
				p--
			}
			s += p * p
		}
		if math.Abs(math.Sqrt(s)-float64(el2n[r])) > 1e-5 {
			t.Errorf("el2n[%d] = %g, want %g", r, el2n[r], math.Sqrt(s))
		}
	}
}

// tinyWorld is a synthetic image-question task: an image is one colour
// quadrant on black; questions ask for the colour or the quadrant.
func tinyWorld(n int, seed uint64) ([]data.Record, MapImages) {
	rng := rand.New(rand.NewPCG(seed, 11))
	colors := []struct {
		name string
		c    color.RGBA
	}{{"red", color.RGBA{255, 0, 0, 255}}, {"green", color.RGBA{0, 255, 0, 255}},
		{"blue", color.RGBA{0, 0, 255, 255}}, {"yellow", color.RGBA{255, 255, 0, 255}}}
	quads := []string{"top left", "top right", "bottom left", "bottom right"}
	imgs := MapImages{}
	var recs []data.Record
	for i := 0; i < n; i++ {
		ci, qi := rng.IntN(4), rng.IntN(4)
		img := image.NewRGBA(image.Rect(0, 0, 16, 16))
		for y := 0; y < 16; y++ {
			for x := 0; x < 16; x++ {
				img.Set(x, y, color.RGBA{0, 0, 0, 255})
				if (x >= 8) == (qi%2 == 1) && (y >= 8) == (qi >= 2) {
					img.Set(x, y, colors[ci].c)
				}
			}
		}
		path := fmt.Sprintf("%d.png", i)
		imgs[path] = img
		r := data.Record{Index: i, ID: fmt.Sprint(i), Image: path}
		if i%2 == 0 {
			r.Conversations = []data.Turn{{From: "human", Value: "<image>\nWhat color is the square?"}, {From: "gpt", Value: colors[ci].name}}
		} else {
			r.Conversations = []data.Turn{{From: "human", Value: "<image>\nWhere is the square?"}, {From: "gpt", Value: quads[qi]},
				{From: "human", Value: "And its color?"}, {From: "gpt", Value: "It is " + colors[ci].name + "."}}
		}
		if i%7 == 3 {
			r.Image = ""
			r.Conversations = []data.Turn{{From: "human", Value: "Say hello."}, {From: "gpt", Value: "hello"}}
		}
		recs = append(recs, r)
	}
	return recs, imgs
}

func tinyConfig() Config {
	return Config{ImageSize: 16, PatchSize: 8, Width: 16, Heads: 2, Layers: 2, VisionLayers: 1, MLPRatio: 2, MaxLen: 48}
}

// TestModelGrad checks the whole model end to end, LoRA attached with
// non-zero B, on records with and without images: L = token-mean response
// cross-entropy.
func TestModelGrad(t *testing.T) { kernelstest.EachBackend(t, checkModelGrad) }

func checkModelGrad(t *testing.T) {
	for _, v := range []string{"patch", "conv", "patch+rope", "conv+wide", "patch+sink"} {
		t.Run(v, func(t *testing.T) {
			cfg := tinyConfig()
			cfg.Stem, _, _ = strings.Cut(v, "+")
			cfg.RoPE = strings.HasSuffix(v, "+rope")
			cfg.Sink = strings.HasSuffix(v, "+sink")
			if strings.HasSuffix(v, "+wide") {
				cfg.VisionWidth = 24 // a tower wider than the decoder
			}
			modelGrad(t, cfg)
		})
	}
}

func modelGrad(t *testing.T, cfg Config) {
	recs, imgs := tinyWorld(4, 1)
	m, err := New(cfg, BuildVocab(recs, 1), 3)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.AttachLoRA(LoRAConfig{Rank: 2, Alpha: 4, MLP: true}, 4); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(5, 5))
	for _, p := range m.Params() {
		p.initNormal(rng, 0.2)
	}
	exs := make([]encoded, len(recs))
	for i := range recs {
		if exs[i], err = m.encode(&recs[i]); err != nil {
			t.Fatal(err)
		}
	}
	b, err := m.newBatch(exs, newImageCache(imgs, 16), true)
	if err != nil {
		t.Fatal(err)
	}
	f := func() float64 {
		m.forward(b, nil)
		m.loss(func(int) float32 { return 1 / float32(len(b.rows)) })
		var s float64
		for r := range b.rows {
			s += float64(m.act.w[r]) * float64(m.act.loss[r])
		}
		return s
	}
	f()
	for _, p := range m.Params() {
		zero(p.G)
	}
	m.backward(true, 0)
	grads := map[string][]float32{}
	for _, p := range m.Params() {
		grads[p.Name] = append([]float32(nil), p.G...)
	}
	for _, p := range m.Params() {
		checkFD(t, p.Name, p.W, grads[p.Name], f)
	}
}

// TestGemmTNChunked: the chunked weight-gradient product equals a plain
// Sgemm (|Δ| ≤ 1e-4·(1+|c|)), for row counts around the chunk size.
func TestGemmTNChunked(t *testing.T) { kernelstest.EachBackend(t, checkGemmTNChunked) }

func checkGemmTNChunked(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	for _, n := range []int{1, gradChunk, gradChunk + 1, 3*gradChunk + 7} {
		m, k := 5, 7
		a, b := randVec(rng, n*m, 1), randVec(rng, n*k, 1)
		c0 := randVec(rng, m*k, 1)
		want := append([]float32(nil), c0...)
		kernels.Sgemm(true, false, m, k, n, 0.5, a, m, b, k, 1, want, k)
		var scratch []float32
		gemmTN(m, k, n, 0.5, a, b, c0, &scratch)
		for i := range want {
			if math.Abs(float64(want[i]-c0[i])) > 1e-4*(1+math.Abs(float64(want[i]))) {
				t.Fatalf("n=%d: c[%d] = %g, want %g", n, i, c0[i], want[i])
			}
		}
	}
}

// TestRoPE: the rotation keeps each row's norm, its inverse undoes it, and
// rotated q·k depends on the offset only: q at p+s against k at p equals q
// at s against k at 0.
func TestRoPE(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	r := newRoPE(2, 8, 32)
	q, k := randVec(rng, 8, 1), randVec(rng, 8, 1)
	rot := func(x []float32, p int) []float32 {
		y := append([]float32(nil), x...)
		r.rotate(y, p, false)
		return y
	}
	for _, p := range []int{0, 1, 7, 20} {
		y := rot(q, p)
		if math.Abs(dot64(y, y)-dot64(q, q)) > 1e-4 {
			t.Errorf("p=%d: |Rq|² %g, |q|² %g", p, dot64(y, y), dot64(q, q))
		}
		r.rotate(y, p, true)
		for i := range y {
			if math.Abs(float64(y[i]-q[i])) > 1e-5 {
				t.Fatalf("p=%d: inverse gives %v, want %v", p, y, q)
			}
		}
		for _, s := range []int{0, 3, 9} {
			if a, b := dot64(rot(q, p+s), rot(k, p)), dot64(rot(q, s), rot(k, 0)); math.Abs(a-b) > 1e-4 {
				t.Errorf("offset %d at %d: %g, at 0: %g", s, p, a, b)
			}
		}
	}
}

// TestTowerGrad checks tower pretraining's loss (two heads over every
// visual token) against finite differences, for the tower's and the heads'
// parameters, with the patch embedding and the conv stem.
func TestTowerGrad(t *testing.T) { kernelstest.EachBackend(t, checkTowerGrad) }

func checkTowerGrad(t *testing.T) {
	for _, stem := range []string{"patch", "conv"} {
		t.Run(stem, func(t *testing.T) {
			cfg := tinyConfig()
			cfg.Stem, cfg.VisionWidth = stem, 24
			m, err := New(cfg, NewVocab(nil), 3)
			if err != nil {
				t.Fatal(err)
			}
			rng := rand.New(rand.NewPCG(5, 6))
			P := cfg.visualTokens()
			tb := &towerBatch{}
			for h, c := range []int{5, 3} {
				l := newLinear(fmt.Sprintf("head%d", h), cfg.TowerWidth(), c+1, true)
				l.W.initNormal(rng, 0.5)
				l.B.initNormal(rng, 0.1)
				tb.heads = append(tb.heads, l)
				tb.ces = append(tb.ces, CrossEntropy{V: c + 1})
			}
			for range 2 {
				px := make([]uint8, 3*cfg.ImageSize*cfg.ImageSize)
				for i := range px {
					px[i] = uint8(rng.IntN(256))
				}
				y := make([]int32, 2*P)
				for i := range y {
					y[i] = int32(rng.IntN(4))
				}
				tb.px, tb.y = append(tb.px, px), append(tb.y, y)
			}
			var ps []*Param
			for _, p := range m.params {
				if strings.HasPrefix(p.Name, "vision.") {
					p.initNormal(rng, 0.3)
					ps = append(ps, p)
				}
			}
			for _, h := range tb.heads {
				ps = append(ps, h.params()...)
			}
			f := func() float64 { return m.towerStep(tb, false) }
			for _, p := range ps {
				zero(p.G)
			}
			m.towerStep(tb, true)
			grads := map[string][]float32{}
			for _, p := range ps {
				grads[p.Name] = append([]float32(nil), p.G...)
			}
			for _, p := range ps {
				checkFD(t, p.Name, p.W, grads[p.Name], f)
			}
		})
	}
}
