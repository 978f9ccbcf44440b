package pipeline

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tive-dev/tive/harness/spec"
)

// TestLanguagePromptWeightPlanned checks that language.prompt_weight reaches
// the language stage's training configuration, and that leaving it out
// leaves the stage's parameters (so its key) without it.
func TestLanguagePromptWeightPlanned(t *testing.T) {
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
	b, err := json.Marshal(params("{records: 10}"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "prompt_weight") {
		t.Errorf("language parameters without prompt_weight name it: %s", b)
	}
}
