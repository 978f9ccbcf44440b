package textvqa

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tive-dev/tive/benchmarks/internal/input"
)

func TestQuestionFromPrompt(t *testing.T) {
	tests := []struct {
		prompt, want string
		ok           bool
	}{
		{"What is the brand of this camera?\nReference OCR token: DAKOTA, DIGITAL\nAnswer the question using a single word or phrase.", "what is the brand of this camera?", true},
		{"Reference OCR token: A, B\nWhat Is It?\nAnswer briefly.", "what is it?", true},
		{"OCR tokens: a b Question: What is X? Short answer:", "what is x?", true},
		{"OCR tokens: no question here", "", false},
		{"What?\nAnswer the question using a single word or phrase.", "what?", true},
		{"one line", "", false},
		{"a\nb\nc\nd", "", false},
		{"a\nb\nc", "", false}, // 3 lines without the OCR line
	}
	for _, tt := range tests {
		got, ok := QuestionFromPrompt(tt.prompt)
		if got != tt.want || ok != tt.ok {
			t.Errorf("QuestionFromPrompt(%q) = %q, %v; want %q, %v", tt.prompt, got, ok, tt.want, tt.ok)
		}
	}
}

func rep(s string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = s
	}
	return out
}

type ann struct {
	ImageID  string   `json:"image_id"`
	Question string   `json:"question"`
	Answers  []string `json:"answers"`
}

func files(t *testing.T, anns []ann, answers []map[string]any) (string, string) {
	t.Helper()
	dir := t.TempDir()
	b, _ := json.Marshal(map[string]any{"data": anns})
	af := filepath.Join(dir, "TextVQA_0.5.1_val.json")
	os.WriteFile(af, b, 0o644)
	var lines strings.Builder
	for _, a := range answers {
		l, _ := json.Marshal(a)
		lines.Write(append(l, '\n'))
	}
	pf := filepath.Join(dir, "answers.jsonl")
	os.WriteFile(pf, []byte(lines.String()), 0o644)
	return af, pf
}

func prompt(q string) string {
	return q + "\nReference OCR token: X\nAnswer the question using a single word or phrase."
}

// The end-to-end vector of scoring.md §7: printed "Accuracy: 50.00%".
func TestEndToEnd(t *testing.T) {
	anns := []ann{
		{"img1", "what is the brand of this camera?", append(rep("dakota", 3), rep("dakota digital", 7)...)},
		{"img2", "what city is this?", append(rep("copenhagen", 8), rep("drupalcon", 2)...)},
		{"img3", "what beer is this?", rep("ale", 10)},
	}
	answers := []map[string]any{
		{"question_id": "img1", "prompt": prompt("What is the brand of this camera?"), "text": "Dakota"},
		{"question_id": "img2", "prompt": prompt("What city is this?"), "text": "Drupalcon"},
		{"question_id": "img3", "prompt": prompt("What beer is this?"), "text": "Stone"},
	}
	af, pf := files(t, anns, answers)
	r, err := Score("", pf, af)
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprintf("Accuracy: %.2f%%", r.Accuracy); got != "Accuracy: 50.00%" {
		t.Errorf("printed %q", got)
	}

	// Bad input.
	for _, tt := range []struct {
		name    string
		answers []map[string]any
		kind    error
	}{
		{"unknown", []map[string]any{{"question_id": "img9", "prompt": prompt("What beer is this?"), "text": "x"}}, input.ErrUnknown},
		{"numeric id", []map[string]any{{"question_id": 3, "prompt": prompt("What beer is this?"), "text": "x"}}, input.ErrUnknown},
		{"bad prompt", []map[string]any{{"question_id": "img3", "prompt": "What beer is this?", "text": "x"}}, input.ErrInvalid},
	} {
		_, pf := files(t, anns, tt.answers)
		if _, err := Score("", pf, af); !errors.Is(err, tt.kind) {
			t.Errorf("%s: %v, want %v", tt.name, err, tt.kind)
		}
	}
	// As eval_textvqa.py: a repeated answer is scored again, and the mean is
	// over the answers there are; the question file tells what is missing.
	qf := filepath.Join(t.TempDir(), "q.jsonl")
	var q strings.Builder
	for _, a := range answers {
		l, _ := json.Marshal(map[string]any{"question_id": a["question_id"], "text": a["prompt"]})
		q.Write(append(l, '\n'))
	}
	os.WriteFile(qf, []byte(q.String()), 0o644)
	_, pf = files(t, anns, []map[string]any{answers[0], answers[1], answers[0]})
	r, err = Score(qf, pf, af)
	if w := strings.Join(r.Warnings(), "\n"); err != nil || r.N != 3 || r.Repeated != 1 || r.Unanswered != 1 ||
		fmt.Sprintf("%.4f", r.Accuracy) != fmt.Sprintf("%.4f", 100*(2*Accuracy("Dakota", anns[0].Answers)+Accuracy("Drupalcon", anns[1].Answers))/3) ||
		!strings.Contains(w, "1 answers repeat a question already answered; each is scored") || !strings.Contains(w, "1 questions have no answer; the accuracy is over the 3 answers") {
		t.Errorf("repeated and missing answers: %+v %v %q", r, err, r.Warnings())
	}
	_, pf = files(t, anns, answers)
	if r, err := Score(qf, pf, af); err != nil || r.N != 3 {
		t.Errorf("complete: %v %v", r, err)
	}
	// Ground truth with 9 answers is refused (the script asserts 10).
	af2, pf2 := files(t, []ann{{"img3", "what beer is this?", rep("ale", 9)}}, answers[2:])
	if _, err := Score("", pf2, af2); !errors.Is(err, input.ErrInvalid) {
		t.Errorf("9 answers: %v", err)
	}
}
