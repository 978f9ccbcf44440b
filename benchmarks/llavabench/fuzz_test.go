package llavabench

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/tive-dev/tive/benchmarks/internal/testenv"
)

func FuzzParseScore(f *testing.F) {
	for _, s := range []string{"8 7", "9,6", "8  7", "10 9\nok", "nan inf", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) { ParseScore(s) })
}

// FuzzScore feeds arbitrary review files to the summary.
func FuzzScore(f *testing.F) {
	f.Add([]byte(`{"question_id": 0, "category": "conv", "content": "8 7\nok"}` + "\n" + `{"question_id": 1, "category": "detail", "tuple": [9, 6]}` + "\n"))
	f.Add([]byte(`{"question_id": 0, "score": [1, 2]}`))
	f.Add([]byte(`{"question_id": 0, "category": "conv", "tuple": [0, 1]}`))
	f.Fuzz(func(t *testing.T, reviews []byte) {
		p := filepath.Join(t.TempDir(), "m-eval1.jsonl")
		os.WriteFile(p, reviews, 0o644)
		r, err := Score("", "", p)
		testenv.Typed(t, err)
		_ = r
	})
}
