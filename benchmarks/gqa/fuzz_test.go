package gqa

import (
	"testing"

	"github.com/tive-dev/tive/benchmarks/internal/testenv"
)

// FuzzScore feeds arbitrary question and answer files to the scorer.
func FuzzScore(f *testing.F) {
	qs := []byte(`{"1": {"answer": "yes", "isBalanced": true, "types": {"structural": "verify", "semantic": "obj"}}, "2": {"answer": "no", "isBalanced": false}}`)
	f.Add(qs, []byte(`{"question_id": "1", "text": "Yes."}`+"\n"))
	f.Add(qs, []byte(`{"question_id": 1, "text": "Yes."}`))
	f.Add([]byte(`{}`), []byte(`{"question_id": "1", "text": ""}`))
	f.Fuzz(func(t *testing.T, questions, answers []byte) {
		p := testenv.Files(t, map[string][]byte{"q.json": questions, "a.jsonl": answers})
		r, err := Score("", p("a.jsonl"), p("q.json"))
		testenv.Scored(t, r, err)
	})
}
