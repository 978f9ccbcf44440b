package scienceqa

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tive-dev/tive/benchmarks/internal/input"
	"github.com/tive-dev/tive/benchmarks/internal/testenv"
)

func TestParseAnswer(t *testing.T) {
	tests := []struct{ text, want string }{
		{"A", "A"},
		{"E", "E"},
		{"F", Failed},
		{"a", Failed},
		{"B. apostrophe", "B"},
		{"B.apostrophe", Failed},
		{"F. x", Failed},
		{"The answer is C.", "C"},
		{"The answer is B. The answer is B.", Failed}, // two matches
		{"The answer is D!", "D"},                     // '.' is any character
		{"The answer is D", Failed},                   // needs one more character
		{"The answer is D\n", Failed},                 // '.' does not match a newline
		{"The answer is Z.", "Z"},
		{"(B)", Failed},
		{"", Failed},
		{"B. ", "B"},
	}
	for _, tt := range tests {
		if got := ParseAnswer(tt.text); got != tt.want {
			t.Errorf("ParseAnswer(%q) = %q, want %q", tt.text, got, tt.want)
		}
	}
	if PredIndex("E", 2) != -1 || PredIndex("B", 2) != 1 || PredIndex(Failed, 4) != -1 || PredIndex("E", 7) != 4 {
		t.Error("PredIndex")
	}
}

func writeJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// The test vector of scoring.md §5.
func TestVector(t *testing.T) {
	dir := t.TempDir()
	type prob struct {
		n, answer int
		image     bool
		pred      string // "-" for missing
	}
	probs := []prob{
		{2, 0, true, "A"},
		{2, 1, false, "B. apostrophe"},
		{3, 2, true, "The answer is C."},
		{4, 1, true, "The answer is B. The answer is B."},
		{2, 0, false, "E"},
		{4, 0, true, "a"},
		{4, 3, true, "The answer is D!"},
		{2, 0, true, "-"},
		{3, 1, false, "(B)"},
	}
	problems := map[string]any{}
	var pids []string
	var lines strings.Builder
	for i, p := range probs {
		pid := fmt.Sprintf("p%d", i+1)
		pids = append(pids, pid)
		choices := make([]string, p.n)
		for j := range choices {
			choices[j] = fmt.Sprint("c", j)
		}
		var img any
		prompt := "Q"
		if p.image {
			img = "image.png"
			prompt = "<image>\nQ"
		}
		problems[pid] = map[string]any{"choices": choices, "answer": p.answer, "image": img, "split": "test"}
		if p.pred != "-" {
			b, _ := json.Marshal(map[string]any{"question_id": pid, "prompt": prompt, "text": p.pred})
			lines.Write(append(b, '\n'))
		}
	}
	writeJSON(t, filepath.Join(dir, "problems.json"), problems)
	writeJSON(t, filepath.Join(dir, "pid_splits.json"), map[string]any{"test": pids})
	ans := filepath.Join(dir, "answers.jsonl")
	os.WriteFile(ans, []byte(lines.String()), 0o644)
	r, err := Score("", ans, dir)
	if err != nil {
		t.Fatal(err)
	}
	if r.Total != 9 || r.Correct != 4 || r.IMGTotal != 5 || r.IMGCorrect != 3 || r.Missing != 1 {
		t.Errorf("report %+v", r)
	}
	if got := fmt.Sprintf("%.2f %.2f", r.Accuracy(), r.IMGAccuracy()); got != "44.44 60.00" {
		t.Errorf("accuracies %s, want 44.44 60.00", got)
	}

	// Answers outside the split (an unknown id, a numeric one) are ignored
	// and counted, as eval_science_qa.py looks predictions up by split id.
	extra := `{"question_id": "p99", "prompt": "<image>", "text": "A"}` + "\n" + `{"question_id": 1, "prompt": "<image>", "text": "A"}` + "\n"
	os.WriteFile(ans, []byte(lines.String()+extra), 0o644)
	if r2, err := Score("", ans, dir); err != nil || r2.Ignored != 2 || r2.Correct != r.Correct || r2.IMGTotal != r.IMGTotal || r2.Total != r.Total {
		t.Errorf("with two answers outside the split: %+v, %v; want the same counts and 2 ignored", r2, err)
	}

	// Repeated predictions: the last one for an id counts, as the script's
	// dict; here every line comes twice, so the counts stay.
	os.WriteFile(ans, []byte(lines.String()+lines.String()), 0o644)
	if r3, err := Score("", ans, dir); err != nil || r3.Replaced != 8 || r3.Correct != r.Correct || r3.IMGTotal != r.IMGTotal || len(r3.Warnings()) != 1 {
		t.Errorf("every prediction twice: %+v, %v; want the same counts and 8 replaced", r3, err)
	}

	// Bad input.
	for _, tt := range []struct {
		name, body string
		kind       error
	}{
		{"only answers outside the split", `{"question_id": "p99", "prompt": "<image>", "text": "A"}` + "\n" + `{"question_id": 1, "prompt": "<image>", "text": "A"}` + "\n", input.ErrMissing},
		{"empty", "", input.ErrEmpty},
		{"no image predictions", `{"question_id": "p2", "prompt": "Q", "text": "B"}` + "\n", input.ErrMissing},
	} {
		os.WriteFile(ans, []byte(tt.body), 0o644)
		if _, err := Score("", ans, dir); !errors.Is(err, tt.kind) {
			t.Errorf("%s: error %v, want %v", tt.name, err, tt.kind)
		}
	}
	os.WriteFile(ans, []byte(`{"question_id": "p1", "text": "A"}`+"\n"), 0o644)
	var se *input.SyntaxError
	if _, err := Score("", ans, dir); !errors.As(err, &se) || !strings.Contains(err.Error(), `answers.jsonl:1: missing "prompt"`) {
		t.Errorf("missing prompt: %v", err)
	}
}

