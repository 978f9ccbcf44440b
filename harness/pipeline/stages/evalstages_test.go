package stages

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/tive-dev/tive/harness/data"
	"github.com/tive-dev/tive/harness/seeds"
	"github.com/tive-dev/tive/harness/world"
)

// TestRehearsal: train.rehearse reaches the train stage with the world and
// the language corpus's filler bound; leaving it out leaves the stage's
// parameters (so its key) as before; and the records the stage trains on
// are the subset's, then round(r·n) texts of the language corpus, the same
// on every call; with train.rehearse_grid g, round(g·n) of them are the grid
// corpus's, stated under the language stage's patch grid.
func TestRehearsal(t *testing.T) {
	train := func(extra string) trainParams {
		n := planned(t, "name: x\ndata: {source: world}\nworld: {profile: tiny, assets: shapes}\nselection: {method: random}\nbenchmarks: [pope]\n"+
			"language: {records: 10, max_fill: 2}\n"+extra)["train"]
		if n == nil {
			t.Fatal("no train stage planned")
		}
		return n.Params.(trainParams)
	}
	if b, _ := json.Marshal(train("")); strings.Contains(string(b), "rehearse") {
		t.Errorf("train parameters without train.rehearse name it: %s", b)
	}
	p := train("train: {rehearse: 1.5}\n").Rehearse
	cfg := world.Config{Profile: "tiny", Assets: "shapes", Seed: seeds.Derive(0, seeds.World)}.WithDefaults() // the run's seed 0
	if p == nil || p.PerRecord != 1.5 || p.MaxFill != 2 || p.World != cfg {
		t.Fatalf("rehearse planned as %+v", p)
	}

	dir := t.TempDir()
	subset := filepath.Join(dir, "subset.json")
	os.WriteFile(subset, []byte(`[{"id": "a", "image": "coco/a.png", "conversations": [{"from": "human", "value": "<image>\nq"}, {"from": "gpt", "value": "x"}]},
{"id": 2, "conversations": [{"from": "human", "value": "hi"}, {"from": "gpt", "value": "yo"}]},
{"id": "c", "conversations": [{"from": "human", "value": "p"}, {"from": "gpt", "value": "q"}]}]`), 0o644)
	out := filepath.Join(dir, "work", "records.json")
	if err := rehearsal(out, subset, *p); err != nil {
		t.Fatal(err)
	}
	got, err := data.Load(out)
	if err != nil {
		t.Fatal(err)
	}
	texts, _, err := world.Language(cfg, "rehearse", 0, 5, 2) // round(1.5·3) = 5 (4.5 rounds away from zero)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 8 || got[0].ID != "a" || got[0].Image != "coco/a.png" || got[1].ID != "2" || got[2].ID != "c" {
		t.Fatalf("rehearsal records: %d, first %+v", len(got), got[:min(3, len(got))])
	}
	for i, r := range got[3:] {
		if d := cmp.Diff(texts[i].Conversations, r.Conversations); r.HasImage() || r.ID != texts[i].ID || d != "" {
			t.Errorf("text %d: id %q (want %q), image %q, conversations (-want +got):\n%s", i, r.ID, texts[i].ID, r.Image, d)
		}
	}
	first, _ := os.ReadFile(out)
	if err := rehearsal(out, subset, *p); err != nil {
		t.Fatal(err)
	}
	if again, _ := os.ReadFile(out); string(again) != string(first) {
		t.Error("a second rehearsal wrote other bytes")
	}
	if p.Grid != 0 || p.Model != nil {
		t.Errorf("rehearsal without train.rehearse_grid planned with the grid: %+v", p)
	}

	// train.rehearse_grid: round(g·n) of the n texts are the grid corpus's,
	// under the language stage's decoder config, after the n-g others.
	grids := "model: {word_tokens: true}\nvision: {images: 10}\nalign: {images: 10}\ntrain: {rehearse: 2, rehearse_grid: 0.5}\n"
	g := train(grids).Rehearse
	lang := planned(t, "name: x\ndata: {source: world}\nworld: {profile: tiny, assets: shapes}\nselection: {method: random}\nbenchmarks: [pope]\n"+
		"language: {records: 10, max_fill: 2}\n"+grids)["language"].Params.(languageParams)
	if g == nil || g.Grid != 0.5 || g.Model == nil || *g.Model != lang.Model {
		t.Fatalf("rehearse_grid planned as %+v (the language stage's model: %+v)", g, lang.Model)
	}
	if err := rehearsal(out, subset, *g); err != nil {
		t.Fatal(err)
	}
	if got, err = data.Load(out); err != nil {
		t.Fatal(err)
	}
	texts, _, err = world.Language(cfg, "rehearse", 0, 3, 2) // n = 6, g = 3
	if err != nil {
		t.Fatal(err)
	}
	grid, _, err := gridTexts(cfg, *g.Model, "rehearse", 3)
	if err != nil {
		t.Fatal(err)
	}
	want := append(texts, grid...)
	if len(got) != 3+len(want) {
		t.Fatalf("%d records, want 3 + 6", len(got))
	}
	for i, r := range got[3:] {
		if d := cmp.Diff(want[i].Conversations, r.Conversations); r.ID != want[i].ID || d != "" {
			t.Errorf("text %d: id %q (want %q), conversations (-want +got):\n%s", i, r.ID, want[i].ID, d)
		}
	}
	noModel := *g
	noModel.Model = nil
	if err := rehearsal(out, subset, noModel); err == nil || !strings.Contains(err.Error(), "3 grid texts") {
		t.Errorf("grid texts without a model config: error %v", err)
	}
	if q := got[6].Conversations[0].Value; !strings.Contains(q, "\nIs there ") || strings.Count(strings.SplitN(q, "\n", 2)[0], " ") != 15 {
		t.Errorf("a grid text %q: want 16 words, then a yes/no question", q)
	}
}
