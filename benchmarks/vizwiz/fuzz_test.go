package vizwiz

import (
	"testing"

	"github.com/tive-dev/tive/benchmarks/internal/testenv"
)

// FuzzScore feeds arbitrary val.json and answer files to the scorer.
func FuzzScore(f *testing.F) {
	ann := []byte(`[{"image": "v0.jpg", "answers": [{"answer": "yes"}, {"answer": "no"}], "answer_type": "yes/no"}]`)
	f.Add(ann, []byte(`{"question_id": 0, "text": "Yes"}`+"\n"))
	f.Add(ann, []byte(`{"question_id": 1, "text": "Yes"}`))
	f.Add([]byte(`[{"image": "v0.jpg", "answers": []}]`), []byte(`{"question_id": 0, "text": ""}`))
	f.Fuzz(func(t *testing.T, annotations, answers []byte) {
		p := testenv.Files(t, map[string][]byte{"q.jsonl": []byte(`{"question_id": 0, "image": "v0.jpg", "text": "Q?"}` + "\n"), "val.json": annotations, "a.jsonl": answers})
		r, err := Score(p("q.jsonl"), p("a.jsonl"), p("val.json"))
		testenv.Scored(t, r, err)
	})
}
