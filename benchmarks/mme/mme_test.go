package mme

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tive-dev/tive/benchmarks/internal/input"
	"github.com/tive-dev/tive/benchmarks/internal/testenv"
)

func TestParse(t *testing.T) {
	tests := []struct{ pred, want string }{
		{"Yes", "yes"},
		{"No", "no"},
		{"yes.", "yes"},
		{"Not sure", "no"},
		{"none", "no"},
		{"nah", "other"},
		{"  no", "no"},
		{"  yes", "other"}, // only the first four characters are examined
		{" yes", "yes"},
		{"YES", "yes"},
		{"NO", "no"},
		{"yesno", "yes"},
		{"The color is red", "other"},
		{"Yes, it is", "yes"},
		{"No, it is not", "no"},
		{"", "other"},
		{"n", "other"},
		{"kno", "no"},
		{"ééno", "no"}, // Python slices code points, not bytes
		{"éééyes", "other"},
	}
	for _, tt := range tests {
		if got := Parse(tt.pred); got != tt.want {
			t.Errorf("Parse(%q) = %q, want %q", tt.pred, got, tt.want)
		}
	}
}

// The test vector of scoring.md §2: (gt, pred) pairs per subtask.
func TestVector(t *testing.T) {
	pairs := map[string][][2]string{
		"existence":             {{"Yes", "Yes"}, {"No", "No"}, {"Yes", "Yes"}, {"No", "Yes"}},
		"count":                 {{"Yes", "yes."}, {"No", "no"}},
		"position":              {{"Yes", "Not sure"}, {"No", "No"}},
		"color":                 {{"Yes", "The color is red"}, {"No", "none"}},
		"posters":               {{"Yes", " yes"}, {"No", "  no"}},
		"celebrity":             {{"Yes", "Yes, it is"}, {"No", "No, it is not"}},
		"scene":                 {{"Yes", "No"}, {"No", "Yes"}},
		"landmark":              {{"Yes", "yes"}, {"No", "no"}},
		"artwork":               {{"Yes", "yes"}, {"No", "yes"}},
		"OCR":                   {{"Yes", "YES"}, {"No", "NO"}},
		"commonsense_reasoning": {{"Yes", "yes"}, {"No", "no"}},
		"numerical_calculation": {{"Yes", "no"}, {"No", "no"}},
		"text_translation":      {{"Yes", "yes"}, {"No", "no"}},
		"code_reasoning":        {{"Yes", "yesno"}, {"No", "nah"}},
	}
	want := map[string]float64{"existence": 125, "count": 200, "position": 50, "color": 50, "posters": 200,
		"celebrity": 200, "scene": 0, "landmark": 200, "artwork": 50, "OCR": 200,
		"commonsense_reasoning": 200, "numerical_calculation": 50, "text_translation": 200, "code_reasoning": 50}
	conv := map[string][]Line{}
	for cat, ps := range pairs {
		for i, p := range ps {
			img := string(rune('a'+i/2)) + ".txt"
			conv[cat] = append(conv[cat], Line{Image: img, Question: "q", GT: p[0], Pred: p[1]})
		}
	}
	r, err := Calculated("answers.jsonl", conv)
	if err != nil {
		t.Fatal(err)
	}
	m := r.Metrics()
	for cat, w := range want {
		if m[cat] != w {
			t.Errorf("%s = %v, want %v", cat, m[cat], w)
		}
	}
	if m["existence/acc"] != 0.75 || m["existence/acc_plus"] != 0.5 {
		t.Errorf("existence acc %v acc+ %v", m["existence/acc"], m["existence/acc_plus"])
	}
	if r.Perception != 1275 || r.Cognition != 500 {
		t.Errorf("perception %v cognition %v, want 1275 500", r.Perception, r.Cognition)
	}
}

func TestOfficialFiles(t *testing.T) {
	dir := filepath.Join(testenv.LlavaEval(t), "MME")
	var want struct {
		Perception, Cognition float64
		Subtasks              map[string]float64
	}
	testenv.Expected(t, "mme", &want)
	answers := filepath.Join(dir, "answers", "llava-v1.5-13b.jsonl")
	r, err := Score(filepath.Join(dir, "llava_mme.jsonl"), answers, filepath.Join(dir, "MME_Benchmark_release_version"))
	if err != nil {
		t.Fatal(err)
	}
	m := r.Metrics()
	for name, w := range want.Subtasks {
		if math.Abs(m[name]-w) > 1e-9 {
			t.Errorf("%s = %v, want %v", name, m[name], w)
		}
	}
	if math.Abs(r.Perception-want.Perception) > 1e-9 || math.Abs(r.Cognition-want.Cognition) > 1e-9 {
		t.Errorf("perception %v cognition %v, want %v %v", r.Perception, r.Cognition, want.Perception, want.Cognition)
	}

	// The converted eval-tool files are byte-identical to LLaVA's.
	as, err := input.Answers(answers, true)
	if err != nil {
		t.Fatal(err)
	}
	gt, err := ReadGT(filepath.Join(dir, "MME_Benchmark_release_version"))
	if err != nil {
		t.Fatal(err)
	}
	conv, err := Convert(answers, as, gt)
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	if err := WriteConverted(out, conv); err != nil {
		t.Fatal(err)
	}
	ref := filepath.Join(dir, "eval_tool", "answers", "llava-v1.5-13b")
	entries, err := os.ReadDir(ref)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		a, _ := os.ReadFile(filepath.Join(ref, e.Name()))
		b, err := os.ReadFile(filepath.Join(out, e.Name()))
		if err != nil || string(a) != string(b) {
			t.Errorf("converted %s differs from LLaVA's (err %v)", e.Name(), err)
		}
	}
}

