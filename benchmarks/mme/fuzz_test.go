package mme

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tive-dev/tive/benchmarks/internal/testenv"
)

func FuzzParse(f *testing.F) {
	for _, s := range []string{"Yes", "  yes", "nah", "no", "ééno", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if p := Parse(s); p != "yes" && p != "no" && p != "other" {
			t.Fatalf("Parse(%q) = %q", s, p)
		}
	})
}

// FuzzScore feeds an arbitrary ground-truth file (for the "existence"
// subtask) and answer file to the converter and the calculation.
func FuzzScore(f *testing.F) {
	var good strings.Builder
	for _, cat := range append(append([]string{}, Perception...), Cognition...) {
		good.WriteString(`{"question_id": "` + cat + `/1.png", "prompt": "Q1?\nAnswer the question using a single word or phrase.", "text": "Yes"}` + "\n")
		good.WriteString(`{"question_id": "` + cat + `/1.png", "prompt": "Q2?\nAnswer the question using a single word or phrase.", "text": "No"}` + "\n")
	}
	f.Add([]byte("Q1? Please answer yes or no.\tYes\nQ2?  Please answer yes or no.\tNo\n"), []byte(good.String()))
	f.Add([]byte("Q1? Please answer yes or no.\tMaybe\nQ2? Please answer yes or no.\tNo\n"), []byte(good.String()))
	f.Add([]byte("Q1?\n"), []byte(`{"question_id": "count/1.png", "prompt": "Q1?", "text": "Yes"}`))
	f.Fuzz(func(t *testing.T, gtFile, answers []byte) {
		dir := t.TempDir()
		root := filepath.Join(dir, "MME")
		for _, cat := range append(append([]string{}, Perception...), Cognition...) {
			os.MkdirAll(filepath.Join(root, cat), 0o755)
			body := []byte("Q1? Please answer yes or no.\tYes\nQ2?  Please answer yes or no.\tNo\n")
			if cat == "existence" {
				body = gtFile
			}
			os.WriteFile(filepath.Join(root, cat, "1.txt"), body, 0o644)
		}
		a := filepath.Join(dir, "a.jsonl")
		os.WriteFile(a, answers, 0o644)
		r, err := Score("", a, root)
		testenv.Typed(t, err)
		if err == nil {
			testenv.Finite(t, r.Headline(), r.Metrics())
			if r.Perception < 0 || r.Perception > 2000 || r.Cognition < 0 || r.Cognition > 800 {
				t.Fatalf("totals out of range: %v %v", r.Perception, r.Cognition)
			}
		}
	})
}
