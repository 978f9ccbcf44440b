package textvqa

import (
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
		p := testenv.Files(t, map[string][]byte{"val.json": annotations, "a.jsonl": answers})
		r, err := Score("", p("a.jsonl"), p("val.json"))
		testenv.Scored(t, r, err)
	})
}
