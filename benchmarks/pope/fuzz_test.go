package pope

import (
	"testing"

	"github.com/tive-dev/tive/benchmarks/internal/testenv"
)

// FuzzScore feeds arbitrary answer and label files to the scorer: it must
// score them or refuse them with a typed error, never panic or print NaN.
func FuzzScore(f *testing.F) {
	f.Add([]byte(`{"question_id": 1, "text": "Yes"}`+"\n"+`{"question_id": 2, "text": "No"}`+"\n"), []byte(`{"label": "yes"}`+"\n"+`{"label": "no"}`+"\n"))
	f.Add([]byte(`{"question_id": 1, "text": "no"}`+"\n"+`{"question_id": 2, "text": "NO."}`), []byte(`{"label": "no"}`+"\n"+`{"label": "no"}`))
	f.Add([]byte(`{"question_id": 2, "text": ""}`), []byte(`{"label": 1}`))
	questions := []byte(`{"question_id": 1, "category": "random"}` + "\n" + `{"question_id": 2, "category": "random"}` + "\n")
	f.Fuzz(func(t *testing.T, answers, labels []byte) {
		p := testenv.Files(t, map[string][]byte{"q.jsonl": questions, "a.jsonl": answers, "coco/coco_pope_random.json": labels})
		r, err := Score(p("q.jsonl"), p("a.jsonl"), p("coco"))
		testenv.Scored(t, r, err)
	})
}
