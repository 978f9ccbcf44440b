package stages

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/tive-dev/tive/harness/data"
	"github.com/tive-dev/tive/harness/model"
	"github.com/tive-dev/tive/harness/pipeline"
	"github.com/tive-dev/tive/harness/spec"
	"github.com/tive-dev/tive/harness/store"
	"github.com/tive-dev/tive/harness/world"
)

// planned plans the first run of the spec text and returns its nodes by
// stage.
func planned(t *testing.T, text string) map[string]*pipeline.Node {
	t.Helper()
	out := map[string]*pipeline.Node{}
	for _, n := range plannedNodes(t, text) {
		out[n.Stage] = n
	}
	return out
}

// plannedNodes plans the first run of the spec text.
func plannedNodes(t *testing.T, text string) []*pipeline.Node {
	t.Helper()
	file := filepath.Join(t.TempDir(), "s.yaml")
	if err := os.WriteFile(file, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	st, err := spec.Load(file, "")
	if err != nil {
		t.Fatal(err)
	}
	return Plan(&st.Runs[0])
}

// TestLanguageOptionsPlanned checks that language.prompt_weight and
// language.drills reach the language stage's parameters, and that leaving
// them out (or a drill's rehearse or join) leaves the stage's parameters (so
// its key) without them.
func TestLanguageOptionsPlanned(t *testing.T) {
	params := func(language string) languageParams {
		n := planned(t, "name: x\ndata: {source: world}\nworld: {profile: tiny, assets: shapes}\nselection: {method: tive}\nlanguage: "+language+"\n")["language"]
		if n == nil {
			t.Fatal("no language stage planned")
		}
		return n.Params.(languageParams)
	}
	if got := params("{records: 10, prompt_weight: 0.01}").Train.PromptWeight; got != 0.01 {
		t.Errorf("prompt_weight 0.01 planned as %v", got)
	}
	drills := params("{records: 10, drills: [{skill: yesno, max_objects: 1, texts: 6}, {skill: colour, texts: 7, rehearse: 5, join: true}]}").Drills
	want := []spec.Drill{{TextKind: world.TextKind{Skill: "yesno", MaxObjects: 1}, Texts: 6}, {TextKind: world.TextKind{Skill: "colour"}, Texts: 7, Rehearse: 5, Join: true}}
	if d := cmp.Diff(want, drills); d != "" {
		t.Errorf("drills planned (-want +got):\n%s", d)
	}
	for language, keys := range map[string][]string{
		"{records: 10}": {"prompt_weight", "drills"},
		"{records: 10, drills: [{skill: yesno, texts: 6}]}": {"rehearse", "join"},
	} {
		b, err := json.Marshal(params(language))
		if err != nil {
			t.Fatal(err)
		}
		for _, key := range keys {
			if strings.Contains(string(b), key) {
				t.Errorf("language parameters of %s name %s: %s", language, key, b)
			}
		}
	}
}

// TestWordAlignmentPlanned: the projector's settings and the word alignment
// reach the pretrain stage only; the vision and language stages, which
// train the tower and the decoder alone, keep the keys they have without
// them (so a spec that adds them reuses its pretrained parts); and the
// language stage keeps its key when the tower changes, the vision stage
// its key when only the decoder widens.
func TestWordAlignmentPlanned(t *testing.T) {
	nodes := func(extra string) map[string]*pipeline.Node {
		return planned(t, "name: x\ndata: {source: world}\nworld: {profile: tiny, assets: shapes}\nselection: {method: tive}\n"+
			"vision: {images: 10}\nlanguage: {records: 10}\n"+extra)
	}
	plain := nodes("")
	words := nodes("model: {projector_width: 96, word_tokens: true}\nalign: {images: 30, eval: 5, epochs: 2, lr: 0.01}\n")
	for _, stage := range []string{"vision", "language"} {
		a, _ := json.Marshal(plain[stage].Params)
		b, _ := json.Marshal(words[stage].Params)
		if string(a) != string(b) {
			t.Errorf("%s parameters change with the projector's settings:\n%s\n%s", stage, a, b)
		}
	}
	tower := nodes("model: {stem: conv, vision_width: 128, vision_layers: 2}\n")
	for stage, same := range map[string]bool{"language": true, "vision": false} {
		a, _ := json.Marshal(plain[stage].Params)
		b, _ := json.Marshal(tower[stage].Params)
		if (string(a) == string(b)) != same {
			t.Errorf("%s parameters, the tower changed (want the same: %v):\n%s\n%s", stage, same, a, b)
		}
	}
	// The decoder's width reaches the vision stage only where it is the
	// tower's too (no vision_width), or where the default width would not
	// suit the heads (towerConfig).
	for _, c := range []struct {
		a, b string
		same bool
	}{
		{"model: {vision_width: 32, width: 64}\n", "model: {vision_width: 32, width: 128}\n", true},
		{"model: {width: 64}\n", "model: {width: 128}\n", false},
		{"model: {vision_width: 36, heads: 6, width: 48}\n", "model: {vision_width: 36, heads: 6, width: 96}\n", false},
	} {
		a, _ := json.Marshal(nodes(c.a)["vision"].Params)
		b, _ := json.Marshal(nodes(c.b)["vision"].Params)
		if (string(a) == string(b)) != c.same {
			t.Errorf("vision parameters of %q and %q (want the same: %v):\n%s\n%s", c.a, c.b, c.same, a, b)
		}
	}
	if p := plain["pretrain"].Params.(pretrainParams); p.Align != nil {
		t.Errorf("a spec without align plans the alignment %+v", p.Align)
	}
	p := words["pretrain"].Params.(pretrainParams)
	if p.Model.ProjectorWidth != 96 || !p.Model.WordTokens {
		t.Errorf("pretrain model %+v, want projector_width 96 and word_tokens", p.Model)
	}
	if a := p.Align; a == nil || a.Images != 30 || a.Eval != 5 || a.Train.Epochs != 2 || a.Train.LR != 0.01 || a.World.Profile != "tiny" {
		t.Errorf("align planned as %+v", a)
	}
}

// TestPlantedWorldSharesPretrainedParts: a world with planted copies plans
// the same vision, language and pretrain stages (the same keys) as the same
// world without them (and the medium pool as the quick one), and plans its
// own world first (the one the runner's results name: TestReproduceSmoke's
// planted-kept table reads its copies); the language model's vocabulary,
// built from the plain world, has every word of the planted mixture;
// without a language model the pretrain stage builds its vocabulary from
// the planted mixture itself, so it keeps that world.
func TestPlantedWorldSharesPretrainedParts(t *testing.T) {
	st, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	keys := func(text string) map[string]string { // the first node's key of each stage
		out := map[string]string{}
		nodes := plannedNodes(t, text)
		if err := pipeline.Keys(st, nodes); err != nil {
			t.Fatal(err)
		}
		for _, n := range nodes {
			if _, ok := out[n.Stage]; !ok {
				out[n.Stage] = n.Key()
			}
		}
		return out
	}
	const base = "name: x\ndata: {source: world}\nselection: {method: tive}\n"
	const parts = "vision: {images: 10}\nlanguage: {records: 10}\n"
	plain := keys(base + parts + "world: {profile: tiny, assets: shapes}\n")
	planted := keys(base + parts + "world: {profile: tiny, assets: shapes, exact_duplicates: 0.2, near_duplicates: 0.1}\n")
	for _, stage := range []string{"vision", "language", "pretrain"} {
		if plain[stage] == "" || plain[stage] != planted[stage] {
			t.Errorf("%s: key %.12s with planted copies, %.12s without", stage, planted[stage], plain[stage])
		}
	}
	for _, stage := range []string{"world", "warmup", "select"} {
		if plain[stage] == planted[stage] {
			t.Errorf("%s: the planted world's run has the plain world's key %.12s", stage, plain[stage])
		}
	}
	quick := keys(base + parts + "world: {profile: quick}\n")
	medium := keys(base + parts + "world: {profile: medium}\n")
	for _, stage := range []string{"vision", "language", "pretrain"} {
		if quick[stage] == "" || quick[stage] != medium[stage] {
			t.Errorf("%s: key %.12s on the medium pool, %.12s on the quick one", stage, medium[stage], quick[stage])
		}
	}
	if quick["world"] == medium["world"] || quick["select"] == medium["select"] {
		t.Errorf("the medium pool's run has the quick pool's world or select key")
	}
	if a, b := keys(base + "world: {profile: tiny, assets: shapes}\n")["pretrain"], keys(base + "world: {profile: tiny, assets: shapes, exact_duplicates: 0.2}\n")["pretrain"]; a == b {
		t.Errorf("without a language model the planted world's pretrain stage has the plain world's key %.12s", a)
	}

	vocab := func(red world.Redundancy) (*model.Vocab, []data.Record) {
		dir := t.TempDir()
		if err := world.Generate(context.Background(), world.Config{Profile: "tiny", Assets: "shapes", Redundancy: red}, dir, nil); err != nil {
			t.Fatal(err)
		}
		caps, mix, err := worldText(dir)
		if err != nil {
			t.Fatal(err)
		}
		return model.BuildVocab(append(caps, mix...), 1), mix
	}
	v, _ := vocab(world.Redundancy{})
	_, mix := vocab(world.Redundancy{Exact: 0.2, Near: 0.1})
	for _, r := range mix {
		for _, turn := range r.Conversations {
			if ids := v.Encode(turn.Value); slices.Contains(ids, model.UnkTok) {
				t.Fatalf("record %v of the planted world has a word the plain world's vocabulary lacks: %q", r.ID, turn.Value)
			}
		}
	}
}

// TestModelStagesAreArith: the stages that run the model's matrix products
// say so (pipeline.Stage.Arith), so that their keys name the back end;
// the others do not, so that their outputs are shared across back ends.
func TestModelStagesAreArith(t *testing.T) {
	for name, arith := range map[string]bool{
		"vision": true, "tokens": true, "language": true, "pretrain": true, "reference": true,
		"features": true, "valfeatures": true, "train": true, "predict": true,
		"world": false, "warmup": false, "select": false, "score": false, "chance": false,
	} {
		st := pipeline.Lookup(name)
		if st == nil {
			t.Errorf("stage %s is not registered", name)
		} else if st.Arith != arith {
			t.Errorf("stage %s: Arith %v, want %v", name, st.Arith, arith)
		}
	}
	if got := len(pipeline.StageNames()); got != 14 {
		t.Errorf("%d stages registered (%v), want the 14 above", got, pipeline.StageNames())
	}
}
