package benchmarks

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tive-dev/tive/benchmarks/internal/testenv"
)

func TestNames(t *testing.T) {
	want := "gqa llavabench mmbench mmbench-cn mme mmvet pope scienceqa seed textvqa vizwiz vqav2"
	if got := strings.Join(Names(), " "); got != want {
		t.Errorf("Names() = %s", got)
	}
	if _, err := Lookup("nope"); err == nil || !strings.Contains(err.Error(), "valid: gqa") {
		t.Errorf("Lookup(nope): %v", err)
	}
	for _, n := range []string{"vqav2", "vizwiz", "mmbench", "mmbench-cn", "seed", "mme"} {
		s, _ := Lookup(n)
		if _, ok := s.(Exporter); !ok {
			t.Errorf("%s is not an Exporter", n)
		}
	}
}

// cases reproduces every headline of EXPECTED.md through the registry, at
// the printed precision and at full precision where EXPECTED.json has it.
var cases = []struct {
	Bench, Questions, Answers, Annotations string
	Printed                                string  // headline at the published precision
	Full                                   float64 // full-precision headline; NaN when the official code rounds
}{
	{"pope", "pope/llava_pope_test.jsonl", "pope/answers/llava-v1.5-13b.jsonl", "pope/coco", "85.9", 85.94688090539112},
	{"scienceqa", "scienceqa/llava_test_CQM-A.json", "scienceqa/answers/llava-v1.5-13b.jsonl", "scienceqa", "71.6", 71.64105106593951},
	{"mmbench", "mmbench/mmbench_dev_20230712.tsv", "mmbench/answers/mmbench_dev_20230712/llava-v1.5-13b.jsonl", "mmbench/mmbench_dev_20230712.tsv", "67.7", 67.68707482993197},
	{"mme", "MME/llava_mme.jsonl", "MME/answers/llava-v1.5-13b.jsonl", "MME/MME_Benchmark_release_version", "1531.3", 1531.3187274909965},
	{"llavabench", "", "llava-bench-in-the-wild/answers/llava-v1.5-7b.jsonl", "llava-bench-in-the-wild/reviews", "65.4", 65.43333333333334},
	{"llavabench", "", "llava-bench-in-the-wild/answers/llava-v1.5-13b.jsonl", "llava-bench-in-the-wild/reviews", "72.5", 72.53333333333333},
	{"mmvet", "mm-vet/llava-mm-vet.jsonl", "mm-vet/answers/llava-v1.5-7b.jsonl", "mm-vet", "31.1", math.NaN()},
	{"mmvet", "mm-vet/llava-mm-vet.jsonl", "mm-vet/answers/llava-v1.5-13b.jsonl", "mm-vet/results/llava-v1.5-13b_gpt-4-grade-1runs.json", "36.1", math.NaN()},
}

func TestExpected(t *testing.T) {
	pack := testenv.LlavaEval(t)
	join := func(p string) string {
		if p == "" {
			return ""
		}
		return filepath.Join(pack, p)
	}
	for _, c := range cases {
		s, err := Lookup(c.Bench)
		if err != nil {
			t.Fatal(err)
		}
		res, err := s.Score(Files{Questions: join(c.Questions), Answers: join(c.Answers), Annotations: join(c.Annotations)})
		if err != nil {
			t.Errorf("%s %s: %v", c.Bench, c.Answers, err)
			continue
		}
		if got := fmt.Sprintf("%.1f", res.Score); got != c.Printed {
			t.Errorf("%s %s: %s, want %s", c.Bench, c.Answers, got, c.Printed)
		}
		if !math.IsNaN(c.Full) && math.Abs(res.Score-c.Full) > 1e-9 {
			t.Errorf("%s %s: %v, want %v", c.Bench, c.Answers, res.Score, c.Full)
		}
		if res.Benchmark != c.Bench || len(res.Metrics) == 0 {
			t.Errorf("%s: result %+v", c.Bench, res)
		}
	}
}

func TestErrorsExported(t *testing.T) {
	dir := t.TempDir()
	a := filepath.Join(dir, "a.jsonl")
	os.WriteFile(a, []byte("{bad\n"), 0o644)
	s, _ := Lookup("seed")
	_, err := s.Score(Files{Answers: a, Annotations: filepath.Join(dir, "none.json")})
	if err == nil {
		t.Fatal("no error")
	}
	os.WriteFile(filepath.Join(dir, "SEED-Bench.json"), []byte(`{"questions": [{"question_id": "1", "answer": "A", "data_type": "image", "question_type_id": 1}]}`), 0o644)
	_, err = s.Score(Files{Answers: a, Annotations: filepath.Join(dir, "SEED-Bench.json")})
	var se *SyntaxError
	if !errors.As(err, &se) || se.Line != 1 {
		t.Errorf("want a SyntaxError at line 1, got %v", err)
	}
	os.WriteFile(a, nil, 0o644)
	_, err = s.Score(Files{Answers: a, Annotations: filepath.Join(dir, "SEED-Bench.json")})
	if !errors.Is(err, ErrEmpty) {
		t.Errorf("want ErrEmpty, got %v", err)
	}
}
