package benchmarks_test

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/tive-dev/tive/benchmarks"
)

// Scoring a POPE answer file: two questions of the random split, one
// answered "Yes" (right) and one "No" (right).
func ExampleLookup() {
	dir, _ := os.MkdirTemp("", "pope")
	defer os.RemoveAll(dir)
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, []byte(body), 0o644)
		return p
	}
	q := write("llava_pope_test.jsonl", `{"question_id": 1, "category": "random"}
{"question_id": 2, "category": "random"}
`)
	a := write("answers.jsonl", `{"question_id": 1, "text": "Yes"}
{"question_id": 2, "text": "No"}
`)
	write("coco/coco_pope_random.json", `{"label": "yes"}
{"label": "no"}
`)
	s, err := benchmarks.Lookup("pope")
	if err != nil {
		panic(err)
	}
	res, err := s.Score(benchmarks.Files{Questions: q, Answers: a, Annotations: filepath.Join(dir, "coco")})
	if err != nil {
		panic(err)
	}
	fmt.Printf("%s %.1f (%s) random/yes_ratio=%.2f\n", res.Benchmark, res.Score, s.Describe(), res.Metrics["random/yes_ratio"])
	// Output: pope 100.0 (POPE: mean F1 over categories x100) random/yes_ratio=0.50
}
