package stages

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/tive-dev/tive/harness/pipeline"
)

// TestReadParts: each pretraining stage's eval.json reaches its part; a
// pretrain stage that aligned on captions (no eval.json) and absent stages
// leave theirs nil; a vision or language stage without one is an error.
func TestReadParts(t *testing.T) {
	dir := t.TempDir()
	want := Parts{
		Tower:    []TowerScore{{Style: "noto", Objects: 10, Concept: 0.9, Colour: 0.95}, {Style: "all", Objects: 10, Concept: 0.9, Colour: 0.95}},
		Language: []SkillScore{{Skill: "yesno", N: 4, Right: 3, Accuracy: 0.75}},
		Align:    &AlignScore{Scenes: 5, ObjectWord: 0.6, YesNoImage: 0.8, YesNoBlack: 0.5},
	}
	out := map[string]string{}
	for stage, v := range map[string]any{"vision": want.Tower, "language": want.Language, "pretrain": want.Align} {
		out[stage] = filepath.Join(dir, stage)
		if err := os.Mkdir(out[stage], 0o755); err != nil {
			t.Fatal(err)
		}
		if err := pipeline.WriteJSON(filepath.Join(out[stage], evalFile), v); err != nil {
			t.Fatal(err)
		}
	}
	got, err := ReadParts(out)
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("ReadParts = %+v, %v; want %+v", got, err, want)
	}
	if err := os.Remove(filepath.Join(out["pretrain"], evalFile)); err != nil {
		t.Fatal(err)
	}
	delete(out, "vision")
	if got, err := ReadParts(out); err != nil || got.Align != nil || got.Tower != nil || got.Language == nil {
		t.Errorf("without the vision stage and the alignment's eval.json: %+v, %v; want the language part alone", got, err)
	}
	if err := os.Remove(filepath.Join(out["language"], evalFile)); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadParts(out); err == nil {
		t.Error("a language stage without eval.json read without an error")
	}
}
