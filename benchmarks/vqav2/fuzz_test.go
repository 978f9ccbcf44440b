package vqav2

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/tive-dev/tive/benchmarks/internal/testenv"
)

// FuzzScore feeds arbitrary annotation and answer files to the scorer.
func FuzzScore(f *testing.F) {
	ann := []byte(`{"annotations": [{"question_id": 1, "question_type": "is the", "answer_type": "yes/no", "answers": [{"answer": "yes", "answer_id": 1}, {"answer": "no", "answer_id": 2}]}]}`)
	f.Add(ann, []byte(`{"question_id": 1, "text": "Yes"}`+"\n"))
	f.Add(ann, []byte(`{"question_id": "1", "text": "Yes"}`))
	f.Add([]byte(`{"annotations": [{"question_id": 1, "answers": [{"answer": 3}]}]}`), []byte(`{"question_id": 1, "text": ""}`))
	f.Fuzz(func(t *testing.T, annotations, answers []byte) {
		dir := t.TempDir()
		qf := filepath.Join(dir, "q.jsonl")
		af := filepath.Join(dir, "annotations.json")
		pf := filepath.Join(dir, "a.jsonl")
		os.WriteFile(qf, []byte(`{"question_id": 1, "image": "x.jpg", "text": "Q?"}`+"\n"), 0o644)
		os.WriteFile(af, annotations, 0o644)
		os.WriteFile(pf, answers, 0o644)
		r, err := Score(qf, pf, af)
		testenv.Typed(t, err)
		if err == nil {
			testenv.Finite(t, r.Headline(), r.Metrics())
		}
	})
}
