package gqa

import (
	"os"
	"path/filepath"
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
		dir := t.TempDir()
		af := filepath.Join(dir, "q.json")
		pf := filepath.Join(dir, "a.jsonl")
		os.WriteFile(af, questions, 0o644)
		os.WriteFile(pf, answers, 0o644)
		r, err := Score("", pf, af)
		testenv.Typed(t, err)
		if err == nil {
			testenv.Finite(t, r.Headline(), r.Metrics())
		}
	})
}
