package model

import (
	"bytes"
	"image"
	"image/png"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// tokensFixture is a small model on synthetic records with their images,
// written as PNG files under a folder (DirImages).
func tokensFixture(t *testing.T) (*Model, []encoded, DirImages) {
	t.Helper()
	recs, imgs := Synthetic(24, 7)
	m, err := New(DefaultConfig(), BuildVocab(recs, 1), 3)
	if err != nil {
		t.Fatal(err)
	}
	exs := make([]encoded, len(recs))
	for i := range recs {
		if exs[i], err = m.encode(&recs[i]); err != nil {
			t.Fatal(err)
		}
	}
	dir := DirImages{Root: t.TempDir()}
	for p, im := range imgs {
		var b bytes.Buffer
		if err := png.Encode(&b, im); err != nil {
			t.Fatal(err)
		}
		f := filepath.Join(dir.Root, p)
		if err := os.MkdirAll(filepath.Dir(f), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(f, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return m, exs, dir
}

// filesOf lists the image files under dir, sorted.
func filesOf(t *testing.T, dir DirImages) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir.Root, func(p string, e fs.DirEntry, err error) error {
		if err == nil && !e.IsDir() {
			out = append(out, strings.TrimPrefix(p, dir.Root+"/"))
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// tokensOf computes the tokens of paths (the first one twice).
func tokensOf(t *testing.T, m *Model, dir DirImages, paths []string) *TowerTokens {
	t.Helper()
	tok, err := ComputeTowerTokens(m, len(paths)+1, func(i int) ([]byte, error) { return dir.File(paths[i%len(paths)]) }, nil)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// logitsOf is a forward pass over exs with training targets.
func logitsOf(t *testing.T, m *Model, exs []encoded, c *imageCache) []float32 {
	t.Helper()
	b, err := m.newBatch(exs, c, true)
	if err != nil {
		t.Fatal(err)
	}
	m.forward(b, nil)
	return append([]float32(nil), m.act.logits...)
}

func maxDiff(a, b []float32) float64 {
	d := 0.0
	for i := range a {
		d = math.Max(d, math.Abs(float64(a[i]-b[i])))
	}
	return d
}

// TestTowerTokensStandInForTheTower: the tokens of an image are the rows
// TowerFeatures gives it; a forward pass reading them gives the logits of
// one running the tower (within 1e-4), and does not run the tower: with
// the tower's weights made NaN after the tokens were attached, an image
// the tokens hold still gives those logits, and a batch that also holds an
// image they lack computes that one (NaN, from the broken tower) and no
// other. An image given twice is kept once; Save and Load give the same
// tokens back; ReadsTokens says which images the model reads from them
// (none from a source without files).
func TestTowerTokensStandInForTheTower(t *testing.T) {
	m, exs, imgs := tokensFixture(t)
	paths := filesOf(t, imgs)
	held := paths[:len(paths)-1] // the last image is left out of the tokens
	tok := tokensOf(t, m, imgs, held)
	if tok.Len() != len(held) {
		t.Fatalf("%d images held, want %d", tok.Len(), len(held))
	}
	var list []image.Image
	for _, p := range held {
		im, err := imgs.Image(p)
		if err != nil {
			t.Fatal(err)
		}
		list = append(list, im)
	}
	feats := TowerFeatures(m, list)
	for i, p := range held {
		b, err := imgs.File(p)
		if err != nil {
			t.Fatal(err)
		}
		if got := tok.lookup(fileKey(b)); !slices.Equal(got, feats[i]) {
			t.Fatalf("tokens of %s differ from TowerFeatures'", p)
		}
	}
	path := filepath.Join(t.TempDir(), "tokens.safetensors")
	if err := tok.Save(path); err != nil {
		t.Fatal(err)
	}
	back, err := LoadTowerTokens(path)
	if err != nil {
		t.Fatal(err)
	}
	if back.Tower != tok.Tower || back.Len() != tok.Len() || !slices.Equal(back.data, tok.data) {
		t.Fatal("Load(Save(tokens)) differs")
	}
	for k, r := range tok.rows {
		if back.rows[k] != r {
			t.Fatalf("row of %s: %d after Load, %d before", k, back.rows[k], r)
		}
	}

	var covered, mixed []encoded
	for _, e := range exs {
		if e.image != paths[len(paths)-1] {
			covered = append(covered, e)
		}
	}
	for _, e := range exs {
		if e.image == paths[len(paths)-1] {
			mixed = append([]encoded{e}, covered[:3]...)
			break
		}
	}
	if len(mixed) == 0 {
		t.Fatal("no record shows the left-out image")
	}
	want := logitsOf(t, m, covered, newImageCache(imgs, m.Cfg.ImageSize))
	if err := m.UseTowerTokens(back); err != nil {
		t.Fatal(err)
	}
	for i, p := range paths {
		if reads, err := m.ReadsTokens(imgs, p); err != nil || reads != (i < len(held)) {
			t.Fatalf("ReadsTokens(%s) = %v, %v", p, reads, err)
		}
	}
	if reads, err := m.ReadsTokens(MapImages{"x": list[0]}, "x"); err != nil || reads {
		t.Fatalf("an image source without files reads tokens: %v, %v", reads, err)
	}
	got := logitsOf(t, m, covered, m.imageCache(imgs, false))
	if d := maxDiff(got, want); d > 1e-4 {
		t.Fatalf("logits on tokens differ from the tower's by %g", d)
	}
	if c := m.imageCache(imgs, true); c.tokens != nil {
		t.Fatal("a cache for a run that trains the tower reads tokens")
	}

	for i := range m.VLN.G.W {
		m.VLN.G.W[i] = float32(math.NaN())
	}
	if d := maxDiff(logitsOf(t, m, covered, m.imageCache(imgs, false)), want); d > 1e-4 || math.IsNaN(d) {
		t.Fatalf("with the tower broken, logits on tokens differ by %g: the tower ran", d)
	}
	b, err := m.newBatch(mixed, m.imageCache(imgs, false), true)
	if err != nil {
		t.Fatal(err)
	}
	m.forward(b, nil)
	n := m.Cfg.visualTokens() * m.Cfg.TowerWidth()
	nanRows := func(k int) bool { return math.IsNaN(float64(m.act.vln[k*n])) }
	if !nanRows(0) {
		t.Fatal("the image the tokens lack was not run through the (broken) tower")
	}
	for k := 1; k < b.nImg; k++ {
		if nanRows(k) {
			t.Fatalf("image %d of the batch, held by the tokens, went through the tower", k)
		}
	}
}

// TestTowerTokensRefuseAnotherTower: tokens attach only to the tower they
// came from, and a file of another format is refused with its path.
func TestTowerTokensRefuseAnotherTower(t *testing.T) {
	m, _, imgs := tokensFixture(t)
	tok := tokensOf(t, m, imgs, filesOf(t, imgs))
	other, err := New(DefaultConfig(), m.Vocab, 4)
	if err != nil {
		t.Fatal(err)
	}
	if err := other.UseTowerTokens(tok); err == nil || !strings.Contains(err.Error(), "tower tokens of tower") {
		t.Fatalf("tokens of another tower: %v", err)
	}
	if err := m.UseTowerTokens(tok); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "model.safetensors")
	f, err := writeTensors(path, []Tensor{{Name: "tokens", Shape: []int{1, 1, 1}, Data: []float32{1}}})
	if err != nil || f == "" {
		t.Fatal(err)
	}
	if _, err := LoadTowerTokens(path); err == nil || !strings.Contains(err.Error(), path) {
		t.Fatalf("a checkpoint read as tower tokens: %v", err)
	}
}
