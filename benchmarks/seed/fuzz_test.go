package seed

import (
	"testing"

	"github.com/tive-dev/tive/benchmarks/internal/testenv"
)

// FuzzScore feeds arbitrary SEED-Bench.json and answer files to the scorer
// and the upload writer.
func FuzzScore(f *testing.F) {
	bench := []byte(`{"question_type": {"Scene Understanding": 1}, "questions": [{"answer": "A", "data_type": "image", "question_id": "1", "question_type_id": 1}, {"answer": "B", "data_type": "video", "question_id": "v2", "question_type_id": 10}]}`)
	f.Add(bench, []byte(`{"question_id": 1, "text": "A"}`+"\n"+`{"question_id": "v2", "text": "B"}`+"\n"))
	f.Add(bench, []byte(`{"question_id": "1", "text": "A"}`))
	f.Add([]byte(`{"questions": [{"question_id": 5}]}`), []byte(`{"question_id": 5, "text": ""}`))
	f.Fuzz(func(t *testing.T, annotations, answers []byte) {
		p := testenv.Files(t, map[string][]byte{"SEED-Bench.json": annotations, "a.jsonl": answers})
		r, err := Score("", p("a.jsonl"), p("SEED-Bench.json"))
		testenv.Scored(t, r, err)
		testenv.Typed(t, WriteUpload(p("up.jsonl"), p("a.jsonl"), p("SEED-Bench.json")))
	})
}
