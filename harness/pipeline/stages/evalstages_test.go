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
// on every call.
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
}
