package main

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// llavaEval finds ../shared/llava-eval beside the repository root. CI has
// it, so its absence fails the test.
func llavaEval(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		if filepath.Dir(dir) == dir {
			t.Fatal("no go.mod above the test")
		}
		dir = filepath.Dir(dir)
	}
	pack := filepath.Join(dir, "..", "shared", "llava-eval")
	if _, err := os.Stat(filepath.Join(pack, "EXPECTED.json")); err != nil {
		t.Fatalf("the shared LLaVA evaluation pack is missing: %v", err)
	}
	return pack
}

// TestScoreReproducesExpected runs tive score --json on every EXPECTED.md
// case and checks the headline at the published precision and in full.
func TestScoreReproducesExpected(t *testing.T) {
	pack := llavaEval(t)
	p := func(s string) string { return filepath.Join(pack, s) }
	tests := []struct {
		args    []string
		printed string
		full    float64 // NaN where the official code itself rounds
		metric  string  // one sub-metric to check
		value   float64
	}{
		{[]string{"--bench", "pope", "--questions", p("pope/llava_pope_test.jsonl"), "--answers", p("pope/answers/llava-v1.5-13b.jsonl"), "--annotations", p("pope/coco")},
			"85.9", 85.94688090539112, "random/f1", 0.8713601179506082},
		{[]string{"--bench", "scienceqa", "--questions", p("scienceqa/llava_test_CQM-A.json"), "--answers", p("scienceqa/answers/llava-v1.5-13b.jsonl"), "--annotations", p("scienceqa")},
			"71.6", 71.64105106593951, "accuracy", 74.39283187927376},
		{[]string{"--bench", "mmbench", "--questions", p("mmbench/mmbench_dev_20230712.tsv"), "--answers", p("mmbench/answers/mmbench_dev_20230712/llava-v1.5-13b.jsonl"), "--annotations", p("mmbench/mmbench_dev_20230712.tsv")},
			"67.7", 67.68707482993197, "hits", 796},
		{[]string{"--bench", "mme", "--questions", p("MME/llava_mme.jsonl"), "--answers", p("MME/answers/llava-v1.5-13b.jsonl"), "--annotations", p("MME/MME_Benchmark_release_version")},
			"1531.3", 1531.3187274909965, "cognition", 295.3571428571429},
		{[]string{"--bench", "llavabench", "--answers", p("llava-bench-in-the-wild/answers/llava-v1.5-7b.jsonl"), "--annotations", p("llava-bench-in-the-wild/reviews")},
			"65.4", 65.43333333333334, "run1/all/relative", 64.7},
		{[]string{"--bench", "llavabench", "--answers", p("llava-bench-in-the-wild/answers/llava-v1.5-13b.jsonl"), "--annotations", p("llava-bench-in-the-wild/reviews")},
			"72.5", 72.53333333333333, "run3/all/relative", 72.1},
		{[]string{"--bench", "mmvet", "--questions", p("mm-vet/llava-mm-vet.jsonl"), "--answers", p("mm-vet/answers/llava-v1.5-7b.jsonl"), "--annotations", p("mm-vet")},
			"31.1", math.NaN(), "run2", 30.8},
		{[]string{"--bench", "mmvet", "--answers", p("mm-vet/answers/llava-v1.5-13b.jsonl"), "--annotations", p("mm-vet/results/llava-v1.5-13b_gpt-4-grade-1runs.json")},
			"36.1", math.NaN(), "capability/spat", 34.7},
	}
	for _, tt := range tests {
		code, stdout, stderr := runTive(t, append([]string{"score", "--json"}, tt.args...)...)
		if code != 0 {
			t.Errorf("tive score %v: exit %d: %s", tt.args[1], code, stderr)
			continue
		}
		var res struct {
			Benchmark string
			Score     float64
			Metrics   map[string]float64
		}
		if err := json.Unmarshal([]byte(stdout), &res); err != nil || strings.Count(stdout, "\n") != 1 {
			t.Errorf("%s: stdout is not one JSON object: %v\n%s", tt.args[1], err, stdout)
			continue
		}
		if res.Benchmark != tt.args[1] {
			t.Errorf("benchmark %q, want %q", res.Benchmark, tt.args[1])
		}
		if got := fmt.Sprintf("%.1f", res.Score); got != tt.printed {
			t.Errorf("%s: score %s, want %s", tt.args[1], got, tt.printed)
		}
		if !math.IsNaN(tt.full) && math.Abs(res.Score-tt.full) > 1e-9 {
			t.Errorf("%s: score %v, want %v", tt.args[1], res.Score, tt.full)
		}
		if v, ok := res.Metrics[tt.metric]; !ok || math.Abs(v-tt.value) > 1e-9 {
			t.Errorf("%s: %s = %v, want %v", tt.args[1], tt.metric, v, tt.value)
		}
	}
}

