package model

import (
	"context"
	"image"
	"image/color"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/tive-dev/tive/harness/data"
	"github.com/tive-dev/tive/harness/internal/kernels/kernelstest"
)

// wordOf is the id of the token embedding equal to row, or -1.
func wordOf(m *Model, row []float32) int {
	d := m.Cfg.Width
	for w := range m.Vocab.Size() {
		if slices.Equal(m.Emb.Tok.W[w*d:(w+1)*d], row) {
			return w
		}
	}
	return -1
}

// TestSnapWordsPicksTheNearestWord: a row that is a scaled, slightly
// perturbed word embedding becomes exactly that embedding; the special
// tokens are never chosen.
func TestSnapWordsPicksTheNearestWord(t *testing.T) {
	cfg := tinyConfig()
	cfg.WordTokens = true
	m, err := New(cfg, NewVocab([]string{"red", "green", "blue", "yellow"}), 1)
	if err != nil {
		t.Fatal(err)
	}
	d := cfg.Width
	r := rand.New(rand.NewPCG(1, 2))
	want := []int{numSpecial + 2, numSpecial, numSpecial + 3, int(ImageTok)}
	vis := make([]float32, len(want)*d)
	for i, w := range want {
		for c := range d {
			vis[i*d+c] = 3*m.Emb.Tok.W[w*d+c] + 0.001*float32(r.NormFloat64())
		}
	}
	m.snapWords(vis, len(want))
	for i, w := range want[:3] {
		if got := wordOf(m, vis[i*d:(i+1)*d]); got != w {
			t.Errorf("row %d: snapped to word %d, want %d", i, got, w)
		}
	}
	if got := wordOf(m, vis[3*d:]); got < numSpecial {
		t.Errorf("a row equal to <image>'s embedding snapped to special token %d", got)
	}
}

// TestWordTokensAreReadAsTheirWords: with WordTokens, the decoder's output
// on an image prompt equals its output on the same prompt with the
// snapped words written in place of <image>.
func TestWordTokensAreReadAsTheirWords(t *testing.T) {
	recs, imgs := tinyWorld(40, 3)
	cfg := tinyConfig()
	cfg.WordTokens = true
	cfg.RoPE = true
	m, err := New(cfg, BuildVocab(recs, 1), 2)
	if err != nil {
		t.Fatal(err)
	}
	var rec data.Record
	for _, r := range recs {
		if r.Image != "" {
			rec = r
			break
		}
	}
	q := strings.TrimSpace(strings.ReplaceAll(rec.Conversations[0].Value, "<image>", ""))
	logitsOf := func(p Prompt) []float32 {
		e, err := m.encodePrompt(p)
		if err != nil {
			t.Fatal(err)
		}
		b, err := m.newBatch([]encoded{e}, newImageCache(imgs, cfg.ImageSize), false)
		if err != nil {
			t.Fatal(err)
		}
		m.forward(b, nil)
		return slices.Clone(m.act.logits[:m.Vocab.Size()])
	}
	withImage := logitsOf(Prompt{Image: rec.Image, Text: "<image>\n" + q})
	var words []string
	d := cfg.Width
	for p := range cfg.visualTokens() {
		w := wordOf(m, m.act.vis[p*d:(p+1)*d])
		if w < numSpecial {
			t.Fatalf("visual token %d is not a word embedding (%d)", p, w)
		}
		words = append(words, m.Vocab.Words[w])
	}
	asText := logitsOf(Prompt{Text: strings.Join(words, " ") + "\n" + q})
	if !slices.Equal(withImage, asText) {
		t.Errorf("logits differ between the image and its words %q", words)
	}
}

// squares is n images of cfg's size whose patches are solid colours drawn
// from cols, and each patch's colour index.
func squares(cfg Config, cols []color.RGBA, n int, seed uint64) ([]image.Image, [][]int) {
	r := rand.New(rand.NewPCG(seed, 5))
	g, ps := cfg.ImageSize/cfg.PatchSize, cfg.PatchSize
	var imgs []image.Image
	var labels [][]int
	for range n {
		im := image.NewRGBA(image.Rect(0, 0, cfg.ImageSize, cfg.ImageSize))
		var ls []int
		for p := range g * g {
			c := r.IntN(len(cols))
			ls = append(ls, c)
			for y := p / g * ps; y < (p/g+1)*ps; y++ {
				for x := p % g * ps; x < (p%g+1)*ps; x++ {
					im.Set(x, y, cols[c])
				}
			}
		}
		imgs, labels = append(imgs, im), append(labels, ls)
	}
	return imgs, labels
}

