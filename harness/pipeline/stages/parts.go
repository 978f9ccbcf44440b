package stages

import (
	"errors"
	"io/fs"
	"path/filepath"

	"github.com/tive-dev/tive/harness/pipeline"
)

// evalFile is what the pretraining stages measured of the part they trained:
// the vision stage's TowerEval rows, the language stage's SkillScore rows,
// the pretrain stage's AlignScore (word alignment only).
const evalFile = "eval.json"

// Parts is what the pretraining stages of a run measured of the parts it
// starts from (each stage's eval.json): the tower's linear probes per art
// style, the language model's exact-match accuracy per skill, and what the
// aligned base model reads. A part the run does not pretrain, or whose stage
// measured nothing, is empty (nil).
type Parts struct {
	Tower    []TowerScore `json:"tower,omitempty"`
	Language []SkillScore `json:"language,omitempty"`
	Align    *AlignScore  `json:"align,omitempty"`
}

// ReadParts reads the eval.json of a run's vision, language and pretrain
// stage outputs; outputs maps a stage's name to its output folder (a
// pipeline.RunResult's Outputs). Stages absent from outputs, and a pretrain
// stage that aligned on captions (no eval.json), leave their part nil.
func ReadParts(outputs map[string]string) (Parts, error) {
	var p Parts
	read := func(stage string, v any) (bool, error) {
		dir, ok := outputs[stage]
		if !ok {
			return false, nil
		}
		err := pipeline.ReadJSON(filepath.Join(dir, evalFile), v)
		if stage == "pretrain" && errors.Is(err, fs.ErrNotExist) {
			return false, nil
		}
		return err == nil, err
	}
	if _, err := read("vision", &p.Tower); err != nil {
		return p, err
	}
	if _, err := read("language", &p.Language); err != nil {
		return p, err
	}
	var a AlignScore
	ok, err := read("pretrain", &a)
	if ok {
		p.Align = &a
	}
	return p, err
}