func TestScoreTable(t *testing.T) {
	pack := llavaEval(t)
	code, stdout, stderr := runTive(t, "score", "--bench", "llavabench",
		"--answers", filepath.Join(pack, "llava-bench-in-the-wild/answers/llava-v1.5-7b.jsonl"),
		"--annotations", filepath.Join(pack, "llava-bench-in-the-wild/reviews"))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{"metric", "score (LLaVA-Bench", "65.4333", "run1/all/relative", "64.7"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("table lacks %q:\n%s", want, stdout)
		}
	}
}

func TestScoreErrors(t *testing.T) {
	dir := t.TempDir()
	answers := filepath.Join(dir, "answers.jsonl")
	os.WriteFile(answers, []byte(`{"question_id": 1, "text": "Yes"}`+"\n"+`{"question_id": 1, "text`+"\n"), 0o644)
	questions := filepath.Join(dir, "q.jsonl")
	os.WriteFile(questions, []byte(`{"question_id": 1, "category": "random"}`+"\n"), 0o644)
	tests := []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"score"}, 2, "--bench is required"},
		{[]string{"score", "--bench", "nope", "--answers", answers}, 2, `unknown benchmark "nope"`},
		{[]string{"score", "--bench", "pope", "--questions", questions}, 2, "--answers is required"},
		{[]string{"score", "--bench", "pope", "--answers", answers}, 2, "--annotations is required"},
		{[]string{"score", "--bench", "pope", "--answers", answers, "extra"}, 2, `unexpected argument "extra"`},
		{[]string{"score", "--bench", "pope", "--questions", questions, "--answers", answers, "--annotations", dir}, 1, "answers.jsonl:2: bad JSON"},
		{[]string{"score", "--bench", "pope", "--answers", answers, "--export", filepath.Join(dir, "x")}, 2, "pope has no upload format"},
	}
	for _, tt := range tests {
		code, _, stderr := runTive(t, tt.args...)
		if code != tt.code || !strings.Contains(stderr, tt.msg) {
			t.Errorf("tive %v: exit %d, stderr %q; want %d and %q", tt.args, code, stderr, tt.code, tt.msg)
		}
	}
}

func TestScoreExport(t *testing.T) {
	dir := t.TempDir()
	q := filepath.Join(dir, "q.jsonl")
	a := filepath.Join(dir, "a.jsonl")
	os.WriteFile(q, []byte(`{"question_id": 5, "image": "x.jpg", "text": "Q?"}`+"\n"+`{"question_id": 6, "image": "y.jpg", "text": "Q?"}`+"\n"), 0o644)
	os.WriteFile(a, []byte(`{"question_id": 5, "text": "Two."}`+"\n"), 0o644)
	out := filepath.Join(dir, "upload.json")
	code, _, stderr := runTive(t, "score", "--bench", "vqav2", "--questions", q, "--answers", a, "--export", out)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	got, _ := os.ReadFile(out)
	if want := `[{"question_id": 5, "answer": "2"}, {"question_id": 6, "answer": ""}]`; string(got) != want {
		t.Errorf("upload %s, want %s", got, want)
	}
}