// TestAlignWordsNamesEachPatch: AlignWords on images of solid-colour
// patches, each token's word being its colour's name, lowers the loss and
// makes the snapped tokens of new images the right colour words; the tower
// and the decoder do not move; Train leaves the aligned projector as it is.
func TestAlignWordsNamesEachPatch(t *testing.T) {
	names := []string{"red", "green", "blue", "yellow"}
	cols := []color.RGBA{{255, 0, 0, 255}, {0, 255, 0, 255}, {0, 0, 255, 255}, {255, 255, 0, 255}}
	cfg := tinyConfig()
	cfg.WordTokens = true
	cfg.ProjectorWidth = 32
	vocab := NewVocab(append(slices.Clone(names), "what", "is", "it"))
	m, err := New(cfg, vocab, 3)
	if err != nil {
		t.Fatal(err)
	}
	ids := func(labels [][]int) [][]int32 {
		out := make([][]int32, len(labels))
		for i, ls := range labels {
			for _, c := range ls {
				out[i] = append(out[i], vocab.Encode(names[c])[0])
			}
		}
		return out
	}
	imgs, labels := squares(cfg, cols, 256, 1)
	before := map[string][]float32{}
	for _, p := range m.params {
		before[p.Name] = slices.Clone(p.W)
	}
	res, err := AlignWords(context.Background(), m, imgs, ids(labels), TrainConfig{Epochs: 10, BatchSize: 16, LR: 1e-2, Seed: 1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	first, last := mean(res.Losses[:5]), mean(res.Losses[len(res.Losses)-5:])
	t.Logf("loss %.3f -> %.3f over %d steps", first, last, res.Steps)
	if last > first/4 {
		t.Errorf("alignment loss fell from %.3f only to %.3f", first, last)
	}
	for _, p := range m.params {
		if moved := !slices.Equal(before[p.Name], p.W); moved != strings.HasPrefix(p.Name, "projector.") {
			t.Errorf("%s: moved %v", p.Name, moved)
		}
	}
	test, tl := squares(cfg, cols, 50, 2)
	right, n := 0, 0
	d, P := cfg.Width, cfg.visualTokens()
	for i, im := range test {
		e, _ := m.encodePrompt(Prompt{Image: "x", Text: "<image>\nwhat is it"})
		b, err := m.newBatch([]encoded{e}, newImageCache(MapImages{"x": im}, cfg.ImageSize), false)
		if err != nil {
			t.Fatal(err)
		}
		m.forward(b, nil)
		for p := range P {
			n++
			if wordOf(m, m.act.vis[p*d:(p+1)*d]) == int(vocab.Encode(names[tl[i][p]])[0]) {
				right++
			}
		}
	}
	if acc := float64(right) / float64(n); acc < 0.95 {
		t.Errorf("snapped words right on %d of %d new tokens", right, n)
	}
	proj := slices.Clone(m.Proj2.W.W)
	rec := data.Record{ID: "r", Image: "x", Conversations: []data.Turn{{From: "human", Value: "<image>\nwhat is it"}, {From: "gpt", Value: "red"}}}
	if _, err := Train(context.Background(), m, []data.Record{rec}, MapImages{"x": imgs[0]}, TrainConfig{Epochs: 2, BatchSize: 1, LR: 1e-2, Seed: 1}, nil); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(proj, m.Proj2.W.W) {
		t.Error("Train moved the projector of a word-token model")
	}
}

// TestCopyDecoder copies every decoder parameter and nothing of the tower
// or the projector, and refuses another vocabulary.
func TestCopyDecoder(t *testing.T) {
	cfg := tinyConfig()
	vocab := NewVocab([]string{"a", "b"})
	src, _ := New(cfg, vocab, 1)
	cfg.ProjectorWidth = 24
	cfg.WordTokens = true
	dst, _ := New(cfg, vocab, 2)
	before := map[string][]float32{}
	for _, p := range dst.params {
		before[p.Name] = slices.Clone(p.W)
	}
	if err := dst.CopyDecoder(src); err != nil {
		t.Fatal(err)
	}
	from := map[string]*Param{}
	for _, p := range src.params {
		from[p.Name] = p
	}
	for _, p := range dst.params {
		want := from[p.Name].W
		if strings.HasPrefix(p.Name, "vision.") || strings.HasPrefix(p.Name, "projector.") {
			want = before[p.Name]
		}
		if !slices.Equal(want, p.W) {
			t.Errorf("%s: not the value it should have after the copy", p.Name)
		}
	}
	other, _ := New(tinyConfig(), NewVocab([]string{"a", "c"}), 1)
	if err := dst.CopyDecoder(other); err == nil {
		t.Error("CopyDecoder accepted a model of another vocabulary")
	}
}

// TestAlignGrad checks alignStep's projector gradient against finite
// differences of its loss (two random images, random words, a projector
// wider than the decoder).
func TestAlignGrad(t *testing.T) { kernelstest.EachBackend(t, checkAlignGrad) }

func checkAlignGrad(t *testing.T) {
	cfg := tinyConfig()
	cfg.VisionWidth, cfg.ProjectorWidth, cfg.WordTokens = 24, 40, true
	m, err := New(cfg, NewVocab([]string{"a", "b", "c", "d", "e"}), 3)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(5, 7))
	for _, p := range m.params {
		p.initNormal(rng, 0.3)
	}
	ab := m.newAlignBatch()
	for range 2 {
		px := make([]uint8, 3*cfg.ImageSize*cfg.ImageSize)
		for i := range px {
			px[i] = uint8(rng.IntN(256))
		}
		ab.px = append(ab.px, px)
		for range cfg.visualTokens() {
			ab.y = append(ab.y, int32(rng.IntN(5)))
		}
	}
	var ps []*Param
	for _, p := range m.params {
		if strings.HasPrefix(p.Name, "projector.") {
			zero(p.G)
			ps = append(ps, p)
		}
	}
	m.alignStep(ab, true)
	for _, p := range ps {
		checkFD(t, p.Name, p.W, append([]float32(nil), p.G...), func() float64 { return m.alignStep(ab, false) })
	}
}
