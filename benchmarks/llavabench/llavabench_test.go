package llavabench

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

func TestParseScore(t *testing.T) {
	tests := []struct {
		in   string
		want [2]float64
	}{
		{"8 7", [2]float64{8, 7}},
		{"9,6", [2]float64{9, 6}},
		{"10 9\nAssistant 1 ...", [2]float64{10, 9}},
		{"8  7", [2]float64{-1, -1}}, // double space: three fields
		{"8, 7", [2]float64{-1, -1}}, // ", " becomes two spaces
		{"8.5 7.5", [2]float64{8.5, 7.5}},
		{"Score: 8 7", [2]float64{-1, -1}},
		{"eight seven", [2]float64{-1, -1}},
		{"", [2]float64{-1, -1}},
	}
	for _, tt := range tests {
		if got := ParseScore(tt.in); got != tt.want {
			t.Errorf("ParseScore(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

// The test vector of scoring.md §11.
func TestVector(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "model-eval1.jsonl")
	os.WriteFile(f, []byte(`{"question_id": 0, "category": "conv", "content": "8 7\nok"}
{"question_id": 1, "category": "detail", "content": "9,6\nok"}
{"question_id": 2, "category": "complex", "content": "10 9\nok"}
{"question_id": 3, "category": "complex", "content": "8  7\nok"}
`), 0o644)
	r, err := Score("", "", f)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]float64{"all": 80.8, "complex": 88.9, "conv": 87.5, "detail": 66.7}
	for c, w := range want {
		if got := r.Runs[0].Categories[c].Relative; got != w {
			t.Errorf("%s = %v, want %v", c, got, w)
		}
	}
	if r.Score != 80.8 {
		t.Errorf("score %v", r.Score)
	}
}

func TestOfficialFiles(t *testing.T) {
	dir := filepath.Join(testenv.LlavaEval(t), "llava-bench-in-the-wild")
	var want map[string]struct {
		PerReviewFile   map[string]map[string][3]float64 `json:"per_review_file"`
		MeanAllRelative float64                          `json:"mean_all_relative"`
		Score           float64
	}
	testenv.Expected(t, "llava-bench-in-the-wild", &want)
	for model, w := range want {
		r, err := Score("", filepath.Join(dir, "answers", model+".jsonl"), filepath.Join(dir, "reviews"))
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Runs) != len(w.PerReviewFile) {
			t.Fatalf("%s: %d runs, want %d", model, len(r.Runs), len(w.PerReviewFile))
		}
		for _, run := range r.Runs {
			rel, _ := filepath.Rel(dir, run.File)
			wf := w.PerReviewFile[filepath.ToSlash(rel)]
			if wf == nil {
				t.Errorf("%s: unexpected review file %s", model, rel)
			}
			for c, triple := range wf {
				s := run.Categories[c]
				if got := [3]float64{s.Relative, s.GPT4, s.Model}; got != triple {
					t.Errorf("%s %s: %v, want %v", rel, c, got, triple)
				}
			}
		}
		if math.Abs(r.Score-w.MeanAllRelative) > 1e-9 || math.Round(r.Score*10)/10 != w.Score {
			t.Errorf("%s: score %v, want %v (%v)", model, r.Score, w.MeanAllRelative, w.Score)
		}
	}
}

// answersAndReviews writes an answer file of two questions (answer ids x0,
// x1) named name and an empty reviews folder beside it.
func answersAndReviews(t *testing.T, name string) (ans, revs string) {
	dir := t.TempDir()
	ans = filepath.Join(dir, name)
	os.WriteFile(ans, []byte(`{"question_id": 0, "text": "a", "answer_id": "x0"}
{"question_id": 1, "text": "b", "answer_id": "x1"}
`), 0o644)
	revs = filepath.Join(dir, "reviews")
	os.MkdirAll(revs, 0o755)
	return ans, revs
}

func TestMissingJudgeOutputs(t *testing.T) {
	ans, revs := answersAndReviews(t, "m.jsonl")
	if _, err := Score("", ans, revs); !errors.Is(err, input.ErrMissing) || !strings.Contains(err.Error(), "m-eval<k>.jsonl") {
		t.Errorf("no review files: %v", err)
	}
	f := filepath.Join(revs, "m-eval1.jsonl")
	for _, tt := range []struct {
		name, body string
		kind       error
	}{
		{"missing review", `{"question_id": 0, "category": "conv", "tuple": [8, 7], "answer2_id": "x0"}` + "\n", input.ErrMissing},
		{"other answers", `{"question_id": 0, "category": "conv", "tuple": [8, 7], "answer2_id": "y0"}` + "\n" + `{"question_id": 1, "category": "conv", "tuple": [8, 7]}` + "\n", input.ErrInvalid},
		{"unknown question", `{"question_id": 5, "category": "conv", "tuple": [8, 7]}` + "\n", input.ErrUnknown},
		{"duplicate", `{"question_id": 0, "category": "conv", "tuple": [8, 7]}` + "\n" + `{"question_id": 0, "category": "conv", "tuple": [8, 7]}` + "\n", input.ErrDuplicate},
		{"empty", "", input.ErrEmpty},
		{"zero gpt4 mean", `{"question_id": 0, "category": "conv", "tuple": [0, 7]}` + "\n" + `{"question_id": 1, "category": "conv", "tuple": [0, 7]}` + "\n", input.ErrInvalid},
	} {
		os.WriteFile(f, []byte(tt.body), 0o644)
		if _, err := Score("", ans, revs); !errors.Is(err, tt.kind) {
			t.Errorf("%s: %v, want %v", tt.name, err, tt.kind)
		}
	}
}

// TestReviewsNamedAfterTheModel: reviews named after the model rather than
// the answers file are taken when the folder holds one model's reviews (the
// official summariser takes the files it is given), and refused, naming the
// models, when it holds several.
func TestReviewsNamedAfterTheModel(t *testing.T) {
	ans, revs := answersAndReviews(t, "answers.jsonl")
	body := `{"question_id": 0, "category": "conv", "tuple": [8, 6], "answer2_id": "x0"}` + "\n" + `{"question_id": 1, "category": "conv", "tuple": [8, 8], "answer2_id": "x1"}` + "\n"
	os.WriteFile(filepath.Join(revs, "llava-v1.5-7b-eval1.jsonl"), []byte(body), 0o644)
	r, err := Score("", ans, revs)
	if err != nil || len(r.Runs) != 1 || math.Abs(r.Score-87.5) > 1e-9 {
		t.Fatalf("one model's reviews: %+v, %v; want one run scoring 87.5", r, err)
	}
	os.WriteFile(filepath.Join(revs, "llava-v1.5-13b-eval1.jsonl"), []byte(body), 0o644)
	if _, err := Score("", ans, revs); err == nil || !strings.Contains(err.Error(), "llava-v1.5-13b, llava-v1.5-7b") {
		t.Errorf("two models' reviews: %v, want a refusal naming both", err)
	}
	os.WriteFile(filepath.Join(revs, "answers-eval1.jsonl"), []byte(body), 0o644)
	if _, err := Score("", ans, revs); err != nil {
		t.Errorf("reviews named after the answers beside other models': %v", err)
	}
}
