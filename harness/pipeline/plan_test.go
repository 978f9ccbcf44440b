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

// TestLanguageOptionsPlanned checks that language.prompt_weight and
// language.drills reach the language stage's parameters, and that leaving
// them out (or a drill's rehearse) leaves the stage's parameters (so its
// key) without them.
func TestLanguageOptionsPlanned(t *testing.T) {
	params := func(language string) languageParams {
		file := filepath.Join(t.TempDir(), "s.yaml")
		os.WriteFile(file, []byte("name: x\ndata: {source: world}\nworld: {profile: tiny, assets: shapes}\nselection: {method: tive}\nlanguage: "+language+"\n"), 0o644)
		st, err := spec.Load(file, "")
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range Plan(&st.Runs[0]) {
			if n.Stage == "language" {
				return n.Params.(languageParams)
			}
		}
		t.Fatal("no language stage planned")
		return languageParams{}
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
