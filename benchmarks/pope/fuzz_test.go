package pope

import (
	"os"
	"path/filepath"
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
		dir := t.TempDir()
		q := filepath.Join(dir, "q.jsonl")
		a := filepath.Join(dir, "a.jsonl")
		os.WriteFile(q, questions, 0o644)
		os.WriteFile(a, answers, 0o644)
		os.MkdirAll(filepath.Join(dir, "coco"), 0o755)
		os.WriteFile(filepath.Join(dir, "coco", "coco_pope_random.json"), labels, 0o644)
		r, err := Score(q, a, filepath.Join(dir, "coco"))
		testenv.Typed(t, err)
		if err == nil {
			testenv.Finite(t, r.Headline(), r.Metrics())
		}
	})
}
