package scienceqa

import (
	"testing"

	"github.com/tive-dev/tive/benchmarks/internal/testenv"
)

func FuzzParseAnswer(f *testing.F) {
	for _, s := range []string{"A", "B. x", "The answer is C.", "The answer is B. The answer is B.", "(B)", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p := ParseAnswer(s)
		if p != Failed && (len(p) != 1 || p[0] < 'A' || p[0] > 'Z') {
			t.Fatalf("ParseAnswer(%q) = %q", s, p)
		}
	})
}

// FuzzScore feeds arbitrary problems.json and answer files to the scorer.
func FuzzScore(f *testing.F) {
	f.Add([]byte(`{"p1": {"choices": ["a", "b"], "answer": 0, "image": "image.png"}, "p2": {"choices": ["a", "b"], "answer": 1, "image": null}}`),
		[]byte(`{"question_id": "p1", "prompt": "<image>\nQ", "text": "A"}`+"\n"))
	f.Add([]byte(`{"p1": {"choices": [], "answer": 7}, "p2": {}}`), []byte(`{"question_id": "p2", "prompt": "Q", "text": "The answer is A."}`))
	f.Add([]byte(`[]`), []byte(``))
	f.Fuzz(func(t *testing.T, problems, answers []byte) {
		p := testenv.Files(t, map[string][]byte{"problems.json": problems, "pid_splits.json": []byte(`{"test": ["p1", "p2"]}`), "a.jsonl": answers})
		r, err := Score("", p("a.jsonl"), p(""))
		testenv.Scored(t, r, err)
	})
}
