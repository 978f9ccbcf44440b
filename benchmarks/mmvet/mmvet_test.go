package mmvet

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tive-dev/tive/benchmarks/internal/input"
	"github.com/tive-dev/tive/benchmarks/internal/testenv"
)

// The test vector of scoring.md §11.
func TestVector(t *testing.T) {
	keys := []string{"v1_0", "v1_1", "v1_2", "v1_3"}
	data := map[string]Item{
		"v1_0": {Capability: []string{"rec"}},
		"v1_1": {Capability: []string{"ocr", "math"}},
		"v1_2": {Capability: []string{"rec", "ocr"}},
		"v1_3": {Capability: []string{"rec", "know"}},
	}
	g := []Grade{{Score: []float64{1}}, {Score: []float64{0.5}}, {Score: []float64{0}}, {Score: []float64{0.3}}}
	r := Evaluate(keys, data, keys, g, 1)
	if r.Total != 45 {
		t.Errorf("total %v, want 45.0", r.Total)
	}
	want := map[string]float64{"rec": 43.3, "ocr": 25, "math": 50, "know": 30}
	for c, w := range want {
		if r.Capability[c] != w {
			t.Errorf("%s = %v, want %v", c, r.Capability[c], w)
		}
	}
	if r.Integration["math_ocr"] != 50 || r.Integration["ocr_rec"] != 0 || r.Integration["rec"] != 100 {
		t.Errorf("integration %v", r.Integration)
	}
}

func TestOfficialFiles(t *testing.T) {
	dir := filepath.Join(testenv.LlavaEval(t), "mm-vet")
	var want map[string]map[string]any
	testenv.Expected(t, "mm-vet", &want)
	for _, model := range []string{"llava-v1.5-7b", "llava-v1.5-13b"} {
		for _, runs := range []string{"1runs", "3runs"} {
			w := want[model][runs].(map[string]any)
			grade := filepath.Join(dir, "results", model+"_gpt-4-grade-"+runs+".json")
			r, err := Score("", filepath.Join(dir, "answers", model+".jsonl"), grade)
			if err != nil {
				t.Fatal(err)
			}
			name := model + " " + runs
			if r.Total != w["total"].(float64) || r.Std != w["std"].(float64) {
				t.Errorf("%s: total %v std %v, want %v %v", name, r.Total, r.Std, w["total"], w["std"])
			}
			var runsStr []string
			for _, v := range r.Runs {
				runsStr = append(runsStr, fmt.Sprint(v))
			}
			if got := "[" + strings.Join(runsStr, ", ") + "]"; got != w["runs"] {
				t.Errorf("%s: runs %s, want %s", name, got, w["runs"])
			}
			for c, v := range w["capability"].(map[string]any) {
				if r.Capability[c] != v.(float64) {
					t.Errorf("%s: capability %s = %v, want %v", name, c, r.Capability[c], v)
				}
			}
			ci := w["capability_integration"].(map[string]any)
			if len(ci) != len(r.Integration) {
				t.Errorf("%s: %d integrations, want %d", name, len(r.Integration), len(ci))
			}
			for c, v := range ci {
				if r.Integration[c] != v.(float64) {
					t.Errorf("%s: integration %s = %v, want %v", name, c, r.Integration[c], v)
				}
			}
		}
	}
	// The published headlines: 7B over 3 runs, 13B over 1 run.
	r7, err := Score("", filepath.Join(dir, "answers", "llava-v1.5-7b.jsonl"), dir)
	if err != nil || r7.Total != 31.1 || r7.NumRun != 3 {
		t.Errorf("7B from the folder: %v %v", r7, err)
	}
	// Without an answer file, a folder of two models' grades is ambiguous.
	if _, err := Score("", "", dir); err == nil || !strings.Contains(err.Error(), "2 models") {
		t.Errorf("ambiguous folder: %v", err)
	}
}