func TestOfficialFiles(t *testing.T) {
	dir := filepath.Join(testenv.LlavaEval(t), "scienceqa")
	var want struct {
		Total, Correct, Img_correct, Img_total int
		Accuracy, Img_accuracy                 float64
	}
	testenv.Expected(t, "scienceqa", &want)
	r, err := Score(filepath.Join(dir, "llava_test_CQM-A.json"), filepath.Join(dir, "answers", "llava-v1.5-13b.jsonl"), dir)
	if err != nil {
		t.Fatal(err)
	}
	if r.Total != want.Total || r.Correct != want.Correct || r.IMGCorrect != want.Img_correct || r.IMGTotal != want.Img_total {
		t.Errorf("report %d %d %d %d, want %+v", r.Total, r.Correct, r.IMGCorrect, r.IMGTotal, want)
	}
	if math.Abs(r.Accuracy()-want.Accuracy) > 1e-9 || math.Abs(r.IMGAccuracy()-want.Img_accuracy) > 1e-9 {
		t.Errorf("accuracy %v img %v", r.Accuracy(), r.IMGAccuracy())
	}
	printed := fmt.Sprintf("Total: %d, Correct: %d, Accuracy: %.2f%%, IMG-Accuracy: %.2f%%", r.Total, r.Correct, r.Accuracy(), r.IMGAccuracy())
	if printed != "Total: 4241, Correct: 3155, Accuracy: 74.39%, IMG-Accuracy: 71.64%" {
		t.Errorf("printed %q", printed)
	}
	// Every parsed index equals LLaVA's own _result.json.
	var ref struct {
		Results map[string]int `json:"results"`
	}
	if err := input.JSONFile(filepath.Join(dir, "answers", "llava-v1.5-13b_result.json"), &ref); err != nil {
		t.Fatal(err)
	}
	if len(ref.Results) != len(r.Results) {
		t.Errorf("%d results, want %d", len(r.Results), len(ref.Results))
	}
	for pid, idx := range ref.Results {
		if r.Results[pid] != idx {
			t.Errorf("pid %s: index %d, want %d", pid, r.Results[pid], idx)
		}
	}
}
