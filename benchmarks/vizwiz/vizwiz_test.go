package vizwiz

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

func answers(counts ...any) []map[string]string {
	var out []map[string]string
	for i := 0; i < len(counts); i += 2 {
		for range counts[i+1].(int) {
			out = append(out, map[string]string{"answer": counts[i].(string), "answer_confidence": "yes"})
		}
	}
	return out
}

func TestScoreAndUpload(t *testing.T) {
	dir := t.TempDir()
	anns := []map[string]any{
		{"image": "v0.jpg", "answers": answers("unanswerable", 6, "blurry", 4), "answer_type": "unanswerable"},
		{"image": "v1.jpg", "answers": answers("coca cola", 2, "coke", 8), "answer_type": "other"},
		{"image": "v2.jpg", "answers": answers("don't know", 10), "answer_type": "other"},
		{"image": "v3.jpg", "answers": answers("2", 5, "two", 5), "answer_type": "number"},
		{"image": "v4.jpg", "answers": answers("yes", 3, "no", 7), "answer_type": "yes/no"},
	}
	b, _ := json.Marshal(anns)
	af := filepath.Join(dir, "val.json")
	os.WriteFile(af, b, 0o644)
	preds := []string{"Unanswerable", "Coca-Cola", "dont know", "two", "yes"}
	var q, a strings.Builder
	for i, p := range preds {
		fmt.Fprintf(&q, `{"question_id": %d, "image": "v%d.jpg", "text": "Q?"}`+"\n", i, i)
		fmt.Fprintf(&a, `{"question_id": %d, "text": %q}`+"\n", i, p)
	}
	qf := filepath.Join(dir, "q.jsonl")
	pf := filepath.Join(dir, "a.jsonl")
	os.WriteFile(qf, []byte(q.String()), 0o644)
	os.WriteFile(pf, []byte(a.String()), 0o644)
	r, err := Score(qf, pf, af)
	if err != nil {
		t.Fatal(err)
	}
	// In LLaVA's flow the m4c upload turns "dont" into "don't", which the
	// raw ground truth matches; the evaluator alone would give 0 (vqa tests).
	if r.Overall != 90 || r.AnswerType["other"] != 80 || r.AnswerType["number"] != 100 {
		t.Errorf("report %+v", r)
	}
	up := filepath.Join(dir, "upload.json")
	if err := WriteUpload(up, qf, pf); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(up)
	want := `[{"image": "v0.jpg", "answer": "unanswerable"}, {"image": "v1.jpg", "answer": "coca cola"}, {"image": "v2.jpg", "answer": "don't know"}, {"image": "v3.jpg", "answer": "2"}, {"image": "v4.jpg", "answer": "yes"}]`
	if string(got) != want {
		t.Errorf("upload %s", got)
	}
	// As the script's dict of results: the last answer counts, unknown ids
	// are never looked up.
	clean, _ := Score(qf, pf, af)
	lines := strings.SplitAfter(a.String(), "\n")
	for _, tt := range []struct {
		name, body        string
		replaced, ignored int
	}{
		{"unknown", a.String() + `{"question_id": 9, "text": "x"}` + "\n", 0, 1},
		{"duplicate", `{"question_id": ` + strings.SplitN(strings.SplitN(lines[0], ": ", 2)[1], ",", 2)[0] + `, "text": "wrong"}` + "\n" + a.String(), 1, 0},
	} {
		os.WriteFile(pf, []byte(tt.body), 0o644)
		r, err := Score(qf, pf, af)
		if err != nil || r.Overall != clean.Overall || r.Replaced != tt.replaced || r.Ignored != tt.ignored || len(r.Warnings()) != 1 {
			t.Errorf("%s: %+v %v, warnings %q; want overall %v", tt.name, r, err, r.Warnings(), clean.Overall)
		}
	}
	// Lines json.loads cannot read are skipped, as the script's error_line.
	os.WriteFile(pf, []byte("{oops\n"+a.String()+"\n"), 0o644)
	if r, err := Score(qf, pf, af); err != nil || r.Skipped != 2 || r.Overall != clean.Overall {
		t.Errorf("bad lines: %+v %v", r, err)
	}
	// Bad input.
	for _, tt := range []struct {
		name, body string
		kind       error
	}{
		{"missing", strings.Join(lines[1:], ""), input.ErrMissing},
		{"empty", "", input.ErrEmpty},
	} {
		os.WriteFile(pf, []byte(tt.body), 0o644)
		if _, err := Score(qf, pf, af); !errors.Is(err, tt.kind) {
			t.Errorf("%s: %v, want %v", tt.name, err, tt.kind)
		}
	}
}
