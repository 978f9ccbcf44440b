package textvqa

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/tive-dev/tive/benchmarks/internal/testenv"
)

// FuzzScore feeds arbitrary annotation and answer files to the scorer.
func FuzzScore(f *testing.F) {
	ann := []byte(`{"data": [{"image_id": "i1", "question": "what is it?", "answers": ["a", "b", "c", "d", "e", "f", "g", "h", "i", "nokia"]}]}`)
	f.Add(ann, []byte(`{"question_id": "i1", "prompt": "What is it?\nReference OCR token: X\nAnswer.", "text": "Nokia"}`+"\n"))
	f.Add(ann, []byte(`{"question_id": "i1", "prompt": "OCR tokens: x Question: what is it? Short answer:", "text": "a"}`))
	f.Add([]byte(`{"data": []}`), []byte(`{}`))
	f.Fuzz(func(t *testing.T, annotations, answers []byte) {
		dir := t.TempDir()
		af := filepath.Join(dir, "val.json")
		pf := filepath.Join(dir, "a.jsonl")
		os.WriteFile(af, annotations, 0o644)
		os.WriteFile(pf, answers, 0o644)
		r, err := Score("", pf, af)
		testenv.Typed(t, err)
		if err == nil {
			testenv.Finite(t, r.Headline(), r.Metrics())
		}
	})
}
