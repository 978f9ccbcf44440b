package vqav2

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

func gt(counts ...any) []map[string]any {
	var out []map[string]any
	for i := 0; i < len(counts); i += 2 {
		for range counts[i+1].(int) {
			out = append(out, map[string]any{"answer": counts[i], "answer_confidence": "yes", "answer_id": len(out) + 1})
		}
	}
	return out
}

func raw(t *testing.T, v []map[string]any) []map[string]json.RawMessage {
	b, _ := json.Marshal(v)
	var out []map[string]json.RawMessage
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// The vqaEval vectors of scoring.md §10, on the evaluator alone.
func TestAccuracyVectors(t *testing.T) {
	tests := []struct {
		pred string
		gt   []map[string]any
		want float64
	}{
		{"Yes", gt("yes", 10), 0},
		{"yes", gt("yes", 10), 1},
		{"Yes", gt("yes", 9, "no", 1), 1},
		{"2", gt("2", 4, "two", 6), 1},
		{"Two", gt("2", 4, "two", 6), 1},
	}
	sum := 0.0
	for _, tt := range tests {
		got := Accuracy(tt.pred, raw(t, tt.gt))
		if got != tt.want {
			t.Errorf("%q: %v, want %v", tt.pred, got, tt.want)
		}
		sum += got
	}
	if sum/5*100 != 80 {
		t.Errorf("overall %v, want 80", sum/5*100)
	}
	// Without answer_ids, equal entries leave the leave-one-out set together,
	// as Python's dict comparison makes them.
	noID := []map[string]any{}
	for _, a := range gt("x", 2, "y", 8) {
		delete(a, "answer_id")
		noID = append(noID, a)
	}
	if got := Accuracy("x", raw(t, noID)); got != 8*(2.0/3)/10 {
		t.Errorf("identical entries: %v", got)
	}
}

func TestScoreAndUpload(t *testing.T) {
	dir := t.TempDir()
	anns := []map[string]any{
		{"question_id": 1, "question_type": "is the", "answer_type": "yes/no", "answers": gt("yes", 10)},
		{"question_id": 2, "question_type": "how many", "answer_type": "number", "answers": gt("2", 4, "two", 6)},
		{"question_id": 3, "question_type": "what", "answer_type": "other", "answers": gt("red", 10)},
	}
	b, _ := json.Marshal(map[string]any{"annotations": anns})
	os.WriteFile(filepath.Join(dir, "v2_mscoco_val2014_annotations.json"), b, 0o644)
	var q strings.Builder
	for i := 1; i <= 3; i++ {
		fmt.Fprintf(&q, `{"question_id": %d, "image": "x.jpg", "text": "Q?"}`+"\n", i)
	}
	qf := filepath.Join(dir, "q.jsonl")
	os.WriteFile(qf, []byte(q.String()), 0o644)
	pf := filepath.Join(dir, "a.jsonl")
	// "Yes" is uploaded as "yes" by LLaVA's m4c step, so it scores; 3 has no answer: "".
	os.WriteFile(pf, []byte(`{"question_id": 1, "text": "Yes"}`+"\n"+`{"question_id": 2, "text": "Two"}`+"\n"), 0o644)
	r, err := Score(qf, pf, dir)
	if err != nil {
		t.Fatal(err)
	}
	if r.Overall != 66.67 || r.Missing != 1 || r.AnswerType["other"] != 0 || r.QuestionType["how many"] != 100 {
		t.Errorf("report %+v", r)
	}
	up := filepath.Join(dir, "upload.json")
	if err := WriteUpload(up, qf, pf); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(up)
	if want := `[{"question_id": 1, "answer": "yes"}, {"question_id": 2, "answer": "2"}, {"question_id": 3, "answer": ""}]`; string(got) != want {
		t.Errorf("upload %s", got)
	}
	// As the script's dict of results: the last answer counts, unknown ids
	// are never looked up (their questions upload "").
	for _, tt := range []struct {
		name, body                 string
		missing, replaced, ignored int
	}{
		{"unknown", `{"question_id": 9, "text": "x"}` + "\n", 3, 0, 1},
		{"duplicate", `{"question_id": 1, "text": "x"}` + "\n" + `{"question_id": 1, "text": "x"}` + "\n", 2, 1, 0},
	} {
		os.WriteFile(pf, []byte(tt.body), 0o644)
		r, err := Score(qf, pf, dir)
		if err != nil || r.Missing != tt.missing || r.Replaced != tt.replaced || r.Ignored != tt.ignored || len(r.Warnings()) != 1 {
			t.Errorf("%s: %+v %v, warnings %q", tt.name, r, err, r.Warnings())
		}
	}
	// Lines json.loads cannot read are skipped, as the script's error_line.
	os.WriteFile(pf, []byte("{oops\n\n"+`{"question_id": 1, "text": "x"}`+"\n"), 0o644)
	if r, err := Score(qf, pf, dir); err != nil || r.Skipped != 2 || r.Missing != 2 || !strings.Contains(strings.Join(r.Warnings(), "\n"), "2 lines that are not JSON (or blank) were skipped") {
		t.Errorf("bad lines: %+v %v", r, err)
	}
	for _, tt := range []struct {
		name, body string
		kind       error
	}{
		{"empty", "", input.ErrEmpty},
	} {
		os.WriteFile(pf, []byte(tt.body), 0o644)
		if _, err := Score(qf, pf, dir); !errors.Is(err, tt.kind) {
			t.Errorf("%s: %v, want %v", tt.name, err, tt.kind)
		}
	}
	// A question that is not annotated is refused (vqaEval asserts equal sets).
	os.WriteFile(qf, []byte(q.String()+`{"question_id": 4, "image": "x.jpg", "text": "Q?"}`+"\n"), 0o644)
	os.WriteFile(pf, []byte(`{"question_id": 1, "text": "x"}`+"\n"), 0o644)
	if _, err := Score(qf, pf, dir); !errors.Is(err, input.ErrUnknown) {
		t.Errorf("unannotated question: %v", err)
	}
}
