package model

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestTrainLearnsTinyWorld trains on the synthetic colour/quadrant task and
// checks that the loss falls and greedy decoding answers held-out images.
func TestTrainLearnsTinyWorld(t *testing.T) {
	recs, imgs := tinyWorld(1200, 1)
	cfg := tinyConfig()
	cfg.Width = 32
	m, err := New(cfg, BuildVocab(recs, 1), 1)
	if err != nil {
		t.Fatal(err)
	}
	res, err := Train(context.Background(), m, recs, imgs, TrainConfig{Epochs: 12, BatchSize: 16, LR: 3e-3, Seed: 1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	first, last := mean(res.Losses[:10]), mean(res.Losses[len(res.Losses)-10:])
	t.Logf("loss %.3f -> %.3f over %d steps", first, last, res.Steps)
	if last > first/4 {
		t.Errorf("loss fell from %.3f only to %.3f", first, last)
	}
	test, timgs := tinyWorld(100, 2)
	var prompts []Prompt
	var want []string
	for _, r := range test {
		if r.Image == "" {
			continue
		}
		prompts = append(prompts, Prompt{Image: r.Image, Text: r.Conversations[0].Value})
		want = append(want, r.Conversations[1].Value)
	}
	got, err := Generate(context.Background(), m, prompts, timgs, 5)
	if err != nil {
		t.Fatal(err)
	}
	right := 0
	for i := range got {
		if got[i] == want[i] {
			right++
		}
	}
	for i := range got[:4] {
		t.Logf("%q -> %q want %q", prompts[i].Text, got[i], want[i])
	}
	acc := float64(right) / float64(len(got))
	t.Logf("held-out accuracy %.2f (chance 0.25); e.g. %q want %q", acc, got[0], want[0])
	if acc < 0.8 {
		t.Errorf("held-out accuracy %.2f < 0.8", acc)
	}
	// The image-use probe asks the same questions with and without the
	// image: a black image leaves colour and place to guessing (1 in 4).
	rows, err := Probe(context.Background(), m, test, timgs)
	if err != nil {
		t.Fatal(err)
	}
	all := rows[len(rows)-1]
	t.Logf("probe: %+v", rows)
	if len(rows) != 3 || rows[0].Kind != "what color is" && rows[0].Kind != "where is the" || all.Kind != "all" ||
		all.N != len(prompts) || all.N != rows[0].N+rows[1].N || all.Real < right {
		t.Errorf("probe rows %+v, want the two question kinds and their sum over %d questions with at least %d right", rows, len(prompts), right)
	}
	if 2*all.Blank > all.N {
		t.Errorf("probe: %d of %d right with black images, want at most half", all.Blank, all.N)
	}
}

func mean(x []float64) float64 {
	var s float64
	for _, v := range x {
		s += v
	}
	return s / float64(len(x))
}

func trainTiny(t *testing.T, dir string, lora bool, every int) *Model {
	t.Helper()
	recs, imgs := tinyWorld(96, 3)
	m, err := New(tinyConfig(), BuildVocab(recs, 1), 9)
	if err != nil {
		t.Fatal(err)
	}
	if lora {
		if err := m.AttachLoRA(LoRAConfig{Rank: 4, Alpha: 8, Dropout: 0.1}, 9); err != nil {
			t.Fatal(err)
		}
	}
	tc := TrainConfig{Epochs: 2, BatchSize: 16, Seed: 5, CheckpointDir: dir, CheckpointEvery: every}
	if _, err := Train(context.Background(), m, recs, imgs, tc, nil); err != nil {
		t.Fatal(err)
	}
	return m
}

func modelBytes(t *testing.T, m *Model) []byte {
	t.Helper()
	dir := t.TempDir()
	if err := Save(dir, m, nil); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "model.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestTrainDeterministicAndResume: the same seed gives the same bytes, and a
// run resumed from a mid-run checkpoint ends with the same bytes.
func TestTrainDeterministicAndResume(t *testing.T) {
	for _, lora := range []bool{false, true} {
		a := modelBytes(t, trainTiny(t, "", lora, 0))
		b := modelBytes(t, trainTiny(t, "", lora, 0))
		if !bytes.Equal(a, b) {
			t.Fatalf("lora=%v: two runs with one seed differ", lora)
		}
		// Interrupt: keep only the step-4 checkpoint of a run, then resume.
		dir := t.TempDir()
		trainTiny(t, dir, lora, 4)
		full, _ := filepath.Glob(filepath.Join(dir, "checkpoint-*"))
		if len(full) != 1 || !strings.HasSuffix(full[0], "checkpoint-00000012") {
			t.Fatalf("checkpoints %v, want only the final one", full)
		}
		dir2 := t.TempDir()
		recs, imgs := tinyWorld(96, 3)
		m, _ := New(tinyConfig(), BuildVocab(recs, 1), 9)
		if lora {
			m.AttachLoRA(LoRAConfig{Rank: 4, Alpha: 8, Dropout: 0.1}, 9)
		}
		tc := TrainConfig{Epochs: 2, BatchSize: 16, Seed: 5, CheckpointDir: dir2, CheckpointEvery: 4}
		ctx, cancel := context.WithCancel(context.Background())
		Train(ctx, m, recs, imgs, tc, func(done, _ int) {
			if done == 5 {
				cancel()
			}
		})
		m2, _ := New(tinyConfig(), BuildVocab(recs, 1), 123)
		if lora {
			m2.AttachLoRA(LoRAConfig{Rank: 4, Alpha: 8, Dropout: 0.1}, 123)
		}
		res, err := Train(context.Background(), m2, recs, imgs, tc, nil)
		if err != nil {
			t.Fatal(err)
		}
		if res.Resumed != 4 {
			t.Fatalf("resumed at step %d, want 4", res.Resumed)
		}
		if !bytes.Equal(a, modelBytes(t, m2)) {
			t.Fatalf("lora=%v: resumed run differs from the uninterrupted one", lora)
		}
		loaded, err := Load(filepath.Join(dir2, "checkpoint-00000012"))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a, modelBytes(t, loaded)) {
			t.Fatalf("lora=%v: Load does not give back the saved bytes", lora)
		}
	}
}

// TestPromptWeight checks the weighted next-token objective: under
// AllTokens every next text token is a target, the responses' with weight
// 1 and the prompt's with PromptWeight, and the step's loss is
// Σ_r w_r ℓ_r / Σ_r w_r; PromptWeight 1 trains the same bytes as 0.
func TestPromptWeight(t *testing.T) {
	recs, imgs := tinyWorld(8, 1)
	m, err := New(tinyConfig(), BuildVocab(recs, 1), 1)
	if err != nil {
		t.Fatal(err)
	}
	tc := TrainConfig{AllTokens: true, PromptWeight: 0.25}.withDefaults()
	exs := make([]encoded, len(recs))
	var resp int
	for i := range recs {
		if exs[i], err = m.encode(&recs[i]); err != nil {
			t.Fatal(err)
		}
		for _, y := range exs[i].targets {
			if y >= 0 {
				resp++
			}
		}
		tc.setTargets(&exs[i])
	}
	b, err := m.newBatch(exs, newImageCache(imgs, m.Cfg.ImageSize), true)
	if err != nil {
		t.Fatal(err)
	}
	var ones, quarters int
	for r, w := range b.rw {
		switch w {
		case 1:
			ones++
		case 0.25:
			quarters++
		default:
			t.Fatalf("row %d: weight %v", r, w)
		}
		if tok := b.tokens[b.rows[r]+1]; tok != b.y[r] {
			t.Fatalf("row %d: target %d, next token %d", r, b.y[r], tok)
		}
	}
	if ones != resp || quarters == 0 {
		t.Fatalf("%d rows of weight 1 (want the %d response tokens), %d of weight 0.25", ones, resp, quarters)
	}
	m.setTrainable(true, false)
	got := m.trainStep(b, nil, newAdamW(0.9, 0.999, 1e-8, 0), 1e-3, 1)
	var num, den float64
	for r, w := range b.rw {
		num += float64(w) * float64(m.act.loss[r])
		den += float64(w)
	}
	if want := num / den; math.Abs(got-want) > 1e-6*want {
		t.Fatalf("step loss %v, want Σ w ℓ / Σ w = %v", got, want)
	}

	train := func(pw float64) []byte {
		m, err := New(tinyConfig(), BuildVocab(recs, 1), 1)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Train(context.Background(), m, recs, imgs, TrainConfig{AllTokens: true, PromptWeight: pw, Seed: 1}, nil); err != nil {
			t.Fatal(err)
		}
		return modelBytes(t, m)
	}
	if !bytes.Equal(train(0), train(1)) {
		t.Fatal("PromptWeight 1 trained other bytes than 0 (every token alike)")
	}
}

// TestPretrainTowerRejectsLabels checks that an object's label outside its
// head's classes (the background class included) is an error naming it.
func TestPretrainTowerRejectsLabels(t *testing.T) {
	m, err := New(tinyConfig(), NewVocab(nil), 1)
	if err != nil {
		t.Fatal(err)
	}
	img := image.NewRGBA(image.Rect(0, 0, m.Cfg.ImageSize, m.Cfg.ImageSize))
	for _, l := range []int{-1, 3} {
		imgs := []TowerImage{{Image: img, Objects: []TowerObject{{Box: img.Rect, Labels: []int{l}}}}}
		_, err := PretrainTower(context.Background(), m, imgs, []int{3}, TrainConfig{}, nil)
		if want := fmt.Sprintf("label %d of head 0 outside [0, 3)", l); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("label %d: error %v, want one containing %q", l, err, want)
		}
	}
}

// TestTowerIgnoresDecoderWidth: with a tower width of its own, the decoder's
// width changes neither the tower New draws nor the one PretrainTower
// trains (the contract the vision stage's key relies on: a wider decoder
// reuses the tower), while the decoder's depth, which sets the scale of the
// tower blocks' initial residual weights, does.
func TestTowerIgnoresDecoderWidth(t *testing.T) {
	tower := func(width, layers int) map[string][]float32 {
		cfg := tinyConfig()
		cfg.Stem, cfg.Width, cfg.VisionWidth, cfg.Layers = "conv", width, 8, layers
		m, err := New(cfg, NewVocab(nil), 3)
		if err != nil {
			t.Fatal(err)
		}
		var imgs []TowerImage
		for i := range 6 {
			img := image.NewRGBA(image.Rect(0, 0, cfg.ImageSize, cfg.ImageSize))
			for p := range img.Pix {
				img.Pix[p] = uint8(37*i + 11*p)
			}
			box := image.Rect(0, 0, cfg.ImageSize/2, cfg.ImageSize/2).Add(image.Pt(i%2*cfg.ImageSize/2, 0))
			imgs = append(imgs, TowerImage{Image: img, Objects: []TowerObject{{Box: box, Labels: []int{i % 3}}}})
		}
		if _, err := PretrainTower(context.Background(), m, imgs, []int{3}, TrainConfig{Epochs: 2, BatchSize: 2, LR: 1e-2, Seed: 5}, nil); err != nil {
			t.Fatal(err)
		}
		out := map[string][]float32{}
		for _, p := range m.Params() {
			if strings.HasPrefix(p.Name, "vision.") {
				out[p.Name] = p.W
			}
		}
		return out
	}
	narrow, wide, deep := tower(16, 2), tower(32, 2), tower(16, 3)
	if len(narrow) == 0 {
		t.Fatal("no vision parameters")
	}
	same := true
	for name, w := range narrow {
		if !slices.Equal(w, wide[name]) {
			t.Errorf("%s differs between decoder widths 16 and 32", name)
		}
		same = same && slices.Equal(w, deep[name])
	}
	if same {
		t.Error("decoders of 2 and 3 blocks came with the same tower: the comparison cannot see a difference")
	}
}
