package world

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/tive-dev/tive/benchmarks"
)

var (
	scoredOnce sync.Once
	scoredDir  string
	scoredErr  error
)

// scoredWorld is one tiny shapes world shared by the scorer tests.
func scoredWorld(t *testing.T) string {
	scoredOnce.Do(func() {
		scoredDir, scoredErr = os.MkdirTemp("", "tive-world-scorers-")
		if scoredErr == nil {
			scoredErr = Generate(context.Background(), Config{Seed: 11, Profile: "tiny", Assets: "shapes"}, scoredDir, nil)
		}
	})
	if scoredErr != nil {
		t.Fatal(scoredErr)
	}
	return scoredDir
}

func score(t *testing.T, dir, suite string, ans []Answer) float64 {
	t.Helper()
	p := filepath.Join(t.TempDir(), suite+".jsonl")
	if err := WriteAnswers(p, ans); err != nil {
		t.Fatal(err)
	}
	s, err := benchmarks.Lookup(suite)
	if err != nil {
		t.Fatal(err)
	}
	f, err := Files(dir, suite)
	if err != nil {
		t.Fatal(err)
	}
	res, err := s.Score(benchmarks.Files{Questions: f.Questions, Answers: p, Annotations: f.Annotations})
	if err != nil {
		t.Fatalf("%s: %v", suite, err)
	}
	return res.Score
}

// maxScore is each suite's best headline: MME is the perception sum of ten
// subtasks scored out of 200, the others are percentages.
func maxScore(suite string) float64 {
	if suite == "mme" {
		return 2000
	}
	return 100
}

// TestOracleScoresMaximum: the oracle answer file of every suite gets the
// maximum from that benchmark's official scorer.
func TestOracleScoresMaximum(t *testing.T) {
	dir := scoredWorld(t)
	for _, suite := range Suites() {
		ans, err := OracleAnswers(suite, filepath.Join(dir, "benchmarks", suite))
		if err != nil {
			t.Fatal(err)
		}
		if got := score(t, dir, suite, ans); math.Abs(got-maxScore(suite)) > 1e-9 {
			t.Errorf("%s: oracle scores %v, want %v", suite, got, maxScore(suite))
		}
	}
}

// TestConstantScoresChance: a constant answer file scores what chance
// gives it, computed from the ground truth independently of the scorer.
func TestConstantScoresChance(t *testing.T) {
	dir := scoredWorld(t)
	for _, tc := range []struct {
		suite, text string
		want        func(oracle []Answer) float64
	}{
		// POPE: half the labels are yes, so always-yes has precision 1/2, recall 1, F1 2/3.
		{"pope", "Yes", func([]Answer) float64 { return 200.0 / 3 }},
		// MME: one yes and one no per image: acc 1/2, acc+ 0, 50 per subtask.
		{"mme", "Yes", func([]Answer) float64 { return 500 }},
		// MMBench CircularEval: a constant letter never gets every rotation right.
		{"mmbench", "A", func([]Answer) float64 { return 0 }},
		// Multiple choice: the share of questions whose answer is A.
		{"seed", "A", share("A")},
		{"gqa", "Yes", share("Yes")},
		// TextVQA: a word no annotator wrote scores nothing.
		{"textvqa", "xylophone", func([]Answer) float64 { return 0 }},
		// VizWiz: VQA accuracy of "unanswerable" against each question's ten answers.
		{"vizwiz", "Unanswerable", func([]Answer) float64 { return vizwizUnanswerable(t, dir) }},
	} {
		d := filepath.Join(dir, "benchmarks", tc.suite)
		oracle, err := OracleAnswers(tc.suite, d)
		if err != nil {
			t.Fatal(err)
		}
		ans, err := ConstantAnswers(tc.suite, d, tc.text)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := score(t, dir, tc.suite, ans), tc.want(oracle); math.Abs(got-want) > 1e-9 {
			t.Errorf("%s: constant %q scores %v, want chance %v", tc.suite, tc.text, got, want)
		}
	}
	// ScienceQA-IMG: the share of image questions whose answer is A.
	d := filepath.Join(dir, "benchmarks", "scienceqa")
	oracle, _ := OracleAnswers("scienceqa", d)
	ans, _ := ConstantAnswers("scienceqa", d, "A")
	var img, a float64
	for _, o := range oracle {
		if len(o.Prompt) > 7 && o.Prompt[:7] == "<image>" {
			img++
			if o.Text == "A" {
				a++
			}
		}
	}
	if got := score(t, dir, "scienceqa", ans); math.Abs(got-100*a/img) > 1e-9 {
		t.Errorf("scienceqa: constant A scores %v, want %v", got, 100*a/img)
	}
}

// share returns the percentage of oracle answers equal to text.
func share(text string) func([]Answer) float64 {
	return func(oracle []Answer) float64 {
		n := 0
		for _, o := range oracle {
			if o.Text == text {
				n++
			}
		}
		return 100 * float64(n) / float64(len(oracle))
	}
}

func vizwizUnanswerable(t *testing.T, dir string) float64 {
	var items []vizwizItem
	b, err := os.ReadFile(filepath.Join(dir, "benchmarks", "vizwiz", "Annotations", "val.json"))
	if err != nil || json.Unmarshal(b, &items) != nil {
		t.Fatal(err)
	}
	sum := 0.0
	for _, it := range items {
		k := 0
		for _, a := range it.Answers {
			if a.Answer == "unanswerable" {
				k++
			}
		}
		sum += []float64{0, 0.3, 0.6, 0.9, 1, 1, 1, 1, 1, 1, 1}[k]
	}
	return 100 * sum / float64(len(items))
}
