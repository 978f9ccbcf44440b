package mmbench

import (
	"bytes"
	"testing"

	"github.com/tive-dev/tive/benchmarks/internal/testenv"
)

func FuzzCanInfer(f *testing.F) {
	f.Add("A dog", "cat", "dog", "bird", "")
	f.Add("The answer is (C).", "1", "2", "3", "4")
	f.Add("Cannot determine the answer", "x", "y", "", "")
	f.Fuzz(func(t *testing.T, answer, a, b, c, d string) {
		choices := map[string]string{}
		for i, o := range []string{a, b, c, d} {
			if !IsNA(o) {
				choices[string(rune('A'+i))] = o
			}
		}
		got := CanInfer(answer, choices)
		if _, ok := choices[got]; got != "" && got != "Z" && !ok {
			t.Fatalf("CanInfer(%q, %v) = %q, not a choice", answer, choices, got)
		}
	})
}

func FuzzReadTSV(f *testing.F) {
	f.Add([]byte("index\tquestion\tA\tB\tanswer\n0\tq\tx\ty\tA\n1000000\tq\ty\tx\tB\n"))
	f.Add([]byte("index\tquestion\tA\tB\tC\tD\tanswer\n1\t\"a\nb\"\t\"x\"\"y\"\tz\t\t\tA\n"))
	f.Add([]byte("index\tA\tB\tanswer\nzero\tx\ty\tA\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := readTSV(bytes.NewReader(data), "dev.tsv")
		testenv.Typed(t, err)
		if err == nil {
			r := Evaluate(s, map[int64]string{})
			if r.Groups > 0 {
				testenv.Finite(t, r.Headline(), r.Metrics())
			}
		}
	})
}

// FuzzScore feeds arbitrary answer files to the scorer on a fixed TSV.
func FuzzScore(f *testing.F) {
	f.Add([]byte(`{"question_id": 0, "text": "B"}` + "\n" + `{"question_id": 1000000, "text": "A"}` + "\n"))
	f.Add([]byte(`{"question_id": 1, "text": "nan"}`))
	f.Add([]byte(`{"question_id": "0", "text": "B"}`))
	tsv := []byte("index\tquestion\tA\tB\tC\tD\tanswer\tcategory\n0\tq\tcat\tdog\t\t\tB\tfoo\n1000000\tq\tdog\tcat\t\t\tA\tfoo\n1\tq2\tx\ty\tNA\t\tA\tbar\n")
	f.Fuzz(func(t *testing.T, answers []byte) {
		p := testenv.Files(t, map[string][]byte{"dev.tsv": tsv, "a.jsonl": answers})
		r, err := Score(p("dev.tsv"), p("a.jsonl"), p("dev.tsv"))
		testenv.Scored(t, r, err)
	})
}
