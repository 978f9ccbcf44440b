package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tive-dev/tive/harness/model"
	"github.com/tive-dev/tive/harness/pipeline"
	"github.com/tive-dev/tive/harness/pipeline/stages"
	"github.com/tive-dev/tive/harness/seeds"
	"github.com/tive-dev/tive/harness/store"
	"github.com/tive-dev/tive/harness/world"
)

// languageSpec trains and scores a model on a tiny world with LLaVA's
// recipe: vision tower and language model (with a drill of one-object
// yes/no texts, rehearsed, between its two phases), then alignment, then
// instruction tuning.
const languageSpec = `name: language-recipe
data: {source: world}
world: {profile: tiny, assets: shapes, seed: 5}
model: {width: 32, heads: 2, layers: 1, vision_layers: 1, max_len: 160, rope: true, init: fanin, sink: true, vision_width: 48}
vision: {images: 200, probe: 60, epochs: 1, batch_size: 32}
language: {records: 400, instruct: 200, drills: [{skill: yesno, max_objects: 1, texts: 64, rehearse: 32}], max_fill: 2, eval: 48, epochs: 1, batch_size: 32}
pretrain: {epochs: 1, batch_size: 32}
selection: {method: random, budget: 0.5}
train: {mode: full, epochs: 1, batch_size: 32}
predict: {max_new_tokens: 3}
benchmarks: [pope]
`

// TestLanguageRecipe runs the vision and language stages before pretrain
// and checks what each hands on: the language stage's eval.json scores
// every held-out text once per skill, the vision stage's scores each art
// style's objects; the aligned base model keeps the language model's
// decoder and vocabulary and the vision stage's tower (both frozen in stage
// 1) while its projector moved; instruction tuning keeps the tower too.
func TestLanguageRecipe(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "lang.yaml")
	os.WriteFile(file, []byte(languageSpec), 0o644)
	storeDir := filepath.Join(dir, "store")
	code, out, errs := runTive(t, "run", file, "--store", storeDir, "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var names []string
	for _, s := range summaryOf(t, out).Stages {
		names = append(names, s.Stage)
	}
	li, vi, pi := slices.Index(names, "language"), slices.Index(names, "vision"), slices.Index(names, "pretrain")
	if li < 0 || vi < 0 || pi < li || pi < vi {
		t.Fatalf("stages %v: want language and vision before pretrain", names)
	}
	res, err := pipeline.ReadResults(summaryOf(t, out).Results)
	if err != nil {
		t.Fatal(err)
	}
	keys := res.Runs[0].Keys
	s, _ := store.Open(storeDir)
	var eval []stages.SkillScore
	b, err := os.ReadFile(filepath.Join(s.Path(keys["language"]), "eval.json"))
	if err != nil || json.Unmarshal(b, &eval) != nil {
		t.Fatalf("eval.json: %v %s", err, b)
	}
	n := 0
	for i, e := range eval {
		if e.Skill != world.Skills[i] || e.Right > e.N {
			t.Errorf("eval.json entry %d: %+v", i, e)
		}
		n += e.N
	}
	if n != 48 {
		t.Errorf("eval.json scores %d texts, want 48", n)
	}
	lm, err := model.Load(filepath.Join(s.Path(keys["language"]), "model"))
	if err != nil {
		t.Fatal(err)
	}
	base, err := model.Load(filepath.Join(s.Path(keys["pretrain"]), "model"))
	if err != nil {
		t.Fatal(err)
	}
	if lm.Vocab.Size() != base.Vocab.Size() {
		t.Fatalf("vocabulary: %d words in the language model, %d in the base model", lm.Vocab.Size(), base.Vocab.Size())
	}
	var styles []stages.TowerScore
	if b, err = os.ReadFile(filepath.Join(s.Path(keys["vision"]), "eval.json")); err != nil || json.Unmarshal(b, &styles) != nil {
		t.Fatalf("vision eval.json: %v %s", err, b)
	}
	if len(styles) != 5 || styles[4].Style != "all" {
		t.Fatalf("vision eval.json: %+v, want the 4 styles of the shapes pack and all", styles)
	}
	for _, r := range styles {
		if r.Objects == 0 || r.Concept < 0 || r.Concept > 1 || r.Colour < 0 || r.Colour > 1 {
			t.Errorf("vision eval.json row %+v", r)
		}
	}
	tower, err := model.Load(filepath.Join(s.Path(keys["vision"]), "model"))
	if err != nil {
		t.Fatal(err)
	}
	tuned, err := model.Load(filepath.Join(s.Path(keys["train"]), "model"))
	if err != nil {
		t.Fatal(err)
	}
	drawn, err := model.New(base.Cfg, lm.Vocab, seeds.Derive(5, "pretrain")) // world seed 5
	if err != nil {
		t.Fatal(err)
	}
	towerW, lmW := map[string][]float32{}, map[string][]float32{}
	for _, p := range tower.Params() {
		towerW[p.Name] = p.W
	}
	for _, p := range lm.Params() { // the language model's own tower is the smallest (decoderConfig)
		lmW[p.Name] = p.W
	}
	for i, p := range base.Params() {
		vision, proj := strings.HasPrefix(p.Name, "vision."), strings.HasPrefix(p.Name, "projector.")
		switch {
		case vision:
			if !slices.Equal(p.W, towerW[p.Name]) || !slices.Equal(tuned.Params()[i].W, p.W) {
				t.Errorf("%s: the tower changed after the vision stage", p.Name)
			}
		case proj:
			if slices.Equal(p.W, drawn.Params()[i].W) {
				t.Errorf("%s: alignment did not train the projector", p.Name)
			}
		default:
			if !slices.Equal(p.W, lmW[p.Name]) {
				t.Errorf("%s: alignment changed the language model's decoder", p.Name)
			}
		}
	}
}

