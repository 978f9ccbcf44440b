package seed

import (
	"os"
	"path/filepath"
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
		dir := t.TempDir()
		af := filepath.Join(dir, "SEED-Bench.json")
		pf := filepath.Join(dir, "a.jsonl")
		os.WriteFile(af, annotations, 0o644)
		os.WriteFile(pf, answers, 0o644)
		r, err := Score("", pf, af)
		testenv.Typed(t, err)
		if err == nil {
			testenv.Finite(t, r.Headline(), r.Metrics())
		}
		testenv.Typed(t, WriteUpload(filepath.Join(dir, "up.jsonl"), pf, af))
	})
}