func TestBadInput(t *testing.T) {
	dir := t.TempDir()
	gtDir := filepath.Join(dir, "MME")
	for _, cat := range append(append([]string{}, Perception...), Cognition...) {
		os.MkdirAll(filepath.Join(gtDir, cat), 0o755)
		os.WriteFile(filepath.Join(gtDir, cat, "1.txt"), []byte("Q1? Please answer yes or no.\tYes\nQ2?  Please answer yes or no.\tNo\n"), 0o644)
	}
	line := func(cat, q, text string) string {
		return `{"question_id": "` + cat + `/1.png", "prompt": "` + q + `\nAnswer the question using a single word or phrase.", "text": "` + text + `"}` + "\n"
	}
	var good strings.Builder
	for _, cat := range append(append([]string{}, Perception...), Cognition...) {
		good.WriteString(line(cat, "Q1?", "Yes"))
		good.WriteString(line(cat, "Q2?", "No")) // found by the double-space retry
	}
	write := func(body string) string {
		p := filepath.Join(t.TempDir(), "answers.jsonl")
		os.WriteFile(p, []byte(body), 0o644)
		return p
	}
	r, err := Score("", write(good.String()), gtDir)
	if err != nil {
		t.Fatal(err)
	}
	if r.Perception != 2000 || r.Cognition != 800 {
		t.Errorf("perfect answers: %v %v", r.Perception, r.Cognition)
	}
	g := good.String()
	// As the official flow: a repeated pair of answers is written and scored
	// again.
	r, err = Score("", write(g+line("existence", "Q1?", "Yes")+line("existence", "Q2?", "Yes")), gtDir)
	if err != nil {
		t.Fatalf("repeated answers: %v", err)
	}
	if w := strings.Join(r.Warnings(), "\n"); r.Repeated != 2 || r.Subtasks[0].Questions != 4 || r.Subtasks[0].Acc != 0.75 || r.Subtasks[0].AccPlus != 0.5 ||
		!strings.Contains(w, "2 answers repeat a question already answered") {
		t.Errorf("repeated answers: %+v %v %q", r, err, r.Warnings())
	}
	// calculation.py pairs lines by position, whatever their images.
	s, err := Calculate("a.jsonl", "existence", []Line{{Image: "1", GT: "yes", Pred: "yes"}, {Image: "2", GT: "no", Pred: "no"}, {Image: "1", GT: "no", Pred: "yes"}, {Image: "2", GT: "yes", Pred: "yes"}})
	if err != nil || s.Mispaired != 2 || s.Correct != 3 || s.BothRight != 1 || s.Score != 125 {
		t.Errorf("mispaired lines: %+v %v", s, err)
	}
	tests := []struct {
		name, body string
		kind       error
		msg        string
	}{
		{"unknown question", strings.Replace(g, "Q1?", "Q9?", 1), input.ErrUnknown, "answers.jsonl:1:"},
		{"missing subtask", strings.Join(strings.SplitAfter(g, "\n")[2:], ""), input.ErrMissing, `"existence"`},
		{"odd answers", strings.Join(strings.SplitAfter(g, "\n")[1:], ""), input.ErrDuplicate, ""},
		{"tab in answer", strings.Replace(g, `"Yes"`, `"Yes\tNo"`, 1), input.ErrInvalid, "tab or line break"},
		{"numeric id", `{"question_id": 3, "prompt": "x", "text": "Yes"}` + "\n", input.ErrInvalid, "must be a string"},
		{"empty", "", input.ErrEmpty, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Score("", write(tt.body), gtDir)
			if err == nil {
				t.Fatal("no error")
			}
			if tt.name == "odd answers" {
				// One answer removed from "existence": refused as missing.
				if !errors.Is(err, input.ErrMissing) {
					t.Errorf("error %v", err)
				}
				return
			}
			if !errors.Is(err, tt.kind) || !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("error %v, want %v mentioning %q", err, tt.kind, tt.msg)
			}
		})
	}
}
