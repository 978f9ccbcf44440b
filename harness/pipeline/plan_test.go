package pipeline

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/tive-dev/tive/harness/spec"
	"github.com/tive-dev/tive/harness/world"
)

// planned plans the first run of the spec text and returns its nodes by
// stage.
func planned(t *testing.T, text string) map[string]*Node {
	t.Helper()
	file := filepath.Join(t.TempDir(), "s.yaml")
	if err := os.WriteFile(file, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	st, err := spec.Load(file, "")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*Node{}
	for _, n := range Plan(&st.Runs[0]) {
		out[n.Stage] = n
	}
	return out
}

// TestLanguageOptionsPlanned checks that language.prompt_weight and
// language.drills reach the language stage's parameters, and that leaving
// them out (or a drill's rehearse) leaves the stage's parameters (so its
// key) without them.
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
	drills := params("{records: 10, drills: [{skill: yesno, max_objects: 1, texts: 6}, {skill: colour, texts: 7, rehearse: 5}]}").Drills
	want := []spec.Drill{{TextKind: world.TextKind{Skill: "yesno", MaxObjects: 1}, Texts: 6}, {TextKind: world.TextKind{Skill: "colour"}, Texts: 7, Rehearse: 5}}
	if !reflect.DeepEqual(drills, want) {
		t.Errorf("drills planned as %+v, want %+v", drills, want)
	}
	for language, keys := range map[string][]string{
		"{records: 10}": {"prompt_weight", "drills"},
		"{records: 10, drills: [{skill: yesno, texts: 6}]}": {"rehearse"},
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
// language stage keeps its key when the tower changes.
func TestWordAlignmentPlanned(t *testing.T) {
	nodes := func(extra string) map[string]*Node {
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
