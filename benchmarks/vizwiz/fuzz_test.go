package vizwiz

import (
	"os"
	"path/filepath"
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
		dir := t.TempDir()
		qf := filepath.Join(dir, "q.jsonl")
		af := filepath.Join(dir, "val.json")
		pf := filepath.Join(dir, "a.jsonl")
		os.WriteFile(qf, []byte(`{"question_id": 0, "image": "v0.jpg", "text": "Q?"}`+"\n"), 0o644)
		os.WriteFile(af, annotations, 0o644)
		os.WriteFile(pf, answers, 0o644)
		r, err := Score(qf, pf, af)
		testenv.Typed(t, err)
		if err == nil {
			testenv.Finite(t, r.Headline(), r.Metrics())
		}
	})
}