// TestWordRecipe runs the recipe with word tokens in the store of the plain
// recipe: the vision and language stages are reused (their keys leave the
// projector out); the pretrain stage aligns a projector of its own shape on
// words and scores it (eval.json), with the decoder and tower it was given;
// instruction tuning leaves the aligned projector as it is.
func TestWordRecipe(t *testing.T) {
	dir := t.TempDir()
	storeDir := filepath.Join(dir, "store")
	for _, s := range []struct{ name, yaml string }{
		{"lang.yaml", languageSpec},
		{"words.yaml", strings.Replace(languageSpec, "vision_width: 48}", "vision_width: 48, projector_width: 40, word_tokens: true}\nalign: {images: 120, eval: 16, epochs: 2, batch_size: 16}", 1)},
	} {
		os.WriteFile(filepath.Join(dir, s.name), []byte(s.yaml), 0o644)
	}
	if code, _, errs := runTive(t, "run", filepath.Join(dir, "lang.yaml"), "--store", storeDir, "--json"); code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	code, out, errs := runTive(t, "run", filepath.Join(dir, "words.yaml"), "--store", storeDir, "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, s := range summaryOf(t, out).Stages {
		if (s.Stage == "vision" || s.Stage == "language") && s.Status != "cached" {
			t.Errorf("%s stage %s, want cached", s.Stage, s.Status)
		}
		if s.Stage == "pretrain" && s.Status != "ran" {
			t.Errorf("pretrain stage %s, want ran", s.Status)
		}
	}
	res, err := pipeline.ReadResults(summaryOf(t, out).Results)
	if err != nil {
		t.Fatal(err)
	}
	keys := res.Runs[0].Keys
	s, _ := store.Open(storeDir)
	var eval stages.AlignScore
	b, err := os.ReadFile(filepath.Join(s.Path(keys["pretrain"]), "eval.json"))
	if err != nil || json.Unmarshal(b, &eval) != nil {
		t.Fatalf("pretrain eval.json: %v %s", err, b)
	}
	for _, v := range []float64{eval.ObjectWord, eval.Background, eval.YesNoImage, eval.YesNoBlack} {
		if eval.Scenes != 16 || v < 0 || v > 1 {
			t.Fatalf("pretrain eval.json %+v", eval)
		}
	}
	load := func(stage string) *model.Model {
		m, err := model.Load(filepath.Join(s.Path(keys[stage]), "model"))
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	lm, tower, base, tuned := load("language"), load("vision"), load("pretrain"), load("train")
	if !base.Cfg.WordTokens || base.Cfg.ProjectorWidth != 40 {
		t.Fatalf("base model config %+v", base.Cfg)
	}
	drawn, err := model.New(base.Cfg, lm.Vocab, seeds.Derive(5, "pretrain")) // world seed 5
	if err != nil {
		t.Fatal(err)
	}
	from := map[string][]float32{}
	for _, m := range []*model.Model{lm, tower} {
		for _, p := range m.Params() {
			if strings.HasPrefix(p.Name, "vision.") == (m == tower) {
				from[p.Name] = p.W
			}
		}
	}
	for i, p := range base.Params() {
		if strings.HasPrefix(p.Name, "projector.") {
			if !strings.HasSuffix(p.Name, ".bias") && slices.Equal(p.W, drawn.Params()[i].W) {
				t.Errorf("%s: the alignment did not train it", p.Name)
			}
			if !slices.Equal(p.W, tuned.Params()[i].W) {
				t.Errorf("%s: instruction tuning moved the aligned projector", p.Name)
			}
			continue
		}
		if !slices.Equal(p.W, from[p.Name]) {
			t.Errorf("%s: not the pretrained part's", p.Name)
		}
	}
}
