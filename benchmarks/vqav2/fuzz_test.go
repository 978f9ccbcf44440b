package vqav2

import (
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
		p := testenv.Files(t, map[string][]byte{"q.jsonl": []byte(`{"question_id": 1, "image": "x.jpg", "text": "Q?"}` + "\n"), "annotations.json": annotations, "a.jsonl": answers})
		r, err := Score(p("q.jsonl"), p("a.jsonl"), p("annotations.json"))
		testenv.Scored(t, r, err)
	})
}