func TestBadInput(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "mm-vet.json"), []byte(`{"v1_0": {"capability": ["rec"]}, "v1_1": {"capability": ["ocr"]}}`), 0o644)
	ans := filepath.Join(dir, "m.jsonl")
	os.WriteFile(ans, []byte(`{"question_id": 0, "text": "a"}`+"\n"), 0o644)
	grade := filepath.Join(dir, "m_gpt-4-grade-2runs.json")
	for _, tt := range []struct {
		name, body string
		kind       error
	}{
		{"missing item", `{"v1_0": {"score": [1, 1]}}`, input.ErrMissing},
		{"missing run", `{"v1_0": {"score": [1, 1]}, "v1_1": {"score": [1]}}`, input.ErrMissing},
		{"unknown item", `{"v1_0": {"score": [1, 1]}, "v1_1": {"score": [1, 1]}, "v1_9": {"score": [1, 1]}}`, input.ErrUnknown},
		{"empty", `{}`, input.ErrEmpty},
	} {
		os.WriteFile(grade, []byte(tt.body), 0o644)
		if _, err := Score("", ans, dir); !errors.Is(err, tt.kind) {
			t.Errorf("%s: %v, want %v", tt.name, err, tt.kind)
		}
	}
	os.WriteFile(grade, []byte(`{"v1_0": {"score": [1, 0.5]},`+"\n"+`"v1_1": {"score": [1, ]}}`), 0o644)
	var se *input.SyntaxError
	if _, err := Score("", ans, dir); !errors.As(err, &se) || se.Line != 2 {
		t.Errorf("malformed: %v", err)
	}
	os.WriteFile(grade, []byte(`{"v1_0": {"score": [1, 0.5]}, "v1_1": {"score": [0, 0.5]}}`), 0o644)
	r, err := Score("", ans, dir)
	if err != nil || r.Total != 50 || r.Runs[0] != 50 || r.Runs[1] != 50 || r.Capability["rec"] != 75 {
		t.Errorf("good: %+v %v", r, err)
	}
	os.WriteFile(ans, []byte(`{"question_id": 7, "text": "a"}`+"\n"), 0o644)
	if _, err := Score("", ans, dir); !errors.Is(err, input.ErrUnknown) {
		t.Errorf("unknown answer: %v", err)
	}
	os.Remove(grade)
	if _, err := Score("", ans, dir); !errors.Is(err, input.ErrMissing) {
		t.Errorf("no grade file: %v", err)
	}
}

// TestGradesNamedAfterTheModel: a grade file named after the model rather
// than the answers file is taken when the folder holds one model's grades,
// and refused when it holds several none of which is the answers'.
func TestGradesNamedAfterTheModel(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "mm-vet.json"), []byte(`{"v1_0": {"capability": ["rec"]}, "v1_1": {"capability": ["ocr"]}}`), 0o644)
	ans := filepath.Join(dir, "answers.jsonl")
	os.WriteFile(ans, []byte(`{"question_id": 0, "text": "a"}`+"\n"), 0o644)
	body := []byte(`{"v1_0": {"score": [1, 0.5]}, "v1_1": {"score": [0, 0.5]}}`)
	os.WriteFile(filepath.Join(dir, "llava-v1.5-7b_gpt-4-grade-2runs.json"), body, 0o644)
	if r, err := Score("", ans, dir); err != nil || r.Total != 50 || filepath.Base(r.GradeFile) != "llava-v1.5-7b_gpt-4-grade-2runs.json" {
		t.Fatalf("one model's grades: %+v, %v", r, err)
	}
	os.WriteFile(filepath.Join(dir, "llava-v1.5-13b_gpt-4-grade-2runs.json"), body, 0o644)
	if _, err := Score("", ans, dir); err == nil || !strings.Contains(err.Error(), "2 models") {
		t.Errorf("two models' grades: %v, want a refusal", err)
	}
	os.WriteFile(filepath.Join(dir, "answers_gpt-4-grade-2runs.json"), body, 0o644)
	if r, err := Score("", ans, dir); err != nil || filepath.Base(r.GradeFile) != "answers_gpt-4-grade-2runs.json" {
		t.Errorf("grades named after the answers beside other models': %+v, %v", r, err)
	}
}
